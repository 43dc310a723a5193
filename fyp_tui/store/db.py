"""Engine set-up, the schema-version check, and the per-world process lock.

One :func:`make_engine` for the whole program; nothing connects at import time.
SQLite connections get ``foreign_keys=ON``, ``journal_mode=WAL``,
``synchronous=NORMAL`` and a ``busy_timeout`` through a ``connect`` event, so every
pooled connection (worker threads included) behaves the same.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from fyp_tui import config
from fyp_tui.errors import StoreError, UsageError, WorldLockedError

BUSY_TIMEOUT_MS = 10_000


# -- URLs ---------------------------------------------------------------------------------
def resolve_url(db: str | None) -> str:
    """``--db`` value -> SQLAlchemy URL. None: ``$FYP_TUI_DB``, else the default file.

    A bare path becomes ``sqlite:///<absolute path>``; anything with ``://`` is taken
    as a SQLAlchemy URL (checked, UsageError if malformed).
    """
    if db is None:
        db = config.db_from_env()
    if db is None:
        return f"sqlite:///{config.default_db_path()}"
    db = db.strip()
    if not db:
        raise UsageError("--db is empty")
    if "://" in db:
        try:
            make_url(db)
        except ArgumentError as exc:
            raise UsageError(f"--db: not a valid database URL: {db} ({exc})") from None
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for in-memory SQLite or other databases."""
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
    return make_url(url).render_as_string(hide_password=True)


# -- engine -------------------------------------------------------------------------------
def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """The SQLAlchemy engine for ``url`` (None: :func:`resolve_url` default).

    For a SQLite file the parent directory is created (the file itself is created
    by SQLite on the first write).
    """
    url = resolve_url(url) if url is None or "://" not in url else url
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot use database {describe(url)}: {_one_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc)
    return msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__


# -- schema check -------------------------------------------------------------------------
def check_world(engine: Engine, url: str) -> dict[str, Any]:
    """Refuse anything but a complete fyp-tui world this build can read; return its meta row.

    Missing file, not SQLite / corrupt, not a fyp-tui database, missing tables,
    schema newer than this build: :class:`StoreError` with one line.
    """
    from sqlmodel import SQLModel

    from fyp_tui.store import models

    where = describe(url)
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StoreError(f"no world at {where} (run `fyp-tui seed` to create one)")
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            if "world_meta" not in names:
                raise StoreError(f"{where} is not a fyp-tui world (no world_meta table)")
            row = conn.execute(text("SELECT * FROM world_meta WHERE id = 1")).mappings().first()
            if row is None or row.get("app") != "fyp-tui":
                raise StoreError(f"{where} is not a fyp-tui world (no fyp-tui meta row)")
            version = row.get("schema_version")
            if not isinstance(version, int):
                raise StoreError(f"{where} is not a fyp-tui world (bad schema version {version!r})")
            if version > models.SCHEMA_VERSION:
                raise StoreError(
                    f"{where} has schema version {version}, newer than this fyp-tui reads "
                    f"({models.SCHEMA_VERSION}); upgrade fyp-tui"
                )
            if version < models.SCHEMA_VERSION:
                migrate(conn, version)  # raises StoreError when no migration exists
            missing = sorted(set(SQLModel.metadata.tables) - names)
            if missing:
                raise StoreError(f"{where} is not a complete fyp-tui world (missing tables: {', '.join(missing)})")
            _check_columns(conn, where)
            meta = dict(row)
    except StoreError:
        raise
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        if _cannot_open(exc):
            raise StoreError(f"cannot open {where}: {_one_line(exc)} (check the file's and its directory's permissions)") from None
        raise StoreError(f"{where} is corrupt or not a SQLite database ({_one_line(exc)})") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read {where}: {_one_line(exc)}") from None
    try:
        meta["settings"] = json.loads(meta.get("settings_json") or "{}")
    except (json.JSONDecodeError, TypeError):
        raise StoreError(f"{where} is corrupt (world_meta.settings_json is not JSON)") from None
    _check_meta(meta, where)
    return meta


def _cannot_open(exc: BaseException) -> bool:
    return "unable to open database file" in str(getattr(exc, "orig", exc))


def _check_columns(conn: Any, where: str) -> None:
    """Every column of every table this build writes must be there (a hand-edited or
    half-migrated file otherwise fails later, in the middle of a command)."""
    from sqlmodel import SQLModel

    insp = inspect(conn)
    for name, table in sorted(SQLModel.metadata.tables.items()):
        have = {c["name"] for c in insp.get_columns(name)}
        lost = [c.name for c in table.columns if c.name not in have]
        if lost:
            raise StoreError(f"{where} is not a complete fyp-tui world (table {name} lacks column {lost[0]})")


def _check_meta(meta: dict[str, Any], where: str) -> None:
    """The world_meta row's values have the types and ranges the program relies on."""
    import math

    def bad(what: str) -> StoreError:
        return StoreError(f"{where} is corrupt (world_meta.{what})")

    if not isinstance(meta["settings"], dict):
        raise bad("settings_json is not a JSON object")
    clock = meta.get("clock")
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not math.isfinite(clock) or clock < 0:
        raise bad(f"clock is {clock!r}, not a number of hours >= 0")
    seed = meta.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise bad(f"seed is {seed!r}, not an integer >= 0")
    if not isinstance(meta.get("scenario"), str):
        raise bad(f"scenario is {meta.get('scenario')!r}, not a name")


#: schema_version -> function(conn) upgrading it by one; none yet (version 1 is the first).
MIGRATIONS: dict[int, Any] = {}


def migrate(conn: Any, version: int) -> None:
    from fyp_tui.store.models import SCHEMA_VERSION

    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StoreError(f"world has schema version {version}, which this fyp-tui cannot migrate (reseed it)")
        step(conn)
        version += 1


def quick_check(engine: Engine, url: str) -> None:
    """``PRAGMA quick_check`` (SQLite only): StoreError if the file is damaged."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        raise StoreError(f"{describe(url)} is corrupt ({_one_line(exc)})") from None
    if rows != ["ok"]:
        raise StoreError(f"{describe(url)} is corrupt ({rows[0] if rows else 'quick_check failed'})")


# -- the per-world process lock -----------------------------------------------------------
class WorldLock:
    """An exclusive ``flock`` on ``<db file>.lock``, held while a process owns a world.

    Other processes get :class:`WorldLockedError`; the OS drops the lock if the
    holder dies, so a crash never leaves a stale lock behind. For non-file URLs the
    lock file lives in the data directory, named after the URL.
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the world lock {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = ""
            try:
                pid = os.pread(fd, 32, 0).decode().strip()
                holder = f" (pid {pid})" if pid.isdigit() else ""
            except OSError:
                pass
            os.close(fd)
            raise WorldLockedError(f"world {self.where} is in use by another fyp-tui process{holder}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

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
