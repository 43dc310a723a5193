"""World <-> database: save a new world, load it into arrays, checkpoint its deltas.

Everything here is bulk: rows go in through the DBAPI cursor's ``executemany``
on the SQLAlchemy connection (the same transaction; columns that hold one value
everywhere, like a new world's zero counters, become SQL literals), and come out
with one ``SELECT`` per table into numpy columns. The engine never queries SQL in
its hot path.

The rows are the truth. For speed, the video and audience arrays also live as a
columnar mirror in ``engine_state`` (``mirror:<array>`` blobs, rewritten by each
checkpoint in the same transaction); :meth:`WorldStore.load` uses the mirror only
when its check values (row counts and counter sums) match the tables, and reads
the rows otherwise. Loading 1M viewers from rows takes seconds, from the mirror a
fraction of one.

* :func:`save_new_world` (``fyp-tui seed``) writes a complete world into a
  temporary file and renames it into place: there is never a half-written world.
* :class:`WorldStore` opens an existing world (schema check, per-world process
  lock), loads it, and checkpoints it: ``snap = store.capture(world, events)``
  copies what changed (fast, under the caller's world lock), ``store.write(snap)``
  commits it in one transaction (slow part, fine in a worker thread).

World.extra round trip: ``engine``, ``world_settings``, ``description`` and
``caption_words_by_language`` live in ``world_meta.settings_json``;
``creator_display_names`` / ``sound_artists`` come from their tables; any other
key is saved too: numpy arrays as ``engine_state`` rows named ``extra:<key>``,
JSON-safe values under ``settings_json["extra"]`` (anything else is skipped).
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.events import Event, Promoted, Reignited, Stalled
from fyp_tui.engine.world import (
    N_SIGNALS,
    TAGS_PER_VIDEO,
    TOPICS_PER_VIEWER,
    VIDEO_ARRAYS,
    World,
    empty_video_arrays,
)
from fyp_tui.errors import StoreError
from fyp_tui.store.db import (
    FILE_MODE,
    WorldLock,
    _one_line,
    _plain_sqlite,
    check_world,
    connect_sqlite,
    db_errors,
    db_errors_and,
    describe,
    given_path,
    make_dirs,
    make_engine,
    resolve_url,
    sqlite_path,
)
from fyp_tui.store.schema import SCHEMA_VERSION, TABLE_COLUMNS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from fyp_tui.engine.viewer import PersonState

Progress = Callable[[str, int, int], None]

#: video columns holding World.video_counts / video_tier_counts, in Signal order
COUNT_COLS = (
    "views",
    "full_watches",
    "likes",
    "shares",
    "favourites",
    "comments",
    "follows",
    "skips",
    "not_interested",
)
TIER_COUNT_COLS = (
    "impressions_in_tier",
    "tier_full_watches",
    "tier_likes",
    "tier_shares",
    "tier_favourites",
    "tier_comments",
    "tier_follows",
    "tier_skips",
    "tier_not_interested",
)
assert len(COUNT_COLS) == len(TIER_COUNT_COLS) == N_SIGNALS

#: columns a checkpoint rewrites for a video that changed (id goes last, for WHERE)
STATE_COLS = ("tier", "status", "tier_entered", "watch_seconds", "tier_watch_seconds", *COUNT_COLS, *TIER_COUNT_COLS)
VIDEO_COLS = (
    "id",
    "creator_id",
    "sound_id",
    "profile_id",
    "caption",
    "duration",
    "topic_id",
    "topic2_id",
    "topic_weight",
    "language_id",
    "country_id",
    "upload_time",
    "quality",
    *STATE_COLS,
)
CREATOR_COLS = (
    "id",
    "handle",
    "display_name",
    "country_id",
    "language_id",
    "topic_id",
    "follower_count",
    "upload_rate",
    "skill",
)
AUDIENCE_COLS = ("id", "country_id", "language_id", "device_id", "activity", "like_propensity", "interests")

#: World.extra keys with a home of their own (not in settings_json["extra"])
SETTINGS_EXTRA = ("engine", "world_settings", "description", "caption_words_by_language")
TABLE_EXTRA = ("creator_display_names", "sound_artists")

#: bytes per audience.interests value: int16 topic ids, then float32 weights
INTEREST_DTYPE = np.dtype([("topics", "<i2", (TOPICS_PER_VIEWER,)), ("weights", "<f4", (TOPICS_PER_VIEWER,))])

CHUNK = 100_000


def utcnow() -> str:
    """Now, UTC, in the text form SQLAlchemy's SQLite DateTime reads back."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# =========================================================================================
# low-level bulk helpers (DBAPI cursor on the SQLAlchemy connection: same transaction)
# =========================================================================================
def _marker(conn: Any) -> str:
    style = conn.dialect.paramstyle
    if style == "qmark":
        return "?"
    if style in ("format", "pyformat"):
        return "%s"
    raise StoreError(f"database driver paramstyle {style!r} is not supported")


def _cursor(conn: Any) -> Any:
    return conn.connection.dbapi_connection.cursor()


def _insert(conn: Any, table: str, cols: Sequence[str], rows: Iterable[tuple], *, or_replace: bool = False) -> None:
    m = _marker(conn)
    verb = "INSERT OR REPLACE" if or_replace and conn.dialect.name == "sqlite" else "INSERT"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([m] * len(cols))})"
    sql = sql.replace("INSERT", verb, 1)
    cur = _cursor(conn)
    try:
        cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
    finally:
        cur.close()


def _literal(a: np.ndarray) -> str | None:
    """SQL literal if every value of ``a`` is the same exactly-representable number, else None."""
    if len(a) == 0 or a.ndim != 1:
        return None
    v = a[0]
    if not (a == v).all():
        return None
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        return str(int(v))
    if np.issubdtype(a.dtype, np.floating) and float(v).is_integer() and abs(float(v)) < 2**53:
        return repr(float(v))  # integral: parsed back exactly
    return None


def _insert_columns(conn: Any, table: str, columns: dict[str, Any]) -> None:
    """Insert rows given column-wise; a numpy column holding one integral value everywhere
    is written as a SQL literal instead of a bound parameter (seeded counters are all 0)."""
    m = _marker(conn)
    names, values, bound = [], [], []
    for name, col in columns.items():
        lit = _literal(col) if isinstance(col, np.ndarray) else None
        names.append(name)
        if lit is not None:
            values.append(lit)
        else:
            values.append(m)
            bound.append(col.tolist() if isinstance(col, np.ndarray) else col)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
    cur = _cursor(conn)
    try:
        if bound:
            rows = zip(*bound)
            cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
        else:
            n = len(next(iter(columns.values())))
            cur.executemany(sql, [()] * n)
    finally:
        cur.close()


