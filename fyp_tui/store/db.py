"""Engine set-up, the schema-version check, and the per-world process lock.

One :func:`make_engine` for the whole program; nothing connects at import time.
SQLite connections get ``foreign_keys=ON``, ``journal_mode=WAL``,
``synchronous=NORMAL`` and a ``busy_timeout`` through a ``connect`` event, so every
pooled connection (worker threads included) behaves the same.

Importing this module does not import SQLAlchemy (a quarter of a second): opening
a SQLite world on the app's way to its first card goes through
:func:`connect_sqlite` (the stdlib driver, the same pragmas) and
:func:`check_world`, and SQLAlchemy loads when something first needs an engine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fyp_tui import config
from fyp_tui.errors import StoreError, UsageError, WorldLockedError
from fyp_tui.store.schema import PG_STORAGE, SCHEMA_VERSION, TABLE_COLUMNS
from fyp_tui.text import clip

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 10_000

#: modes of the files fyp-tui creates (worlds, locks: a person's viewing history is
#: theirs alone) and of the directories it makes for them
FILE_MODE = 0o600
DIR_MODE = 0o700


def make_dirs(path: Path) -> None:
    """``mkdir -p`` with the last directory private (0700) when it is made here."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)


def db_errors() -> tuple[type[BaseException], ...]:
    """``(DBAPIError, sqlite3.DatabaseError)`` for an ``except`` clause, without importing
    SQLAlchemy: while it is not loaded, none of its errors can be raised."""
    exc = sys.modules.get("sqlalchemy.exc")
    return (sqlite3.DatabaseError,) if exc is None else (exc.DBAPIError, sqlite3.DatabaseError)


