"""Errors a person can act on. The CLI prints them as one line and exits non-zero."""


class FypError(Exception):
    """Base: its message is shown to the person as is, with no traceback."""

    exit_code = 1


class UsageError(FypError):
    """Bad input: an unknown scenario key, a bad number, a bad file."""

    exit_code = 2


class StoreError(FypError):
    """The database is missing, corrupt, not a fyp-tui world, or from a newer build."""


class WorldDamagedError(StoreError):
    """The world file turned out damaged while it was in use (a page SQLite cannot read,
    met by a checkpoint, a read or a journal write after the world opened sound)."""


#: what SQLite (and PostgreSQL) say when a database's pages are damaged, lower case
DAMAGE_WORDS = (
    "database disk image is malformed",
    "file is not a database",
    "malformed database schema",
)
#: SQLite's result codes for it, and PostgreSQL's SQLSTATEs (data_corrupted, index_corrupted)
DAMAGE_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "XX001", "XX002")


def damage_of(exc: BaseException) -> str | None:
    """The database's own words if ``exc``, or an error it wraps or was raised from, says
    the database file is damaged (not busy, full or read-only); else None."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        text = " ".join(str(e).split())
        low = text.lower()
        for words in DAMAGE_WORDS:
            if words in low:
                return words
        code = getattr(e, "sqlite_errorname", None) or getattr(e, "sqlstate", None)
        if isinstance(code, str) and any(code.startswith(c) for c in DAMAGE_CODES):
            return text[:200] or code
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return None


class TooBigError(FypError):
    """A scenario's world would not fit in the memory this machine has free."""


class WorldLockedError(FypError):
    """Another process already owns this world's simulation."""


class Interrupted(BaseException):
    """A command got SIGINT, SIGTERM or SIGHUP. Raised by the CLI's signal handler and
    not an ``Exception``, so it unwinds like KeyboardInterrupt (``finally`` blocks,
    transaction rollbacks, temp-file removal) and ends as one line and exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