def _update(conn: Any, table: str, cols: Sequence[str], rows: Iterable[tuple], key: str = "id") -> None:
    """rows: values of ``cols`` then the key value."""
    m = _marker(conn)
    sql = f"UPDATE {table} SET {', '.join(f'{c} = {m}' for c in cols)} WHERE {key} = {m}"
    cur = _cursor(conn)
    try:
        cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
    finally:
        cur.close()


def _select(conn: Any, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql``; its parameters are written ``{m}`` (the driver's marker)."""
    cur = _cursor(conn)
    try:
        cur.execute(sql.format(m=_marker(conn)) if params else sql, params)
        return cur.fetchall()
    finally:
        cur.close()


def _columns(rows: list[tuple], n: int) -> list[tuple]:
    if not rows:
        return [()] * n
    return list(zip(*rows))


def _none_if_neg(a: np.ndarray) -> list:
    return [None if v < 0 else v for v in a.tolist()]


# =========================================================================================
# world -> rows
# =========================================================================================
def _video_columns(world: World, lo: int, hi: int) -> dict[str, Any]:
    s = slice(lo, hi)
    return _video_columns_from(
        np.arange(lo, hi),
        world.video_captions[lo:hi],
        {name: getattr(world, name)[s] for name in _NEW_ARRAYS},
    )


def _video_rows(world: World, lo: int, hi: int) -> Iterable[tuple]:
    """Rows ``[lo, hi)`` of the video table as tuples in VIDEO_COLS order."""
    cols = _video_columns(world, lo, hi)
    return zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in (cols[name] for name in VIDEO_COLS)))


def insert_videos(conn: Any, world: World, lo: int, hi: int) -> None:
    """Insert video rows ``[lo, hi)`` and their hashtags on a SQLAlchemy connection
    (inside the caller's transaction); does not touch ``world.saved_videos``."""
    if hi <= lo:
        return
    _insert_columns(conn, "video", _video_columns(world, lo, hi))
    _insert(conn, "video_hashtag", ("video_id", "hashtag_id", "position"), _tag_rows(lo, world.video_tags[lo:hi]))


def _video_columns_from(ids: np.ndarray, captions: Sequence[str], a: dict[str, np.ndarray]) -> dict[str, Any]:
    """VIDEO_COLS -> column values, from video arrays sliced to the rows written."""
    profile = a["video_profile"]
    cols: dict[str, Any] = {
        "id": ids,
        "creator_id": a["video_creator"],
        "sound_id": a["video_sound"],
        "profile_id": [None] * len(ids) if (profile < 0).all() else _none_if_neg(profile),
        "caption": list(captions),
        "duration": a["video_duration"],
        "topic_id": a["video_topics"][:, 0].copy(),
        "topic2_id": a["video_topics"][:, 1].copy(),
        "topic_weight": a["video_topic_w"][:, 0].copy(),
        "language_id": a["video_language"],
        "country_id": a["video_country"],
        "upload_time": a["video_upload_time"],
        "quality": a["video_quality"],
    }
    cols.update(_state_columns(a))
    return cols