def db_errors_and(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """:func:`db_errors` and ``more``, as one tuple for an ``except`` clause."""
    return (*db_errors(), *more)


def sqlalchemy_errors() -> tuple[type[BaseException], ...]:
    """``(SQLAlchemyError,)`` if SQLAlchemy is loaded, else ``()`` (an ``except`` that matches nothing)."""
    exc = sys.modules.get("sqlalchemy.exc")
    return () if exc is None else (exc.SQLAlchemyError,)


# -- URLs ---------------------------------------------------------------------------------
def resolve_url(db: str | None) -> str:
    """``--db`` value -> SQLAlchemy URL. None: ``$FYP_TUI_DB``, else the default file.

    A bare path becomes ``sqlite:///<absolute path>``; anything with ``://`` is taken
    as a SQLAlchemy URL (checked, UsageError if malformed). A SQLite file no world
    can live at (a NUL byte, a name too long for its lock and temp files, ``~nouser``,
    a symbolic-link loop) is a UsageError.
    """
    if db is None:
        db = config.db_from_env()
    if db is None:
        return f"sqlite:///{_usable(config.default_db_path(), str(config.default_db_path()))}"
    db = db.strip()
    if not db:
        raise UsageError("--db is empty")
    if "://" in db:
        try:
            if plain_sqlite_path(db) is None:
                from sqlalchemy.engine import make_url
                from sqlalchemy.exc import ArgumentError

                try:
                    make_url(db)
                except (ArgumentError, ValueError) as exc:
                    raise UsageError(f"--db: not a valid database URL: {clip(db)} ({clip(exc)})") from None
            path = sqlite_path(db)
        except RuntimeError:  # sqlite:///~nouser/x.db
            raise UsageError(f"--db: cannot expand the ~ in {clip(db)} (no such user or home directory)") from None
        if path is not None:
            _usable(path, db)
        return db
    if "\0" in db:
        raise UsageError(f"--db: a path cannot contain a NUL byte: {clip(db)!r}")
    try:
        path = Path(db).expanduser()
    except RuntimeError:
        raise UsageError(
            f"--db: cannot expand {clip(db.split('/', 1)[0])!r} (no such user or home directory)"
        ) from None
    try:
        resolved = path.resolve()
    except RuntimeError:  # Python < 3.13: a loop of symbolic links
        raise UsageError(f"--db: symbolic link loop at {clip(db)}") from None
    except OSError as exc:
        raise UsageError(f"--db: cannot use {clip(db)}: {exc.strerror or exc}") from None
    return f"sqlite:///{_usable(resolved, db)}"


#: a world file's name leaves room for ".<name>.<pid>.tmp-journal" (the seed's temp
#: file) within the usual 255-byte limit on a file name
MAX_NAME_BYTES = 255 - 24
MAX_PATH_BYTES = 4000


def _usable(path: Path, given: str) -> Path:
    """``path`` if a world, its lock and its temp files can live there; else UsageError."""
    import errno

    text = str(path)
    if "\0" in text:
        raise UsageError(f"--db: a path cannot contain a NUL byte: {clip(given)!r}")
    try:
        raw, name = os.fsencode(text), os.fsencode(path.name)
    except UnicodeError:  # a lone surrogate no file system name can hold
        raise UsageError(f"--db: not a valid file name: {clip(given)!r}") from None
    if not name or path.name in (".", ".."):
        raise UsageError(f"--db: {clip(given)} names a directory, not a database file")
    if len(name) > MAX_NAME_BYTES:
        raise UsageError(f"--db: file name too long ({len(name):,} bytes; at most {MAX_NAME_BYTES}): {clip(given)}")
    if len(raw) > MAX_PATH_BYTES or any(len(os.fsencode(part)) > 255 for part in path.parts):
        raise UsageError(f"--db: path too long: {clip(given)}")
    try:
        os.lstat(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"--db: symbolic link loop at {clip(given)}") from None
        if exc.errno == errno.ENAMETOOLONG:
            raise UsageError(f"--db: cannot use {clip(given)}: {exc.strerror}") from None
    return path


def given_path(db: str | None) -> Path | None:
    """The world file as ``db`` names it (None: ``$FYP_TUI_DB`` or the default),
    absolute but with symbolic links not resolved (:func:`resolve_url` resolves
    them); None for a URL that names no file."""
    url = resolve_url(db)
    if db is None:
        db = config.db_from_env()
    if db is None or "://" in db:
        return sqlite_path(url)
    return Path(os.path.abspath(Path(db.strip()).expanduser()))


_PLAIN_SQLITE = "sqlite:///"


def plain_sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///<path>`` URL (no driver, query or %-escapes),
    read without SQLAlchemy; None for any other URL (:func:`sqlite_path` asks
    SQLAlchemy then). What :func:`resolve_url` makes of a path is always plain,
    unless the path holds a ``?`` or a ``%``."""
    if not url.startswith(_PLAIN_SQLITE):
        return None
    db = url[len(_PLAIN_SQLITE) :]
    if not db or db == ":memory:" or db.startswith("file:") or "?" in db or "%" in db:
        return None
    return Path(db).expanduser()


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for in-memory SQLite or other databases."""
    plain = plain_sqlite_path(url)
    if plain is not None:
        return plain
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    db = u.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).expanduser()


def describe(url: str) -> str:
    """A short, password-free name for messages: the file path or the URL."""
    p = sqlite_path(url)
    if p is not None:
        return str(p)
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# -- engine -------------------------------------------------------------------------------
def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    _reader_pragmas(dbapi_conn, _record)
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    finally:
        cur.close()


def _reader_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """The pragmas that write nothing: a reader never turns the file it opens into
    WAL mode (a seeded world already is one; any other file, an empty one or
    someone's own SQLite database, stays byte for byte as it was)."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def make_engine(url: str | None = None, *, readonly: bool = False, **kwargs: Any) -> Engine:
    """The SQLAlchemy engine for ``url`` (None: :func:`resolve_url` default).

    For a SQLite file the parent directory is created (the file itself is created
    by SQLite on the first write). ``readonly``: for a caller that only reads (the
    journal mode is left as the file has it).
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    url = resolve_url(url) if url is None or "://" not in url else url
    path = sqlite_path(url)
    if path is not None:
        try:
            make_dirs(path.parent)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot use database {describe(url)}: {error_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _reader_pragmas if readonly else _sqlite_pragmas)
    return engine


