"""Errors a person can act on. The CLI prints them as one line and exits non-zero."""


class FypError(Exception):
    """Base: its message is shown to the person as is, with no traceback."""

    exit_code = 1


class UsageError(FypError):
    """Bad input: an unknown scenario key, a bad number, a bad file."""

    exit_code = 2


class StoreError(FypError):
    """The database is missing, corrupt, not a fyp-tui world, or from a newer build."""


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
