"""A new world, written atomically: every table in one go into a temporary file that
is renamed into place (``fyp-tui seed``), so there is never a half-written world."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.world import (
    World,
)
from fyp_tui.errors import StoreError
from fyp_tui.store.bulk import RawConn, insert_columns, insert_rows, none_if_negative, utcnow
from fyp_tui.store.codecs import (
    CREATOR_COLS,
    array_row,
    interests_blob,
    settings_of,
    split_extra,
    tag_columns_of,
    video_columns,
)
from fyp_tui.store.db import (
    FILE_MODE,
    WorldLock,
    check_world,
    describe,
    error_line,
    given_path,
    make_dirs,
    make_engine,
    resolve_url,
    sqlite_path,
)
from fyp_tui.store.mirror import MIRROR_AUDIENCE, MIRROR_VIDEO, mirror_rows
from fyp_tui.store.schema import PG_STORAGE, SCHEMA_VERSION, TABLE_COLUMNS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


Progress = Callable[[str, int, int], None]

CHUNK = 100_000


def _write_world(conn: Any, world: World, report: Callable[[str, int], None]) -> None:
    """Insert every row of ``world`` (tables must exist and be empty)."""
    extra = world.extra
    n = world.n_videos
    insert_rows(conn, "topic", ("id", "name"), enumerate(world.topic_names))
    insert_rows(conn, "country", ("id", "code"), enumerate(world.country_codes))
    insert_rows(conn, "language", ("id", "code"), enumerate(world.language_codes))
    insert_rows(conn, "device", ("id", "name"), enumerate(world.device_names))
    report(
        "vocabularies", world.n_topics + len(world.country_codes) + len(world.language_codes) + len(world.device_names)
    )

    names = extra.get("creator_display_names") or world.creator_handles
    insert_rows(
        conn,
        "creator",
        CREATOR_COLS,
        zip(
            range(world.n_creators),
            world.creator_handles,
            names,
            world.creator_country.tolist(),
            world.creator_language.tolist(),
            world.creator_topic.tolist(),
            world.creator_followers.tolist(),
            world.creator_upload_rate.tolist(),
            world.creator_skill.tolist(),
        ),
    )
    report("creators", world.n_creators)
    artists = extra.get("sound_artists") or [""] * world.n_sounds
    insert_rows(
        conn,
        "sound",
        ("id", "title", "artist", "original", "trend"),
        zip(
            range(world.n_sounds),
            world.sound_titles,
            artists,
            world.sound_original.tolist(),
            world.sound_trend.tolist(),
        ),
    )
    report("sounds", world.n_sounds)
    insert_rows(
        conn,
        "hashtag",
        ("id", "name", "topic_id", "trend"),
        zip(
            range(world.n_hashtags),
            world.hashtag_names,
            none_if_negative(world.hashtag_topic),
            world.hashtag_trend.tolist(),
        ),
    )
    report("hashtags", world.n_hashtags)

    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        insert_columns(conn, "video", video_columns(world, lo, hi))
        report("videos", hi - lo)
    tags = world.video_tags[:n]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        insert_columns(conn, "video_hashtag", tag_columns_of(lo, tags[lo:hi]))
        report("video hashtags", int((tags[lo:hi] >= 0).sum()))

    blobs = interests_blob(world)
    N = world.n_viewers
    for lo in range(0, N, CHUNK * 2):
        hi = min(N, lo + CHUNK * 2)
        cols: dict[str, Any] = {
            "country_id": world.aud_country[lo:hi],
            "language_id": world.aud_language[lo:hi],
            "device_id": world.aud_device[lo:hi],
            "activity": world.aud_activity[lo:hi],
            "like_propensity": world.aud_like_prop[lo:hi],
            "interests": blobs[lo:hi],
        }
        if conn.dialect.name != "sqlite":
            insert_columns(conn, "audience", {"id": np.arange(lo, hi), **cols})
        else:  # ids are consecutive: after row 0, SQLite assigns max(id) + 1 itself (one bound value less)
            if lo == 0:
                insert_columns(conn, "audience", {"id": np.zeros(1, np.int64), **{k: v[:1] for k, v in cols.items()}})
                cols = {k: v[1:] for k, v in cols.items()}
            if len(cols["country_id"]):
                insert_columns(conn, "audience", cols)
        report("audience", hi - lo)

    _, arrays = split_extra(extra)
    state = [array_row("aud_pref", world.aud_pref)] + [array_row(f"extra:{k}", v) for k, v in arrays.items()]
    state += mirror_rows(
        {k: getattr(world, k)[:n] for k in MIRROR_VIDEO},
        world.n_viewers,
        {k: getattr(world, k) for k in MIRROR_AUDIENCE},
        clock=float(world.clock),
    )
    insert_rows(conn, "engine_state", ("name", "dtype", "shape", "data"), state)
    now = utcnow()
    insert_rows(
        conn,
        "world_meta",
        ("id", "schema_version", "app", "scenario", "seed", "clock", "created_at", "checkpointed_at", "settings_json"),
        [
            (
                1,
                SCHEMA_VERSION,
                "fyp-tui",
                world.scenario,
                int(world.seed),
                float(world.clock),
                now,
                now,
                json.dumps(settings_of(world), ensure_ascii=False),
            )
        ],
    )
    report("meta", 1)


def _total_rows(world: World) -> int:
    return (
        world.n_topics
        + len(world.country_codes)
        + len(world.language_codes)
        + len(world.device_names)
        + world.n_creators
        + world.n_sounds
        + world.n_hashtags
        + world.n_videos
        + int((world.video_tags[: world.n_videos] >= 0).sum())
        + world.n_viewers
        + 1
    )


def save_new_world(url: str | None, world: World, *, force: bool = False, progress: Progress | None = None) -> str:
    """Write ``world`` as a new database at ``url`` (None: the default); return the URL.

    SQLite files are written to a temporary file next to the target and renamed
    into place, so a crash never leaves a half-written world. An existing world
    (or any existing file) is refused unless ``force``; a world another process
    has open is refused with WorldLockedError even with ``force``. On success the
    world's videos count as saved (``video_dirty`` cleared, ``saved_videos`` set).
    """
    url = resolve_url(url)
    total = _total_rows(world)
    done = 0

    def report(label: str, rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(f"writing {label}", done, total)

    with WorldLock(url):
        path = sqlite_path(url)
        if path is not None:
            _save_sqlite_file(path, url, world, force=force, report=report)
        else:
            _save_other(url, world, force=force, report=report)
    world.video_dirty[:] = False
    world.saved_videos = world.n_videos
    world.saved_creators, world.saved_hashtags = world.n_creators, world.n_hashtags
    return url


def ensure_can_create(url: str | None, *, force: bool = False) -> str:
    """Fail early (before building a world) if ``save_new_world(url, ..., force=force)`` would refuse.

    Returns the resolved URL. StoreError: a world (or another file) is there and
    not ``force``; WorldLockedError: another process has that world open.
    """
    given = given_path(url)
    if given is not None:
        _refuse_special(given)  # a symbolic link as given, before resolving it
    url = resolve_url(url)
    with WorldLock(url):
        path = sqlite_path(url)
        if path is not None:
            _refuse_special(path)
            if path.exists() and not force:
                _refuse_existing(url, lambda: make_engine(url, readonly=True))
        elif _in_memory(url):
            raise StoreError(
                f"--db {describe(url)} is an in-memory database: a world seeded there is lost at once (give a file)"
            )
        elif not force:
            from sqlalchemy import inspect
            from sqlalchemy.exc import SQLAlchemyError

            engine = make_engine(url, readonly=True)
            try:
                with engine.connect() as conn:
                    exists = bool(inspect(conn).get_table_names())
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot use database {describe(url)}: {error_line(exc)}") from None
            finally:
                engine.dispose()
            if exists:
                _refuse_existing(url, lambda: make_engine(url, readonly=True))
    return url


def _in_memory(url: str) -> bool:
    """An in-memory SQLite URL (``sqlite://``, ``sqlite:///:memory:``, ``mode=memory``)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.get_backend_name() == "sqlite" and (u.database in (None, "", ":memory:") or "mode=memory" in url)


def _refuse_existing(url: str, engine_factory: Callable[[], Engine]) -> None:
    engine = engine_factory()
    try:
        meta = check_world(engine, url)
    except StoreError:
        raise StoreError(
            f"{describe(url)} already exists and is not a fyp-tui world; use --force to replace it"
        ) from None
    finally:
        engine.dispose()
    raise StoreError(
        f"a world already exists at {describe(url)} (scenario {meta['scenario']}, seed {meta['seed']}); "
        "use --force to replace it"
    )


def _refuse_special(path: Path) -> None:
    """A world is a regular file: never replace a directory, device, FIFO or socket
    (``--force --db /dev/null`` run as root would otherwise replace /dev/null), and
    never write through a symbolic link (``--force --db link.db`` would otherwise
    replace the file the link points to)."""
    if path.is_symlink():
        raise StoreError(
            f"{path} is a symbolic link; seed does not write through links "
            "(give the path it points to, or remove the link)"
        )
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file")
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file; refusing to replace it with a world")


def _remove_stale_temps(path: Path) -> None:
    """Temp files of seeds that were killed (SIGKILL, power loss) before they could
    clean up. Called with the world lock held, so no live seed is writing one."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith((".tmp", ".tmp-journal")):
            middle = name[len(prefix) :].split(".", 1)[0]
            if middle.isdigit():
                try:
                    (path.parent / name).unlink()
                except OSError:
                    pass


def _save_sqlite_file(path: Path, url: str, world: World, *, force: bool, report) -> None:
    _refuse_special(path)
    if path.exists() and not force:
        _refuse_existing(url, lambda: make_engine(url, readonly=True))
    try:
        make_dirs(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove_stale_temps(path)
    _unlink(tmp, tmp.with_name(tmp.name + "-journal"))
    try:
        # made here, private (SQLite keeps an existing file's mode, and gives its
        # -wal and -shm the same) and new: never a file planted at that name
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE))
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            # a private temp file: no journal, no fsync until the end, FKs checked by tests
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-200000")
            indexes = _create_schema(conn)
            conn.execute("BEGIN")
            _write_world(RawConn(conn), world, report)
            for stmt in indexes:
                conn.execute(stmt)
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: the world opens in WAL mode
        finally:
            conn.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # a stale WAL of the old file must never be replayed into the new one
        _unlink(path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except (sqlite3.Error, OSError) as exc:
        _unlink(tmp)
        raise StoreError(f"cannot write world to {path}: {error_line(exc)}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _save_other(url: str, world: World, *, force: bool, report) -> None:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import SQLModel

    from fyp_tui.store import models  # noqa: F401  (register tables)

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            exists = bool(inspect(conn).get_table_names())
        if exists and not force:
            _refuse_existing(url, lambda: make_engine(url, readonly=True))
        with engine.begin() as conn:
            if exists:
                SQLModel.metadata.drop_all(conn)
            SQLModel.metadata.create_all(conn)
            keys: list[tuple[str, str, str]] = []
            if conn.dialect.name == "postgresql":
                for stmt in PG_STORAGE:
                    conn.exec_driver_sql(stmt)
                keys = _drop_foreign_keys(conn)
            _write_world(conn, world, report)
            for table, name, definition in keys:  # each checked once, over its whole table
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write world to {describe(url)}: {error_line(exc)}") from None
    finally:
        engine.dispose()


def _drop_foreign_keys(conn: Any) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of the new, empty tables (PostgreSQL); return them as
    ``(table, name, definition)`` to be added back after the rows are in, in the same
    transaction. PostgreSQL's own advice for a bulk load ("Populating a Database"):
    adding a key checks it with one query over the table, where a key in place checks
    each row as it comes (a trigger per row and key: 300,000 for ``demo``'s audience).
    A row that breaks a key still fails the seed, and nothing of it is left."""
    keys = [
        (str(table), str(name), str(definition))
        for table, name, definition in conn.exec_driver_sql(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'f' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
            "ORDER BY c.relname, k.conname"
        )
        if table in TABLE_COLUMNS  # (only the world's own: other tables in the schema are left alone)
    ]
    for table, name, _ in keys:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    return keys


def _create_schema(conn: sqlite3.Connection) -> list[str]:
    """Run the CREATE TABLE statements of the SQLModel metadata on a raw sqlite3 connection;
    return the CREATE INDEX statements (cheaper to run after the bulk inserts)."""
    from sqlalchemy import create_mock_engine
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlmodel import SQLModel

    from fyp_tui.store import models  # noqa: F401  (register tables)

    stmts: list[str] = []
    dialect = sqlite_dialect.dialect()
    mock = create_mock_engine("sqlite://", lambda sql, *a, **k: stmts.append(str(sql.compile(dialect=dialect))))
    SQLModel.metadata.create_all(mock, checkfirst=False)
    indexes = [s for s in stmts if s.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))]
    for s in stmts:
        if s not in indexes:
            conn.execute(s)
    return indexes


def _unlink(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def insert_videos(conn: Any, world: World, lo: int, hi: int) -> None:
    """Insert video rows ``[lo, hi)`` and their hashtags on a SQLAlchemy connection
    (inside the caller's transaction); does not touch ``world.saved_videos``."""
    if hi <= lo:
        return
    insert_columns(conn, "video", video_columns(world, lo, hi))
    insert_columns(conn, "video_hashtag", tag_columns_of(lo, world.video_tags[lo:hi]))