def error_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc)
    return msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__


# -- schema check -------------------------------------------------------------------------
def connect_sqlite(path: Path, url: str, *, readonly: bool = False) -> sqlite3.Connection:
    """A stdlib connection to the world file at ``path`` with :func:`make_engine`'s
    pragmas: what opening a world reads through before SQLAlchemy is loaded.

    Usable from any thread (the caller serialises its use). A file that cannot be
    opened, or is not SQLite: :class:`StoreError` with one line.
    """
    try:
        conn = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.DatabaseError as exc:
        raise _read_error(exc, describe(url)) from None
    try:
        (_reader_pragmas if readonly else _sqlite_pragmas)(conn, None)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _read_error(exc, describe(url)) from None
    except BaseException:
        conn.close()
        raise
    return conn


class _SqliteCatalog:
    """Tables, columns and the meta row, over a stdlib SQLite connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.dbapi = conn

    def tables(self) -> set[str]:
        rows = self.dbapi.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.dbapi.execute(f'PRAGMA table_info("{table}")').fetchall()}

    def meta_row(self) -> dict[str, Any] | None:
        cur = self.dbapi.execute("SELECT * FROM world_meta WHERE id = 1")
        try:
            row = cur.fetchone()
            return None if row is None else dict(zip((d[0] for d in cur.description), row))
        finally:
            cur.close()


class _EngineCatalog:
    """The same, over a SQLAlchemy connection (any database)."""

    def __init__(self, conn: Any) -> None:
        from sqlalchemy import inspect

        self.conn = conn
        self.dbapi = conn.connection.dbapi_connection
        self._insp = inspect(conn)
        self._columns: dict[str, set[str]] | None = None

    def tables(self) -> set[str]:
        return set(self._insp.get_table_names())

    def columns(self, table: str) -> set[str]:
        if self.conn.dialect.name != "postgresql":
            return {c["name"] for c in self._insp.get_columns(table)}
        if self._columns is None:  # every table's in one query (reflecting each is a round trip or more)
            from sqlalchemy import text

            self._columns = {}
            rows = self.conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema()"
                )
            )
            for name, column in rows:
                self._columns.setdefault(name, set()).add(column)
        return self._columns.get(table, set())

    def meta_row(self) -> dict[str, Any] | None:
        from sqlalchemy import text

        row = self.conn.execute(text("SELECT * FROM world_meta WHERE id = 1")).mappings().first()
        return None if row is None else dict(row)


def check_world(source: Engine | sqlite3.Connection, url: str) -> dict[str, Any]:
    """Refuse anything but a complete fyp-tui world this build can read; return its meta row.

    ``source``: the world's SQLAlchemy engine, or a stdlib connection from
    :func:`connect_sqlite`. Missing file, not SQLite / corrupt, not a fyp-tui
    database, missing tables or columns, schema newer than this build:
    :class:`StoreError` with one line.
    """
    where = describe(url)
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StoreError(f"no world at {where} (run `fyp-tui seed` to create one)")
    try:
        if isinstance(source, sqlite3.Connection):
            meta = _check_catalog(_SqliteCatalog(source), where)
        else:
            with source.connect() as conn:
                meta = _check_catalog(_EngineCatalog(conn), where)
    except StoreError:
        raise
    except db_errors() as exc:
        raise _read_error(exc, where) from None
    except sqlalchemy_errors() as exc:
        raise StoreError(f"cannot read {where}: {error_line(exc)}") from None
    try:
        meta["settings"] = json.loads(meta.get("settings_json") or "{}")
    except (ValueError, TypeError, RecursionError):  # not JSON, not text (bytes in another encoding), too deep
        raise StoreError(f"{where} is corrupt (world_meta.settings_json is not JSON)") from None
    _check_meta(meta, where)
    return meta


def _check_catalog(cat: _SqliteCatalog | _EngineCatalog, where: str) -> dict[str, Any]:
    names = cat.tables()
    if "world_meta" not in names:
        raise StoreError(f"{where} is not a fyp-tui world (no world_meta table)")
    row = cat.meta_row()
    if row is None or row.get("app") != "fyp-tui":
        raise StoreError(f"{where} is not a fyp-tui world (no fyp-tui meta row)")
    version = row.get("schema_version")
    if not isinstance(version, int):
        raise StoreError(f"{where} is not a fyp-tui world (bad schema version {version!r})")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{where} has schema version {version}, newer than this fyp-tui reads ({SCHEMA_VERSION}); upgrade fyp-tui"
        )
    if version < SCHEMA_VERSION:
        migrate(cat.dbapi, version, where)  # raises StoreError when no migration exists
        row = cat.meta_row() or row  # (the version it has now)
    missing = sorted(set(TABLE_COLUMNS) - names)
    if missing:
        raise StoreError(f"{where} is not a complete fyp-tui world (missing tables: {', '.join(missing)})")
    # every column of every table this build writes must be there (a hand-edited or
    # half-migrated file otherwise fails later, in the middle of a command)
    for name, columns in sorted(TABLE_COLUMNS.items()):
        have = cat.columns(name)
        lost = [c for c in columns if c not in have]
        if lost:
            raise StoreError(f"{where} is not a complete fyp-tui world (table {name} lacks column {lost[0]})")
    return dict(row)


def _read_error(exc: BaseException, where: str) -> StoreError:
    """A database error met while opening or checking a world, as one line."""
    if _cannot_open(exc):
        return StoreError(f"cannot open {where}: {error_line(exc)} (check the file's and its directory's permissions)")
    return StoreError(f"{where} is corrupt or not a SQLite database ({error_line(exc)})")


def _cannot_open(exc: BaseException) -> bool:
    return "unable to open database file" in str(getattr(exc, "orig", exc))


#: a simulated clock past this (over 100,000 years) is a damaged world, not a long run
MAX_CLOCK_HOURS = 1e9


def _check_meta(meta: dict[str, Any], where: str) -> None:
    """The world_meta row's values have the types and ranges the program relies on."""

    def bad(what: str) -> StoreError:
        return StoreError(f"{where} is corrupt (world_meta.{what})")

    if not isinstance(meta["settings"], dict):
        raise bad("settings_json is not a JSON object")
    clock = meta.get("clock")
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 0 <= clock <= MAX_CLOCK_HOURS:
        raise bad(f"clock is {clock!r}, not a number of hours between 0 and {MAX_CLOCK_HOURS:g}")
    seed = meta.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise bad(f"seed is {seed!r}, not an integer >= 0")
    if not isinstance(meta.get("scenario"), str):
        raise bad(f"scenario is {meta.get('scenario')!r}, not a name")


