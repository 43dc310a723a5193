"""How a failure reads for the person: a title and one line, never a traceback."""

from __future__ import annotations

from fyp_tui.errors import FypError, StoreError, WorldDamagedError, WorldLockedError


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(title, one-line message) for the person; never a traceback."""
    if isinstance(exc, WorldDamagedError):
        return "The world is damaged", str(exc)
    if isinstance(exc, WorldLockedError):
        return "The world is open elsewhere", str(exc)
    if isinstance(exc, StoreError):
        return "Database problem", str(exc)
    if isinstance(exc, FypError):
        return "Cannot do that", str(exc)
    try:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return "Database problem", first[:300]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, OSError):
        return "File problem", str(exc)
    return "Unexpected error", f"{type(exc).__name__}: {exc}"[:300]