def _state_columns(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    cols = {
        "tier": a["video_tier"],
        "status": a["video_status"],
        "tier_entered": a["video_tier_entered"],
        "watch_seconds": a["video_watch_seconds"],
        "tier_watch_seconds": a["video_tier_watch_seconds"],
    }
    for j, name in enumerate(COUNT_COLS):
        cols[name] = a["video_counts"][:, j].copy()
    for j, name in enumerate(TIER_COUNT_COLS):
        cols[name] = a["video_tier_counts"][:, j].copy()
    assert tuple(cols) == STATE_COLS
    return cols


def _tag_rows(first_id: int, tags: np.ndarray) -> Iterable[tuple]:
    vid, pos = np.nonzero(tags >= 0)
    return zip((vid + first_id).tolist(), tags[vid, pos].tolist(), pos.tolist())


def _interests_blob(world: World) -> list[bytes]:
    rec = np.empty(world.n_viewers, INTEREST_DTYPE)
    rec["topics"] = world.aud_topics
    rec["weights"] = world.aud_topic_w
    return rec.view(f"V{INTEREST_DTYPE.itemsize}").tolist()


def _array_row(name: str, a: np.ndarray) -> tuple:
    a = np.ascontiguousarray(a)
    return (name, a.dtype.str, json.dumps(list(a.shape)), a.tobytes())


def _store_state_sqlite(conn: Any, rows: list[tuple]) -> None:
    """Write engine_state rows on SQLite, inside the caller's transaction. An array
    stored with the same dtype, shape and size is overwritten in place (incremental
    blob I/O: about half the time of replacing the row, which frees and rewrites
    every overflow page; 80 MB of learned preferences on ``large``); the others are
    inserted or replaced."""
    db = conn.connection.dbapi_connection
    if not db.in_transaction:  # (blob writes outside a transaction would each commit alone)
        db.execute("BEGIN")
    stored = {
        name: (rowid, dtype, shape, size)
        for name, rowid, dtype, shape, size in _select(
            conn, "SELECT name, rowid, dtype, shape, length(data) FROM engine_state"
        )
    }
    rest = []
    for name, dtype, shape, data in rows:
        hit = stored.get(name)
        if hit is not None and hit[1:] == (dtype, shape, len(data)):
            with db.blobopen("engine_state", "data", hit[0]) as blob:
                blob.write(data)
        else:
            rest.append((name, dtype, shape, data))
    if rest:
        _insert(conn, "engine_state", ("name", "dtype", "shape", "data"), rest, or_replace=True)


def _json_row(name: str, value: Any) -> tuple:
    return (name, "json", "[]", json.dumps(value).encode())


def _read_state(rows: list[tuple]) -> dict[str, Any]:
    """engine_state rows -> {name: read-only array or JSON value}."""
    out: dict[str, Any] = {}
    for name, dtype, shape, data in rows:
        if dtype == "json":
            out[name] = json.loads(bytes(data))
        else:
            out[name] = np.frombuffer(data, np.dtype(dtype)).reshape(json.loads(shape))
    return out


#: Columnar mirror of the bulk tables in engine_state ("mirror:<array>"), so a load
#: reads a few blobs instead of millions of rows. Rows stay the truth: the mirror
#: is used only when "mirror:check" matches the tables' counts and sums.
MIRROR_VIDEO = tuple(n for n in VIDEO_ARRAYS if n != "video_dirty")
MIRROR_AUDIENCE = (
    "aud_country",
    "aud_language",
    "aud_device",
    "aud_activity",
    "aud_topics",
    "aud_topic_w",
    "aud_like_prop",
)


def _video_check(arrays: dict[str, np.ndarray], n_viewers: int) -> dict:
    counts = arrays["video_counts"]
    return {
        "videos": int(len(arrays["video_tier"])),
        "views": int(counts[:, 0].sum()),
        "likes": int(counts[:, 2].sum()),
        "tiers": int(arrays["video_tier"].astype(np.int64).sum()),
        "in_tier": int(arrays["video_tier_counts"][:, 0].sum()),
        "tags": int((arrays["video_tags"] >= 0).sum()),
        "viewers": int(n_viewers),
    }


def _mirror_rows(
    video: dict[str, np.ndarray], n_viewers: int, audience: dict[str, np.ndarray] | None = None
) -> list[tuple]:
    rows = [_array_row(f"mirror:{k}", v) for k, v in video.items()]
    if audience is not None:
        rows += [_array_row(f"mirror:{k}", v) for k, v in audience.items()]
    rows.append(_json_row("mirror:check", _video_check(video, n_viewers)))
    return rows


def _split_extra(extra: dict) -> tuple[dict, dict[str, np.ndarray]]:
    """World.extra -> (JSON-safe leftovers, numpy arrays), minus keys stored elsewhere."""
    js: dict = {}
    arrays: dict[str, np.ndarray] = {}
    for k, v in extra.items():
        if k in SETTINGS_EXTRA or k in TABLE_EXTRA:
            continue
        if isinstance(v, np.ndarray):
            arrays[k] = v
            continue
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue  # not persistable; the engine must rebuild it
        js[k] = v
    return js, arrays


def _settings(world: World) -> dict:
    js, _ = _split_extra(world.extra)
    settings = {k: world.extra[k] for k in SETTINGS_EXTRA if k in world.extra}
    settings["caption_words"] = list(world.caption_words)
    settings["device_names"] = list(world.device_names)  # also in the device table
    settings["extra"] = js
    return settings


def _write_world(conn: Any, world: World, report: Callable[[str, int], None]) -> None:
    """Insert every row of ``world`` (tables must exist and be empty)."""
    extra = world.extra
    n = world.n_videos
    _insert(conn, "topic", ("id", "name"), enumerate(world.topic_names))
    _insert(conn, "country", ("id", "code"), enumerate(world.country_codes))
    _insert(conn, "language", ("id", "code"), enumerate(world.language_codes))
    _insert(conn, "device", ("id", "name"), enumerate(world.device_names))
    report(
        "vocabularies", world.n_topics + len(world.country_codes) + len(world.language_codes) + len(world.device_names)
    )

    names = extra.get("creator_display_names") or world.creator_handles
    _insert(
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
    _insert(
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
    _insert(
        conn,
        "hashtag",
        ("id", "name", "topic_id", "trend"),
        zip(
            range(world.n_hashtags),
            world.hashtag_names,
            _none_if_neg(world.hashtag_topic),
            world.hashtag_trend.tolist(),
        ),
    )
    report("hashtags", world.n_hashtags)

    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        _insert_columns(conn, "video", _video_columns(world, lo, hi))
        report("videos", hi - lo)
    tags = world.video_tags[:n]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        _insert(conn, "video_hashtag", ("video_id", "hashtag_id", "position"), _tag_rows(lo, tags[lo:hi]))
        report("video hashtags", int((tags[lo:hi] >= 0).sum()))

    blobs = _interests_blob(world)
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
            _insert_columns(conn, "audience", {"id": np.arange(lo, hi), **cols})
        else:  # ids are consecutive: after row 0, SQLite assigns max(id) + 1 itself (one bound value less)
            if lo == 0:
                _insert_columns(conn, "audience", {"id": np.zeros(1, np.int64), **{k: v[:1] for k, v in cols.items()}})
                cols = {k: v[1:] for k, v in cols.items()}
            if len(cols["country_id"]):
                _insert_columns(conn, "audience", cols)
        report("audience", hi - lo)

    _, arrays = _split_extra(extra)
    state = [_array_row("aud_pref", world.aud_pref)] + [_array_row(f"extra:{k}", v) for k, v in arrays.items()]
    state += _mirror_rows(
        {k: getattr(world, k)[:n] for k in MIRROR_VIDEO},
        world.n_viewers,
        {k: getattr(world, k) for k in MIRROR_AUDIENCE},
    )
    _insert(conn, "engine_state", ("name", "dtype", "shape", "data"), state)
    now = utcnow()
    _insert(
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
                json.dumps(_settings(world), ensure_ascii=False),
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


# =========================================================================================
# seeding: a new world, atomically
# =========================================================================================
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
                raise StoreError(f"cannot use database {describe(url)}: {_one_line(exc)}") from None
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
            _write_world(_RawConn(conn), world, report)
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
        raise StoreError(f"cannot write world to {path}: {_one_line(exc)}") from None
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
            _write_world(conn, world, report)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write world to {describe(url)}: {_one_line(exc)}") from None
    finally:
        engine.dispose()


class _RawConn:
    """Just enough of a SQLAlchemy Connection over a plain sqlite3 connection."""

    class _Dialect:
        name = "sqlite"
        paramstyle = "qmark"

    dialect = _Dialect()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.connection = self
        self.dbapi_connection = conn


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


# =========================================================================================
# sanity of a loaded world
# =========================================================================================
def world_problem(world: World) -> str | None:
    """What makes a loaded world unusable (ids out of range, negative counters, NaNs,
    a tier the ladder lacks ...), or None. Vectorised: a few ms even for ``large``.

    The engine indexes arrays with these values, so a hand-edited or damaged file
    would otherwise end in an IndexError deep in a simulation step.
    """
    n = world.n_videos
    T, C, S, H = world.n_topics, world.n_creators, world.n_sounds, world.n_hashtags
    K, L, D = len(world.country_codes), len(world.language_codes), len(world.device_names)

    def out_of(a: np.ndarray, lo: int, hi: int) -> bool:  # any value outside [lo, hi)
        return a.size > 0 and (int(a.min()) < lo or int(a.max()) >= hi)

    def not_finite(a: np.ndarray, lo: float | None = None) -> bool:
        if a.size == 0:
            return False
        if a.dtype == np.float16:  # exponent bits all ones: inf or nan (no float16 maths)
            if ((a.view(np.uint16) & 0x7C00) == 0x7C00).any():
                return True
            return lo is not None and bool((a < lo).any())
        if not np.isfinite(a).all():
            return True
        return lo is not None and float(a.min()) < lo

    if T == 0:
        return "no topics"
    if len(world.video_captions) < n:
        return "fewer captions than videos"
    extra = world.extra or {}
    texts = (
        ("topic.name", world.topic_names),
        ("country.code", world.country_codes),
        ("language.code", world.language_codes),
        ("device.name", world.device_names),
        ("creator.handle", world.creator_handles),
        ("sound.title", world.sound_titles),
        ("hashtag.name", world.hashtag_names),
        ("video.caption", world.video_captions[:n]),
        ("creator.display_name", extra.get("creator_display_names") or ()),
        ("sound.artist", extra.get("sound_artists") or ()),
        ("settings caption_words", world.caption_words),
    )
    for what, values in texts:  # a BLOB or a number where text belongs (JSON, the screen and the engine need str)
        if not all(type(v) is str for v in values):
            return f"{what} is not text"
    checks: list[tuple[str, bool]] = [
        ("video.creator_id", out_of(world.video_creator[:n], 0, C)),
        ("video.sound_id", out_of(world.video_sound[:n], 0, S)),
        ("video.topic_id", out_of(world.video_topics[:n], 0, T)),
        ("video.language_id", out_of(world.video_language[:n], 0, L)),
        ("video.country_id", out_of(world.video_country[:n], 0, K)),
        ("video_hashtag.hashtag_id", out_of(world.video_tags[:n], -1, H)),
        ("video.profile_id", out_of(world.video_profile[:n], -1, 2**31 - 1)),
        ("video.status", out_of(world.video_status[:n], 0, 3)),
        ("video counters", bool(n) and int(min(world.video_counts[:n].min(), world.video_tier_counts[:n].min())) < 0),
        (
            "video.duration",
            not_finite(world.video_duration[:n], 0.0) or bool(n and (world.video_duration[:n] <= 0).any()),
        ),
        ("video.quality", not_finite(world.video_quality[:n])),
        ("video.topic_weight", not_finite(world.video_topic_w[:n], 0.0)),
        ("video.upload_time", not_finite(world.video_upload_time[:n])),
        ("video.tier_entered", not_finite(world.video_tier_entered[:n])),
        (
            "video.watch_seconds",
            not_finite(world.video_watch_seconds[:n], 0.0) or not_finite(world.video_tier_watch_seconds[:n], 0.0),
        ),
        (
            "creator ids",
            out_of(world.creator_country, 0, K)
            or out_of(world.creator_language, 0, L)
            or out_of(world.creator_topic, 0, T),
        ),
        ("creator.follower_count", bool(C) and int(world.creator_followers.min()) < 0),
        ("creator.upload_rate", not_finite(world.creator_upload_rate, 0.0) or not_finite(world.creator_skill)),
        ("sound.trend", not_finite(world.sound_trend)),
        ("hashtag", not_finite(world.hashtag_trend) or out_of(world.hashtag_topic, -1, T)),
        (
            "audience ids",
            out_of(world.aud_country, 0, K) or out_of(world.aud_language, 0, L) or out_of(world.aud_device, 0, D),
        ),
        ("audience.interests", out_of(world.aud_topics, 0, T) or not_finite(world.aud_topic_w, 0.0)),
        ("audience.activity", not_finite(world.aud_activity, 0.0) or not_finite(world.aud_like_prop)),
        ("aud_pref", not_finite(world.aud_pref)),
    ]
    for what, broken in checks:
        if broken:
            return f"{what} out of range"
    if n:
        from fyp_tui.engine.params import EngineParams

        try:
            top = len(EngineParams.from_dict((world.extra or {}).get("engine", {}) or {}).ladder)
        except Exception as exc:
            return f"bad engine settings: {_one_line(exc)}"
        if out_of(world.video_tier[:n], 0, top + 1):
            return "video.tier out of range"
    return None


# =========================================================================================
# an open world
# =========================================================================================
@dataclass
class Snapshot:
    """What changed in a world since its last checkpoint, copied out (see WorldStore.capture)."""

    clock: float
    saved_before: int  # world.saved_videos when captured
    n_videos: int
    new: dict[str, Any]  # video arrays of rows [saved_before, n_videos) + captions
    dirty_ids: np.ndarray  # older videos whose state changed
    dirty: dict[str, np.ndarray]
    sound_trend: np.ndarray
    hashtag_trend: np.ndarray
    creator_followers: np.ndarray
    aud_pref: np.ndarray
    settings: dict
    extra_arrays: dict[str, np.ndarray]
    events: list = field(default_factory=list)
    mirror: dict[str, np.ndarray] = field(default_factory=dict)  # all video arrays [:n_videos]
    n_viewers: int = 0

    def requeue(self, world: World) -> None:
        """After a failed write: mark this snapshot's videos unsaved again (caller holds the world lock)."""
        world.video_dirty[self.dirty_ids] = True
        world.video_dirty[self.saved_before : self.n_videos] = True
        world.saved_videos = min(world.saved_videos, self.saved_before)


def _probe_writable(source: Engine | sqlite3.Connection, url: str) -> None:
    """Whoever takes the world lock means to write: find out now, not after an hour of
    simulation (a no-op UPDATE, rolled back; nothing reaches the file)."""
    try:
        if isinstance(source, sqlite3.Connection):
            try:
                source.execute("UPDATE world_meta SET id = id WHERE id = 1")
            finally:
                source.rollback()
            return
        with source.connect() as conn:
            tx = conn.begin()
            try:
                conn.exec_driver_sql("UPDATE world_meta SET id = id WHERE id = 1")
            finally:
                tx.rollback()
    except db_errors() as exc:
        raise StoreError(f"cannot write to {describe(url)}: {_one_line(exc)}") from None


@dataclass(frozen=True)
class ProfileRow:
    """A ``profile`` row, read without the ORM (the fields :func:`person_from_profile` uses)."""

    id: int
    name: str
    state_json: str
    knob: float
    onboarded: bool
    country_id: int | None
    language_id: int | None


def person_from_profile(profile: Any, seen: Iterable[int], world: World) -> PersonState:
    """The engine's view of a profile row (a :class:`ProfileRow` or the SQLModel
    ``Profile``) and the videos it had an impression of (``seen``): learned state,
    follows, filters, history. Both the stdlib read path (:meth:`WorldStore.load_person`)
    and the ORM one (``store.profiles.load_person``) build the person here."""
    try:
        return _person_from_profile(profile, seen, world)
    except StoreError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        # a hand-edited or damaged row: its state, knob, country or seen ids
        raise StoreError(
            f"profile {str(profile.name)[:40]!r} is corrupt ({type(exc).__name__}: {_one_line(exc)})"
        ) from None


def _person_from_profile(profile: Any, seen: Iterable[int], world: World) -> PersonState:
    import math

    from fyp_tui.engine.viewer import PersonState

    where = f"profile {str(profile.name)[:40]!r}"
    try:
        state = json.loads(profile.state_json or "{}")
    except json.JSONDecodeError:
        raise StoreError(f"{where} has a corrupt state (not JSON)") from None
    if not isinstance(state, dict):
        raise StoreError(f"{where} has a corrupt state (not a JSON object)")
    knob = profile.knob
    if isinstance(knob, bool) or not isinstance(knob, (int, float)) or not math.isfinite(knob) or not 0 <= knob <= 1:
        raise StoreError(f"{where} is corrupt (knob is {knob!r}, not a number in [0, 1])")
    for key, n in (("country_id", len(world.country_codes)), ("language_id", len(world.language_codes))):
        value = getattr(profile, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n):
            raise StoreError(f"{where} is corrupt ({key} is {value!r}, not one of the world's)")
    if state:
        person = PersonState.from_dict(state, n_topics=world.n_topics)
    else:
        person = PersonState.new(world, country=profile.country_id, language=profile.language_id, knob=float(knob))
    person.knob = float(knob)
    person.onboarded = bool(profile.onboarded or person.onboarded)
    if profile.country_id is not None:
        person.country = int(profile.country_id)
    if profile.language_id is not None:
        person.language = int(profile.language_id)
    person.seen |= {int(v) for v in seen}
    n = world.n_videos
    person.seen = {v for v in person.seen if 0 <= v < n}
    person.history = [v for v in person.history if 0 <= v < n]
    return person


def _refuse_linked_side_files(path: Path) -> None:
    """SQLite writes ``<world>-wal``, ``-shm`` and ``-journal`` next to the world; one
    that is a symbolic link is refused in one line (SQLite would not open it either,
    with a message about permissions)."""
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.is_symlink():
            raise StoreError(f"{side} is a symbolic link; refusing to open the world with it (remove it)")


class WorldStore:
    """An open world database: schema checked, process lock held (unless ``lock=False``).

    A SQLite world given by a plain ``sqlite:///<path>`` URL is opened, checked and
    read (:meth:`load`, the profile, the summaries) through a stdlib connection,
    so the app reaches its first card without loading SQLAlchemy; :attr:`engine`
    is made on first use (checkpoints, the person's journal, the ORM session).
    """

    def __init__(
        self,
        url: str,
        engine: Engine | None,
        meta: dict,
        lock: WorldLock | None,
        *,
        reader: sqlite3.Connection | None = None,
    ) -> None:
        self.url = url
        self._engine = engine
        self._engine_lock = threading.Lock()
        # the stdlib connection open() checked the world on (SQLite), kept for reads
        self._reader = reader
        self._reader_lock = threading.Lock()
        self.meta = meta
        self._lock = lock
        self._write_lock = threading.Lock()
        # last written values of small arrays, to write only what changed
        self._last: dict[str, np.ndarray] = {}
        #: how the last load() read its columns: {"video": "mirror"|"rows", "audience": ...}
        self.loaded_from: dict[str, str] = {}

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, lock: bool = True) -> WorldStore:
        url = resolve_url(url)
        path = sqlite_path(url)
        if path is not None and not path.is_file():  # said before the lock: no lock file left by a typo
            raise StoreError(f"no world at {describe(url)} (run `fyp-tui seed` to create one)")
        world_lock = WorldLock(url).acquire() if lock else None
        source: Any = None
        try:
            if path is not None and not path.is_file():  # (gone while the lock was taken)
                raise StoreError(f"no world at {describe(url)} (run `fyp-tui seed` to create one)")
            if path is not None:
                _refuse_linked_side_files(path)
            # checked through a connection that writes nothing: a file that is no world
            # (an empty one, someone's own database) stays byte for byte as it was
            plain = path if path is not None and _plain_sqlite(url) is not None else None
            if plain is not None:
                source = connect_sqlite(plain, url, readonly=True)
            else:  # other databases, and SQLite URLs with options only SQLAlchemy reads
                source = make_engine(url, readonly=True)
            meta = check_world(source, url)
            if lock:  # a world: the writer's connection (WAL, as seeding left it)
                if plain is not None:
                    source.close()
                    source = None
                    source = connect_sqlite(plain, url)
                else:
                    source.dispose()
                    source = None
                    source = make_engine(url)
                _probe_writable(source, url)
        except BaseException:
            if isinstance(source, sqlite3.Connection):
                source.close()
            elif source is not None:
                source.dispose()
            if world_lock is not None:
                world_lock.release()
            raise
        if isinstance(source, sqlite3.Connection):
            return cls(url, None, meta, world_lock, reader=source)
        return cls(url, source, meta, world_lock)

    @property
    def engine(self) -> Engine:
        """The world's SQLAlchemy engine, made (and SQLAlchemy imported) on first use."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                if self._engine is None:  # a store opened without the lock only reads
                    self._engine = make_engine(self.url, readonly=self._lock is None)
                engine = self._engine
        return engine

    def close(self) -> None:
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
        with self._reader_lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> WorldStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        return describe(self.url)

    @property
    def locked(self) -> bool:
        return self._lock is not None and self._lock.held

    def session(self):
        from sqlmodel import Session

        return Session(self.engine)

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A connection for a burst of reads (the bulk helpers' kind: ``_select`` ...):
        the stdlib one :meth:`open` made, one at a time, else one from the engine."""
        with self._reader_lock:
            if self._reader is not None:
                yield _RawConn(self._reader)
                return
        with self.engine.connect() as conn:
            yield conn

    def _fail(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(f"{what} {self.where} failed: {_one_line(exc)}")

    # -- summary ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            with self._reading() as conn:
                for name in sorted(TABLE_COLUMNS):
                    out[name] = int(_select(conn, f"SELECT COUNT(*) FROM {name}")[0][0])
        except db_errors() as exc:
            raise self._fail("reading", exc) from None
        return out

    def group_counts(self, table: str, column: str) -> dict:
        """``{value: rows}`` of ``SELECT column, COUNT(*) ... GROUP BY column``."""
        try:
            with self._reading() as conn:
                rows = _select(conn, f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column} ORDER BY {column}")
            return {v: int(n) for v, n in rows}
        except db_errors_and(TypeError, ValueError) as exc:
            raise self._fail("reading", exc) from None

    def names(self, table: str, column: str) -> list[str]:
        return [str(r[0]) for r in self._query(f"SELECT {column} FROM {table} ORDER BY id")]

    # -- profiles (reads only; creating one and the journal live in store.profiles) --
    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one read (``{m}`` marks a parameter); a database error is one line."""
        try:
            with self._reading() as conn:
                return _select(conn, sql, params)
        except db_errors() as exc:
            raise self._fail("reading", exc) from None

    def find_profile(self, name: str) -> ProfileRow | None:
        """The ``profile`` row called ``name``, or None (plain SQL, no ORM)."""
        rows = self._query(
            "SELECT id, name, state_json, knob, onboarded, country_id, language_id FROM profile WHERE name = {m}",
            (name,),
        )
        if not rows:
            return None
        pid, name, state_json, knob, onboarded, country, language = rows[0]
        # values as stored: person_from_profile checks them (a damaged row is a StoreError there)
        return ProfileRow(int(pid), name, state_json or "{}", knob, bool(onboarded), country, language)

    def load_person(self, name: str, world: World) -> tuple[int, PersonState] | None:
        """(profile id, the engine's view of it) for the profile ``name``, as
        ``store.profiles.load_person`` builds it but without the ORM (this is on the
        app's way to its first card); None if there is no such profile yet."""
        profile = self.find_profile(name)
        if profile is None:
            return None
        seen = self._query(
            "SELECT DISTINCT video_id FROM interaction WHERE profile_id = {m} AND kind = 'impression'", (profile.id,)
        )
        return profile.id, person_from_profile(profile, (v for (v,) in seen), world)

    def tier_history(self, video_id: int, until: float) -> list[tuple]:
        """The ``tier_event`` rows of a video up to simulated time ``until``, oldest first:
        ``(from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by)``."""
        rows = self._query(
            "SELECT from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by FROM tier_event "
            "WHERE video_id = {m} AND sim_time <= {m} ORDER BY sim_time, id",
            (int(video_id), float(until)),
        )
        return [tuple(r) for r in rows]

    # -- load ------------------------------------------------------------------------
    def load(self, *, use_mirror: bool = True) -> World:
        """The whole world as engine arrays (one consistent read).

        Video and audience columns come from the columnar mirror in ``engine_state``
        when its check values match the tables, else from the rows (slower, same
        result); ``use_mirror=False`` forces the rows.
        """
        try:
            with self._reading() as conn:
                raw = conn.connection.dbapi_connection
                if conn.dialect.name == "sqlite":
                    raw.execute("BEGIN")  # one snapshot for all the SELECTs below
                try:
                    world = self._load(conn, use_mirror=use_mirror)
                finally:
                    raw.rollback()
        except StoreError:
            raise
        except db_errors_and(
            ValueError,
            KeyError,
            IndexError,
            TypeError,
            OverflowError,
            AttributeError,
            RecursionError,
        ) as exc:
            # (AttributeError: a JSON value of the wrong shape, e.g. a list where an object belongs)
            raise StoreError(f"{self.where} is corrupt or unreadable: {_one_line(exc)}") from None
        problem = world_problem(world)
        if problem:
            raise StoreError(f"{self.where} is corrupt ({problem})")
        self._remember(world)
        return world

    def _load(self, conn: Any, *, use_mirror: bool) -> World:
        meta = _select(conn, "SELECT scenario, seed, clock, settings_json FROM world_meta WHERE id = 1")[0]
        scenario, seed, clock, settings_json = meta
        settings = json.loads(settings_json or "{}")

        def names(table: str, col: str) -> list[str]:
            return [r[0] for r in _select(conn, f"SELECT {col} FROM {table} ORDER BY id")]

        topic_names = names("topic", "name")
        T = len(topic_names)
        cr = _columns(
            _select(
                conn,
                "SELECT handle, display_name, country_id, language_id, topic_id, "
                "follower_count, upload_rate, skill FROM creator ORDER BY id",
            ),
            8,
        )
        so = _columns(_select(conn, "SELECT title, artist, original, trend FROM sound ORDER BY id"), 4)
        ha = _columns(_select(conn, "SELECT name, topic_id, trend FROM hashtag ORDER BY id"), 3)
        state = _read_state(_select(conn, "SELECT name, dtype, shape, data FROM engine_state"))
        check = state.get("mirror:check") if use_mirror else None

        # videos -----------------------------------------------------------------------
        captions = names("video", "caption")
        V = len(captions)
        arrays = empty_video_arrays(V, T)
        if check is not None and self._video_mirror_ok(conn, state, check, V):
            for name in MIRROR_VIDEO:
                arrays[name][:] = state[f"mirror:{name}"]
            self.loaded_from = {"video": "mirror"}
        else:
            self._load_video_rows(conn, arrays, V)
            self.loaded_from = {"video": "rows"}

        # audience ---------------------------------------------------------------------
        N = int(_select(conn, "SELECT COUNT(*) FROM audience")[0][0])
        if check is not None and check.get("viewers") == N and all(f"mirror:{k}" in state for k in MIRROR_AUDIENCE):
            aud = {k: np.array(state[f"mirror:{k}"]) for k in MIRROR_AUDIENCE}
            if any(len(a) != N for a in aud.values()):
                raise StoreError(f"{self.where} is corrupt (audience mirror has the wrong length)")
            self.loaded_from["audience"] = "mirror"
        else:
            aud = self._load_audience_rows(conn, N)
            self.loaded_from["audience"] = "rows"

        aud_pref = state.get("aud_pref")
        aud_pref = np.zeros((N, T), np.float16) if aud_pref is None else np.array(aud_pref, np.float16)
        if aud_pref.shape != (N, T):
            raise StoreError(f"{self.where} is corrupt (aud_pref has shape {aud_pref.shape}, expected {(N, T)})")

        extra: dict = {k: settings[k] for k in SETTINGS_EXTRA if k in settings}
        extra.update(settings.get("extra", {}))
        extra["creator_display_names"] = list(cr[1])
        extra["sound_artists"] = list(so[1])
        for name, a in state.items():
            if name.startswith("extra:"):
                extra[name[len("extra:") :]] = np.array(a)

        columns: dict[str, Any] = {**arrays, **aud}  # the video and audience arrays, by World field
        return World(
            topic_names=topic_names,
            country_codes=names("country", "code"),
            language_codes=names("language", "code"),
            device_names=names("device", "name"),
            creator_handles=list(cr[0]),
            sound_titles=list(so[0]),
            hashtag_names=list(ha[0]),
            caption_words=list(settings.get("caption_words", [])),
            video_captions=captions,
            creator_country=np.array(cr[2], np.int16),
            creator_language=np.array(cr[3], np.int16),
            creator_topic=np.array(cr[4], np.int16),
            creator_followers=np.array(cr[5], np.int64),
            creator_upload_rate=np.array(cr[6], np.float32),
            creator_skill=np.array(cr[7], np.float32),
            sound_original=np.array(so[2], bool),
            sound_trend=np.array(so[3], np.float64),
            hashtag_topic=np.array([-1 if v is None else v for v in ha[1]], np.int16),
            hashtag_trend=np.array(ha[2], np.float64),
            n_videos=V,
            **columns,
            aud_pref=aud_pref,
            clock=float(clock),
            seed=int(seed),
            scenario=scenario,
            saved_videos=V,
            extra=extra,
        )

    def _video_mirror_ok(self, conn: Any, state: dict, check: dict, V: int) -> bool:
        if check.get("videos") != V or not all(f"mirror:{k}" in state for k in MIRROR_VIDEO):
            return False
        if any(len(state[f"mirror:{k}"]) != V for k in MIRROR_VIDEO):
            return False
        row = _select(
            conn,
            "SELECT COALESCE(SUM(views), 0), COALESCE(SUM(tier), 0), "
            "COALESCE(SUM(impressions_in_tier), 0), COALESCE(SUM(likes), 0) FROM video",
        )[0]
        tags = int(_select(conn, "SELECT COUNT(*) FROM video_hashtag")[0][0])
        return [int(v) for v in row] + [tags] == [
            check["views"],
            check["tiers"],
            check["in_tier"],
            check["likes"],
            check["tags"],
        ]

    def _load_video_rows(self, conn: Any, arrays: dict[str, np.ndarray], V: int) -> None:
        cols = [c for c in VIDEO_COLS[1:] if c != "caption"]
        vrows = _select(conn, f"SELECT {', '.join(cols)} FROM video ORDER BY id")
        if len(vrows) != V:
            raise StoreError(f"{self.where} changed while loading")
        if V:
            c = dict(zip(cols, _columns(vrows, len(cols))))
            del vrows
            arrays["video_creator"][:] = c["creator_id"]
            arrays["video_sound"][:] = c["sound_id"]
            arrays["video_profile"][:] = [-1 if p is None else p for p in c["profile_id"]]
            arrays["video_duration"][:] = c["duration"]
            arrays["video_topics"][:, 0] = c["topic_id"]
            arrays["video_topics"][:, 1] = c["topic2_id"]
            w1 = np.asarray(c["topic_weight"], np.float32)
            arrays["video_topic_w"][:, 0] = w1
            arrays["video_topic_w"][:, 1] = np.float32(1.0) - w1
            arrays["video_language"][:] = c["language_id"]
            arrays["video_country"][:] = c["country_id"]
            arrays["video_upload_time"][:] = c["upload_time"]
            arrays["video_quality"][:] = c["quality"]
            for col in ("tier", "status"):
                v = np.asarray(c[col], np.int64)
                if len(v) and (v.min() < -128 or v.max() > 127):
                    raise StoreError(f"{self.where} is corrupt (video.{col} out of range)")
                arrays[f"video_{col}"][:] = v
            arrays["video_tier_entered"][:] = c["tier_entered"]
            arrays["video_watch_seconds"][:] = c["watch_seconds"]
            arrays["video_tier_watch_seconds"][:] = c["tier_watch_seconds"]
            for j, name in enumerate(COUNT_COLS):
                arrays["video_counts"][:, j] = c[name]
            for j, name in enumerate(TIER_COUNT_COLS):
                arrays["video_tier_counts"][:, j] = c[name]
        tag_rows = _select(conn, "SELECT video_id, position, hashtag_id FROM video_hashtag")
        if tag_rows:
            t = np.array(tag_rows, dtype=np.int64)
            if (t[:, 1] >= TAGS_PER_VIDEO).any() or (t[:, 1] < 0).any() or (t[:, 0] >= V).any():
                raise StoreError(f"{self.where} is corrupt (video_hashtag rows out of range)")
            arrays["video_tags"][t[:, 0], t[:, 1]] = t[:, 2]

    def _load_audience_rows(self, conn: Any, N: int) -> dict[str, np.ndarray]:
        au = _columns(
            _select(
                conn,
                "SELECT country_id, language_id, device_id, activity, like_propensity, "
                "interests FROM audience ORDER BY id",
            ),
            6,
        )
        if len(au[0]) != N:
            raise StoreError(f"{self.where} changed while loading")
        interests = np.frombuffer(b"".join(au[5]), INTEREST_DTYPE) if N else np.empty(0, INTEREST_DTYPE)
        if len(interests) != N:
            raise StoreError(f"{self.where} is corrupt (audience.interests has the wrong size)")
        return {
            "aud_country": np.array(au[0], np.int16),
            "aud_language": np.array(au[1], np.int16),
            "aud_device": np.array(au[2], np.int8),
            "aud_activity": np.array(au[3], np.float32),
            "aud_topics": interests["topics"].astype(np.int16),
            "aud_topic_w": interests["weights"].astype(np.float32),
            "aud_like_prop": np.array(au[4], np.float32),
        }

    def _remember(self, world: World) -> None:
        self._last = {
            "sound_trend": world.sound_trend.copy(),
            "hashtag_trend": world.hashtag_trend.copy(),
            "creator_followers": world.creator_followers.copy(),
        }

    # -- checkpoint ------------------------------------------------------------------
    def capture(self, world: World, events: Sequence[Event] = ()) -> Snapshot:
        """Copy out what changed since the last checkpoint and mark it saved.

        Call with the world lock held; it only copies arrays (fast). If the write
        later fails, ``snap.requeue(world)`` marks those videos unsaved again.
        """
        n = world.n_videos
        lo = min(world.saved_videos, n)
        new = {name: getattr(world, name)[lo:n].copy() for name in _NEW_ARRAYS}
        new["captions"] = list(world.video_captions[lo:n])
        dirty_ids = np.flatnonzero(world.video_dirty[:lo])
        dirty = {name: getattr(world, name)[dirty_ids] for name in _STATE_ARRAYS}
        js, arrays = _split_extra(world.extra)
        settings = {k: copy.deepcopy(world.extra[k]) for k in SETTINGS_EXTRA if k in world.extra}
        settings["caption_words"] = list(world.caption_words)
        settings["device_names"] = list(world.device_names)
        settings["extra"] = copy.deepcopy(js)
        snap = Snapshot(
            clock=float(world.clock),
            saved_before=lo,
            n_videos=n,
            new=new,
            dirty_ids=dirty_ids,
            dirty=dirty,
            sound_trend=world.sound_trend.copy(),
            hashtag_trend=world.hashtag_trend.copy(),
            creator_followers=world.creator_followers.copy(),
            aud_pref=world.aud_pref.copy(),
            settings=settings,
            extra_arrays={k: v.copy() for k, v in arrays.items()},
            events=[e for e in events if isinstance(e, (Promoted, Stalled, Reignited))],
            mirror={k: getattr(world, k)[:n].copy() for k in MIRROR_VIDEO},
            n_viewers=world.n_viewers,
        )
        world.video_dirty[:n] = False
        world.saved_videos = n
        return snap

    def write(self, snap: Snapshot) -> None:
        """Commit a snapshot in one transaction (safe to call from a worker thread)."""
        with self._write_lock:
            try:
                with self.engine.begin() as conn:
                    self._write(conn, snap)
            except db_errors() as exc:
                raise self._fail("checkpoint of", exc) from None
            self._last = {
                "sound_trend": snap.sound_trend,
                "hashtag_trend": snap.hashtag_trend,
                "creator_followers": snap.creator_followers,
            }
            self.meta["clock"] = snap.clock

    def checkpoint(self, world: World, events: Sequence[Event] = ()) -> None:
        snap = self.capture(world, events)
        try:
            self.write(snap)
        except BaseException:
            snap.requeue(world)
            raise

    def _write(self, conn: Any, snap: Snapshot) -> None:
        # new videos (with their current state) and their hashtags
        k = snap.n_videos - snap.saved_before
        if k > 0:
            nw = snap.new
            ids = np.arange(snap.saved_before, snap.n_videos)
            _insert_columns(conn, "video", _video_columns_from(ids, nw["captions"], nw))
            _insert(
                conn,
                "video_hashtag",
                ("video_id", "hashtag_id", "position"),
                _tag_rows(snap.saved_before, nw["video_tags"]),
            )
        # changed videos
        if len(snap.dirty_ids):
            cols = [c.tolist() for c in _state_columns(snap.dirty).values()]
            _update(conn, "video", STATE_COLS, zip(*cols, snap.dirty_ids.tolist()))
        # small arrays: only what changed since the last write
        for table, col, name in (
            ("sound", "trend", "sound_trend"),
            ("hashtag", "trend", "hashtag_trend"),
            ("creator", "follower_count", "creator_followers"),
        ):
            cur = getattr(snap, name)
            last = self._last.get(name)
            ids = np.arange(len(cur)) if last is None or last.shape != cur.shape else np.flatnonzero(cur != last)
            if len(ids):
                _update(conn, table, (col,), zip(cur[ids].tolist(), ids.tolist()))
        # observable engine arrays
        rows = [_array_row("aud_pref", snap.aud_pref)] + [
            _array_row(f"extra:{k}", v) for k, v in snap.extra_arrays.items()
        ]
        if snap.mirror:
            rows += _mirror_rows(snap.mirror, snap.n_viewers)
        if conn.dialect.name == "sqlite":
            _store_state_sqlite(conn, rows)
        else:
            m = _marker(conn)
            cur = _cursor(conn)
            try:
                cur.executemany(f"DELETE FROM engine_state WHERE name = {m}", [(r[0],) for r in rows])
            finally:
                cur.close()
            _insert(conn, "engine_state", ("name", "dtype", "shape", "data"), rows)
        # tier decisions
        if snap.events:
            _insert(conn, "tier_event", TIER_EVENT_COLS, [tier_event_row(e) for e in snap.events])
        _update(
            conn,
            "world_meta",
            ("clock", "checkpointed_at", "settings_json"),
            [
                (
                    snap.clock,
                    utcnow(),
                    json.dumps(snap.settings, ensure_ascii=False),
                    1,
                )
            ],
        )

    # -- details for the app and explain ---------------------------------------------
    def video_detail(self, video_id: int, world: World | None = None) -> dict:
        """Caption, creator, sound and hashtag names of a video.

        With ``world`` given (and the video in it) no SQL runs; otherwise the row
        is read from the database (KeyError if it is not there).
        """
        if world is not None and 0 <= video_id < world.n_videos:
            return video_detail_from_world(world, video_id)
        with self._reading() as conn:
            m = _marker(conn)
            cur = _cursor(conn)
            try:
                cur.execute(
                    "SELECT v.caption, c.id, c.handle, c.display_name, s.id, s.title, s.artist, s.original, "
                    "v.duration, v.topic_id, t.name, v.profile_id FROM video v JOIN creator c ON c.id = v.creator_id "
                    f"JOIN sound s ON s.id = v.sound_id JOIN topic t ON t.id = v.topic_id WHERE v.id = {m}",
                    (int(video_id),),
                )
                row = cur.fetchone()
                if row is None:
                    raise KeyError(video_id)
                cur.execute(
                    "SELECT h.name FROM video_hashtag vh JOIN hashtag h ON h.id = vh.hashtag_id "
                    f"WHERE vh.video_id = {m} ORDER BY vh.position",
                    (int(video_id),),
                )
                tags = [r[0] for r in cur.fetchall()]
            finally:
                cur.close()
        return {
            "id": int(video_id),
            "caption": row[0],
            "creator": row[1],
            "creator_handle": row[2],
            "creator_name": row[3],
            "sound": row[4],
            "sound_title": row[5],
            "sound_artist": row[6],
            "sound_original": bool(row[7]),
            "duration": float(row[8]),
            "topic": row[9],
            "topic_name": row[10],
            "profile": row[11],
            "hashtags": tags,
        }


def video_detail_from_world(world: World, video_id: int) -> dict:
    """The same dict as :meth:`WorldStore.video_detail`, from memory."""
    v = int(video_id)
    c = int(world.video_creator[v])
    s = int(world.video_sound[v])
    t = int(world.video_topics[v, 0])
    names = world.extra.get("creator_display_names") or world.creator_handles
    artists = world.extra.get("sound_artists") or [""] * world.n_sounds
    profile = int(world.video_profile[v])
    return {
        "id": v,
        "caption": world.video_captions[v],
        "creator": c,
        "creator_handle": world.creator_handles[c],
        "creator_name": names[c] if c < len(names) else world.creator_handles[c],
        "sound": s,
        "sound_title": world.sound_titles[s],
        "sound_artist": artists[s] if s < len(artists) else "",
        "sound_original": bool(world.sound_original[s]),
        "duration": float(world.video_duration[v]),
        "topic": t,
        "topic_name": world.topic_names[t],
        "profile": None if profile < 0 else profile,
        "hashtags": [world.hashtag_names[h] for h in world.video_tags[v] if h >= 0],
    }


TIER_EVENT_COLS = (
    "video_id",
    "from_tier",
    "to_tier",
    "reason",
    "sim_time",
    "score",
    "bar",
    "impressions",
    "tipped_by",
    "profile_id",
)


def tier_event_row(e: Event) -> tuple:
    """A Promoted / Stalled / Reignited event as a ``tier_event`` row (TIER_EVENT_COLS order)."""
    if isinstance(e, Promoted):
        return (
            e.video,
            e.from_tier,
            e.to_tier,
            "promoted",
            e.time,
            e.score,
            e.bar,
            e.impressions,
            e.tipped_by,
            e.profile,
        )
    if isinstance(e, Stalled):
        return (e.video, e.tier, None, e.reason, e.time, e.score, e.bar, e.impressions, e.tipped_by, e.profile)
    if isinstance(e, Reignited):
        return (e.video, e.tier, e.tier, f"reignited: {e.reason}", e.time, 0.0, 0.0, 0, None, None)
    raise TypeError(f"not a tier event: {e!r}")


_STATE_ARRAYS = (
    "video_tier",
    "video_status",
    "video_tier_entered",
    "video_watch_seconds",
    "video_tier_watch_seconds",
    "video_counts",
    "video_tier_counts",
)
_NEW_ARRAYS = (
    "video_creator",
    "video_sound",
    "video_profile",
    "video_duration",
    "video_topics",
    "video_topic_w",
    "video_language",
    "video_country",
    "video_upload_time",
    "video_quality",
    "video_tags",
    *_STATE_ARRAYS,
)