def _column_names(dbapi_conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in dbapi_conn.execute(f'PRAGMA table_info("{table}")').fetchall()}


def _v1_to_v2(dbapi_conn: Any) -> None:
    """Version 2: ``tier_event.instead``, what a credited decision would have done without
    the person ("moved up", "stalled", "waited"). Rows saved before have none (NULL):
    their credits keep the general wording. On PostgreSQL, the storage settings a v2
    world is seeded with (:data:`~fyp_tui.store.schema.PG_STORAGE`) come too."""
    cur = dbapi_conn.cursor()
    try:
        if isinstance(dbapi_conn, sqlite3.Connection):
            if not dbapi_conn.in_transaction:  # (DDL would otherwise commit alone, apart from the
                cur.execute("BEGIN IMMEDIATE")  # version; IMMEDIATE: a second opener waits, then sees it)
            if "instead" not in _column_names(dbapi_conn, "tier_event"):
                cur.execute("ALTER TABLE tier_event ADD COLUMN instead VARCHAR")
        else:  # (two openers at once: the second waits for the first's lock, then adds nothing)
            cur.execute("ALTER TABLE tier_event ADD COLUMN IF NOT EXISTS instead VARCHAR")
            for stmt in PG_STORAGE:
                cur.execute(stmt)
        cur.execute("UPDATE world_meta SET schema_version = 2 WHERE id = 1")
    finally:
        cur.close()
    dbapi_conn.commit()


