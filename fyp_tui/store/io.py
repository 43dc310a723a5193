"""An open world: :class:`WorldStore` opens a world database (schema check, process
lock), reads its summaries and profiles, loads it and checkpoints it.

The work itself lives one concept a module, all under ``fyp_tui.store``:

``db``          URLs, engines, connections, the world lock, the schema check on open
``checks``      a loaded world's sanity, the probe for a writable file
``bulk``        bulk SQL on the DBAPI cursor of the caller's transaction
``codecs``      world arrays <-> table rows (videos, hashtags, interests, tier events)
``mirror``      the columnar mirror of the video and audience arrays
``create``      a new world, written atomically (:func:`save_new_world`)
``load``        one consistent read of a world into the engine's arrays
``checkpoint``  capture what changed (under the world lock), write it in one transaction

``snap = store.capture(world, events)`` copies what changed (fast, under the
caller's world lock), ``store.write(snap)`` commits it in one transaction (slow
part, fine in a worker thread). The engine never queries SQL in its hot path.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.events import Event
from fyp_tui.engine.world import World
from fyp_tui.errors import StoreError, WorldDamagedError, damage_of
from fyp_tui.memory import give_back_memory
from fyp_tui.store.bulk import RawConn, param_marker, raw_cursor, select_rows
from fyp_tui.store.checkpoint import Snapshot, capture_snapshot, write_snapshot
from fyp_tui.store.checks import (
    location_problem,
    pages_problem,
    probe_writable,
    refuse_linked_side_files,
    world_problem,
)
from fyp_tui.store.create import ensure_can_create, insert_videos, save_new_world
from fyp_tui.store.db import (
    WorldLock,
    check_world,
    connect_sqlite,
    db_errors,
    db_errors_and,
    describe,
    error_line,
    make_engine,
    plain_sqlite_path,
    resolve_url,
    sqlite_path,
)
from fyp_tui.store.load import read_world
from fyp_tui.store.schema import TABLE_COLUMNS

# the names other layers import from here (they predate the cut into modules)
__all__ = [
    "ProfileRow",
    "Snapshot",
    "WorldStore",
    "ensure_can_create",
    "insert_videos",
    "person_from_profile",
    "save_new_world",
    "video_detail_from_world",
]

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from fyp_tui.engine.viewer import PersonState


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
            f"profile {str(profile.name)[:40]!r} is corrupt ({type(exc).__name__}: {error_line(exc)})"
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


def _cannot_read_here(exc: StoreError) -> bool:
    """Whether opening failed the way SQLite fails in a place it cannot write (not a damaged file)."""
    text = str(exc)
    return "readonly database" in text or "unable to open database file" in text


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
                refuse_linked_side_files(path)
            # checked through a connection that writes nothing: a file that is no world
            # (an empty one, someone's own database) stays byte for byte as it was
            plain = path if path is not None and plain_sqlite_path(url) is not None else None
            try:
                if plain is not None:
                    source = connect_sqlite(plain, url, readonly=True)
                else:  # other databases, and SQLite URLs with options only SQLAlchemy reads
                    source = make_engine(url, readonly=True)
                meta = check_world(source, url)
            except StoreError as exc:
                # SQLite could not read it at all: a file in a read-only place is not corrupt
                why = location_problem(path) if path is not None and _cannot_read_here(exc) else None
                if why is None:
                    raise
                raise StoreError(f"cannot open {describe(url)}: {why}") from None
            damaged = pages_problem(source)  # every page, not only those this command reads
            if damaged is not None:
                raise StoreError(f"{describe(url)} is corrupt ({damaged})")
            if lock:  # a world: the writer's connection (WAL, as seeding left it)
                if plain is not None:
                    source.close()
                    source = None
                    source = connect_sqlite(plain, url)
                elif source.dialect.name == "sqlite":
                    source.dispose()
                    source = None
                    source = make_engine(url)
                # (other databases: ``readonly`` changed nothing; the engine and its
                # connection, already made, stay: no second connect on the way in)
                probe_writable(source, url)
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
        """A connection for a burst of reads (the bulk helpers' kind: ``select_rows`` ...):
        the stdlib one :meth:`open` made, one at a time, else one from the engine."""
        with self._reader_lock:
            if self._reader is not None:
                yield RawConn(self._reader)
                return
        with self.engine.connect() as conn:
            yield conn

    def _fail(self, what: str, exc: BaseException) -> StoreError:
        why = damage_of(exc)
        if why is not None:  # a page found damaged after the world opened sound
            return WorldDamagedError(f"world {self.where} is damaged ({why})")
        return StoreError(f"{what} {self.where} failed: {error_line(exc)}")

    # -- summary ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            with self._reading() as conn:
                for name in sorted(TABLE_COLUMNS):
                    out[name] = int(select_rows(conn, f"SELECT COUNT(*) FROM {name}")[0][0])
        except db_errors() as exc:
            raise self._fail("reading", exc) from None
        return out

    def group_counts(self, table: str, column: str) -> dict:
        """``{value: rows}`` of ``SELECT column, COUNT(*) ... GROUP BY column``."""
        try:
            with self._reading() as conn:
                rows = select_rows(conn, f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column} ORDER BY {column}")
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
                return select_rows(conn, sql, params)
        except db_errors() as exc:
            raise self._fail("reading", exc) from None

    def sizes(self) -> dict[str, float]:
        """The world's sizes as a scenario's ``[world]`` table names them (``n_viewers``,
        ``n_topics``, ``n_videos``, ``n_creators``, ``n_sounds``) and ``uploads_per_hour``, read
        without loading it (ids are dense from 0: one index lookup each), for a memory
        estimate before a load."""
        names = {"audience": "n_viewers", "topic": "n_topics", "video": "n_videos"}
        names |= {"creator": "n_creators", "sound": "n_sounds"}
        sql = " UNION ALL ".join(f"SELECT COALESCE(MAX(id) + 1, 0) FROM {t}" for t in names)
        rows = self._query(sql)
        out: dict[str, float] = {key: max(int(r[0]), 0) for key, r in zip(names.values(), rows)}
        rate = self._query("SELECT COALESCE(SUM(upload_rate), 0) FROM creator")[0][0]
        #: the simulated creators' uploads per hour (before the engine's ``upload_scale``)
        out["uploads_per_hour"] = float(rate) if isinstance(rate, (int, float)) and rate >= 0 else 0.0
        return out

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

    def tier_history(self, video_id: int, until: float, *, with_profile: bool = False) -> list[tuple]:
        """The ``tier_event`` rows of a video up to simulated time ``until``, oldest first:
        ``(from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by, instead)``,
        and ``profile_id`` last with ``with_profile`` (whose ``tipped_by`` it is; ``instead``:
        what the decision would have been without it)."""
        who = ", profile_id" if with_profile else ""
        rows = self._query(
            "SELECT from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by, instead"
            f"{who} FROM tier_event "
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
                    world, self.loaded_from = read_world(conn, where=self.where, use_mirror=use_mirror)
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
            raise StoreError(f"{self.where} is corrupt or unreadable: {error_line(exc)}") from None
        problem = world_problem(world)
        if problem:
            raise StoreError(f"{self.where} is corrupt ({problem})")
        self._remember(world)
        return world

    def _remember(self, world: World) -> None:
        self._last = {
            "sound_trend": world.sound_trend.copy(),
            "hashtag_trend": world.hashtag_trend.copy(),
            "creator_followers": world.creator_followers.copy(),
        }

    # -- checkpoint ------------------------------------------------------------------
    def capture(self, world: World, events: Sequence[Event] = (), *, mirror: bool = True) -> Snapshot:
        """Copy out what changed since the last checkpoint and mark it saved (with the
        world lock held; see :func:`~fyp_tui.store.checkpoint.capture_snapshot`)."""
        return capture_snapshot(world, events, mirror=mirror)

    def write(self, snap: Snapshot) -> None:
        """Commit a snapshot in one transaction (safe to call from a worker thread)."""
        with self._write_lock:
            try:
                with self.engine.begin() as conn:
                    write_snapshot(conn, snap, self._last)
            except db_errors() as exc:
                raise self._fail("checkpoint of", exc) from None
            self._last = {
                "sound_trend": snap.sound_trend,
                "hashtag_trend": snap.hashtag_trend,
                "creator_followers": snap.creator_followers,
            }
            self.meta["clock"] = snap.clock
        del snap  # (the caller's reference keeps it; what the write made is gone)
        give_back_memory()

    def checkpoint(self, world: World, events: Sequence[Event] = ()) -> None:
        snap = self.capture(world, events)
        try:
            self.write(snap)
        except BaseException:
            snap.requeue(world)
            raise

    # -- details for the app and explain ---------------------------------------------
    def video_detail(self, video_id: int, world: World | None = None) -> dict:
        """Caption, creator, sound and hashtag names of a video.

        With ``world`` given (and the video in it) no SQL runs; otherwise the row
        is read from the database (KeyError if it is not there).
        """
        if world is not None and 0 <= video_id < world.n_videos:
            return video_detail_from_world(world, video_id)
        with self._reading() as conn:
            m = param_marker(conn)
            cur = raw_cursor(conn)
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