#: schema_version -> function(dbapi_connection) upgrading it by one, in one transaction
#: of its own (the new version is written with the change, so a migration cut short
#: leaves the old version whole, and runs again on the next open)
MIGRATIONS: dict[int, Any] = {1: _v1_to_v2}


def migrate(dbapi_conn: Any, version: int, where: str = "world") -> None:
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StoreError(f"{where} has schema version {version}, which this fyp-tui cannot migrate (reseed it)")
        try:
            step(dbapi_conn)
        except db_errors() as exc:
            try:
                dbapi_conn.rollback()
            except db_errors():
                pass
            raise StoreError(
                f"cannot migrate {where} from schema version {version} to {version + 1}: {error_line(exc)}"
            ) from None
        version += 1


def quick_check(engine: Engine, url: str) -> None:
    """``PRAGMA quick_check`` (SQLite only): StoreError if the file is damaged."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except db_errors() as exc:
        raise StoreError(f"{describe(url)} is corrupt ({error_line(exc)})") from None
    if rows != ["ok"]:
        raise StoreError(f"{describe(url)} is corrupt ({rows[0] if rows else 'quick_check failed'})")


# -- the per-world process lock -----------------------------------------------------------
#: how a lock file is opened: never through a symbolic link (O_NOFOLLOW), never a
#: FIFO's blocking open (O_NONBLOCK), not inherited by children (O_CLOEXEC)
_LOCK_FLAGS = (
    os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


class WorldLock:
    """An exclusive ``flock`` on ``<db file>.lock``, held while a process owns a world.

    Other processes get :class:`WorldLockedError`; the OS drops the lock if the
    holder dies, so a crash never leaves a stale lock behind. For non-file URLs the
    lock file lives in the data directory, named after the URL.

    The lock file is created 0600 and opened without following a symbolic link;
    a link, a directory, a FIFO or a file with other hard links at its path is
    refused (:class:`StoreError`), so taking the lock never writes to another file.
    """

    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        if path is not None:
            self.path = path.with_name(path.name + ".lock")
        else:
            import hashlib

            digest = hashlib.sha1(url.encode()).hexdigest()[:16]
            self.path = config.data_dir() / "locks" / f"{digest}.lock"
        self.where = describe(url)
        self._fd: int | None = None

    def acquire(self) -> WorldLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
            return self
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = ""
            try:
                pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
                holder = f" (pid {pid})" if pid.isdigit() else ""
            except OSError:
                pass
            os.close(fd)
            raise WorldLockedError(f"world {self.where} is in use by another fyp-tui process{holder}") from None
        try:  # the holder's pid, for the message another process gets; not needed to lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:  # a full disk: the lock holds all the same
            pass
        self._fd = fd
        return self

    def _open(self) -> int:
        """The lock file's descriptor: a regular file with one link, opened without
        following a symbolic link; StoreError (one line) otherwise."""
        import errno
        import stat

        try:
            make_dirs(self.path.parent)
            fd = os.open(self.path, _LOCK_FLAGS, FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP or self.path.is_symlink():
                raise StoreError(
                    f"the world lock {self.path} is a symbolic link; refusing to follow it (remove it)"
                ) from None
            raise StoreError(f"cannot create the world lock {self.path}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
        except OSError as exc:  # pragma: no cover - fstat on an open descriptor
            os.close(fd)
            raise StoreError(f"cannot use the world lock {self.path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            os.close(fd)
            what = "not a regular file" if not stat.S_ISREG(st.st_mode) else "a file with other hard links"
            raise StoreError(f"the world lock {self.path} is {what}; refusing to use it (remove it)")
        return fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> WorldLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
