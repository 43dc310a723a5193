"""Profiles (the people using the app) and the Journal that makes their reactions durable.

* :func:`get_or_create_profile` / :func:`load_person`: a profile row <-> the
  engine's :class:`~fyp_tui.engine.viewer.PersonState`. The seen set is rebuilt
  from the person's impression rows, so the per-reaction state stays small.
* :class:`SqlJournal`: the store side of :class:`fyp_tui.engine.feed.Journal`.
  ``record`` commits, in ONE transaction and before it returns, the interaction
  row, the person's new state and the tier events the reaction caused. The
  video's counters reach the ``video`` table with the next world checkpoint, so
  the app must not pass these events to ``WorldStore.checkpoint`` again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from fyp_tui.engine.events import Event
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import World
from fyp_tui.errors import StoreError, UsageError
from fyp_tui.store.codecs import TIER_EVENT_COLS, tier_event_rows
from fyp_tui.store.db import error_line
from fyp_tui.store.io import person_from_profile
from fyp_tui.store.models import Interaction, Profile, TierEventRow

# the Core tables (SQLModel sets ``__table__`` at class creation, invisible to a type checker)
_INTERACTION = Interaction.metadata.tables["interaction"]
_PROFILE = Profile.metadata.tables["profile"]
_TIER_EVENT = TierEventRow.metadata.tables["tier_event"]


def _dbapi(conn: Connection) -> Any:
    """The DBAPI connection under ``conn`` (for plain driver statements on its transaction)."""
    dbapi = conn.connection.dbapi_connection
    if dbapi is None:  # only after the connection was invalidated
        raise StoreError("the database connection was lost")
    return dbapi


def get_or_create_profile(*, session, name: str) -> Profile:
    """The profile called ``name``, created (cold start, knob 0.3) if it does not exist."""
    name = (name or "").strip()
    if not name:
        raise UsageError("a profile name must not be empty")
    prof = session.execute(select(Profile).where(col(Profile.name) == name)).scalars().first()
    if prof is None:
        prof = Profile(name=name)
        session.add(prof)
        session.commit()
        session.refresh(prof)
    return prof


def find_profile(*, session, name: str) -> Profile | None:
    return session.execute(select(Profile).where(col(Profile.name) == name)).scalars().first()


def load_person(*, session, profile: Profile, world: World) -> PersonState:
    """The engine's view of ``profile``: learned state, follows, filters, history, and
    every video it ever had an impression of (seen)."""
    rows = session.execute(
        select(col(Interaction.video_id))
        .where(col(Interaction.profile_id) == profile.id, col(Interaction.kind) == "impression")
        .distinct()
    ).scalars()
    return person_from_profile(profile, rows, world)


def save_person(*, session, profile_id: int, person: PersonState) -> None:
    """Write the person's state into the profile row (commits)."""
    session.execute(
        update(_PROFILE).where(_PROFILE.c.id == profile_id).values(**_profile_values(person.to_dict(seen=False)))
    )
    session.commit()


def _profile_values(state: dict) -> dict:
    return {
        "state_json": json.dumps(state, separators=(",", ":")),
        "knob": float(state.get("knob", 0.3)),
        "onboarded": bool(state.get("onboarded", False)),
        "country_id": state.get("country"),
        "language_id": state.get("language"),
    }


_INTERACTION_COLS = ("profile_id", "video_id", "kind", "watch_seconds", "loops", "created_at", "sim_time")
_PROFILE_COLS = ("state_json", "knob", "onboarded", "country_id", "language_id")
_SQL_INTERACTION = (
    f"INSERT INTO interaction ({', '.join(_INTERACTION_COLS)}) VALUES ({', '.join('?' * len(_INTERACTION_COLS))})"
)
_SQL_PROFILE = f"UPDATE profile SET {', '.join(f'{c} = ?' for c in _PROFILE_COLS)} WHERE id = ?"
_SQL_TIER_EVENT = (
    f"INSERT INTO tier_event ({', '.join(TIER_EVENT_COLS)}) VALUES ({', '.join('?' * len(TIER_EVENT_COLS))})"
)


class SqlJournal:
    """Commits a person's reactions to the store (see the module doc).

    With ``world`` given, a reaction to a video the store has no row for yet (it
    was uploaded after the last checkpoint) first writes the rows of every such
    new video in the same transaction and marks them saved (``world.saved_videos``;
    they stay dirty, so the next checkpoint updates their counters), so the
    interaction's foreign key holds and nothing the person did waits for a
    checkpoint. A video in a checkpoint still being written is waited for (up to
    ``wait_seconds``). The caller holds the world lock (FeedSession calls do).

    On SQLite the journal keeps one connection of its own (no pool checkout or ORM
    transaction per reaction) with the WAL auto-checkpoint pushed out to a safety
    limit; instead, every ``checkpoint_every`` commits a background thread runs a
    PASSIVE WAL checkpoint on its own connection (it copies pages and fsyncs the
    database while the person keeps scrolling; it never blocks a commit). Each
    reaction is still committed before ``record`` returns, with the durability
    ``make_engine`` sets for every connection (WAL, ``synchronous=NORMAL``: safe
    if the app dies; the fsync happens at checkpoints). ``close()`` releases the
    journal's connections; one never closed is released when collected.
    """

    #: commits between background WAL checkpoints (a reaction writes ~3-4 WAL pages)
    checkpoint_every = 100
    #: the journal's own connection checkpoints inline only past this many WAL pages
    #: (only if the background checkpoints cannot keep up, e.g. a reader holds them off)
    safety_autocheckpoint = 20_000

    def __init__(self, engine: Engine, world: World | None = None, *, wait_seconds: float = 3.0) -> None:
        self.engine = engine
        self.world = world
        self.wait_seconds = wait_seconds
        # videos below this id had rows when the journal was made
        self._known = int(world.saved_videos) if world is not None else 0
        # statements built once (building a where-clause costs more than running it)
        self._ins_interaction = insert(_INTERACTION)
        self._upd_profile = update(_PROFILE).where(_PROFILE.c.id == bindparam("pid"))
        self._ins_tier_event = insert(_TIER_EVENT)
        self._conn = None  # the journal's own DBAPI connection (SQLite), made on first use
        self._checkpointer: _Checkpointer | None = None
        self._commits = 0

    def record(
        self,
        profile_id: int,
        kind: str,
        video: int,
        watch_seconds: float,
        loops: int,
        sim_time: float,
        person_state: dict,
        events: list[Event],
    ) -> None:
        row: dict[str, Any] = {
            "profile_id": int(profile_id),
            "video_id": int(video),
            "kind": kind,
            "watch_seconds": float(watch_seconds),
            "loops": int(loops),
            "created_at": datetime.now(UTC),
            "sim_time": float(sim_time),
        }
        tier_rows = tier_event_rows(events, profile_id=profile_id)
        prof = _profile_values(person_state)
        if self.engine.dialect.name == "sqlite" and (self.world is None or video < self._known):
            self._record_fast(kind, row, prof, int(profile_id), tier_rows)
            return
        saved_to = None
        try:
            with self.engine.begin() as conn:
                if self.world is not None and video >= self._known:
                    saved_to = self._ensure_video(conn, self.world, int(video))
                if conn.dialect.name == "sqlite":
                    # the hot path: plain DBAPI statements on the same transaction
                    row["created_at"] = row["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
                    cur = _dbapi(conn).cursor()
                    try:
                        cur.execute(_SQL_INTERACTION, tuple(row[c] for c in _INTERACTION_COLS))
                        cur.execute(_SQL_PROFILE, (*(prof[c] for c in _PROFILE_COLS), int(profile_id)))
                        if tier_rows:
                            cur.executemany(_SQL_TIER_EVENT, tier_rows)
                    finally:
                        cur.close()
                else:
                    conn.execute(self._ins_interaction, row)
                    conn.execute(self._upd_profile, {"pid": int(profile_id), **prof})
                    if tier_rows:
                        conn.execute(self._ins_tier_event, [dict(zip(TIER_EVENT_COLS, r)) for r in tier_rows])
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"could not save your {kind.replace('_', ' ')}: {error_line(exc)}") from None
        if (
            saved_to is not None and self.world is not None
        ):  # committed: rows exist now (still dirty for the checkpoint)
            self.world.saved_videos = max(int(self.world.saved_videos), saved_to)
            self._known = max(self._known, saved_to)

    def _record_fast(self, kind: str, row: dict, prof: dict, profile_id: int, tier_rows: list[tuple]) -> None:
        """The hot path (SQLite, a video the store has a row for): plain DBAPI
        statements in one transaction on the journal's own connection."""
        row["created_at"] = row["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
        try:
            conn = self._connection()
            cur = conn.cursor()
            try:  # the driver opens the transaction at the first INSERT
                cur.execute(_SQL_INTERACTION, tuple(row[c] for c in _INTERACTION_COLS))
                cur.execute(_SQL_PROFILE, (*(prof[c] for c in _PROFILE_COLS), profile_id))
                if tier_rows:
                    cur.executemany(_SQL_TIER_EVENT, tier_rows)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                cur.close()
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"could not save your {kind.replace('_', ' ')}: {error_line(exc)}") from None
        self._commits += 1
        if self._commits % self.checkpoint_every == 0:
            if self._checkpointer is None:
                self._checkpointer = _Checkpointer(self.engine)
            self._checkpointer.poke()

    def _connection(self):
        if self._conn is None:
            fairy = self.engine.raw_connection()  # the engine's connect event set the pragmas
            dbapi = fairy.driver_connection
            if dbapi is None:  # a pool never hands out an invalidated connection
                raise StoreError("the database connection was lost")
            fairy.detach()  # its own settings below never reach the pool's other users
            cur = dbapi.cursor()
            try:
                cur.execute(f"PRAGMA wal_autocheckpoint={int(self.safety_autocheckpoint)}")
            finally:
                cur.close()
            self._fairy, self._conn = fairy, dbapi
        return self._conn

    def close(self) -> None:
        """Release the journal's connections (and stop its checkpoint thread)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._conn is not None:
            conn, fairy = self._conn, self._fairy
            self._conn = self._fairy = None
            try:
                conn.close()
            except sqlite3.Error:
                pass
            del fairy

    def __del__(self) -> None:  # a journal nobody closed must not leave its thread behind
        cp = getattr(self, "_checkpointer", None)
        if cp is not None:
            cp.stop(wait=False)

    def _ensure_video(self, conn, world: World, video: int) -> int | None:
        """Make sure ``video`` has a row; return the new ``saved_videos`` if rows were written."""
        from fyp_tui.store import codecs

        lo, hi = int(world.saved_videos), int(world.n_videos)
        if video >= lo:
            # new since the last checkpoint: write every new video's row now, after the
            # creators and hashtags made since (a person's own account, new tags)
            m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            cols = codecs.VIDEO_COLS
            cur = _dbapi(conn).cursor()
            try:
                creators = codecs.creator_rows(world, world.saved_creators, world.n_creators)
                if creators:
                    cur.executemany(codecs.insert_new_sql("creator", codecs.CREATOR_COLS, m), creators)
                hashtags = codecs.hashtag_rows(world, world.saved_hashtags, world.n_hashtags)
                if hashtags:
                    cur.executemany(codecs.insert_new_sql("hashtag", codecs.HASHTAG_COLS, m), hashtags)
                cur.executemany(
                    f"INSERT INTO video ({', '.join(cols)}) VALUES ({', '.join([m] * len(cols))})",
                    list(codecs.video_rows(world, lo, hi)),
                )
                cur.executemany(
                    f"INSERT INTO video_hashtag (video_id, hashtag_id, position) VALUES ({m}, {m}, {m})",
                    list(codecs.tag_rows_of(lo, world.video_tags[lo:hi])),
                )
            finally:
                cur.close()
            return hi
        # saved by a checkpoint that may still be writing: wait for its row
        deadline = time.monotonic() + self.wait_seconds
        probe = text("SELECT 1 FROM video WHERE id = :v")
        while True:
            with self.engine.connect() as c2:
                if c2.execute(probe, {"v": video}).first() is not None:
                    self._known = max(self._known, video + 1)
                    return None
            if time.monotonic() > deadline:
                return None  # the insert below reports the missing row
            time.sleep(0.01)

    def save_state(self, profile_id: int, person_state: dict) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(self._upd_profile, {"pid": int(profile_id), **_profile_values(person_state)})
        except SQLAlchemyError as exc:
            raise StoreError(f"could not save your profile: {error_line(exc)}") from None


class _Checkpointer:
    """A daemon thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
    connection when poked: the WAL's pages reach the database file (and the fsync
    happens) off the person's path. PASSIVE never waits for, nor blocks, a writer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wake = threading.Event()
        self._stopping = False
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="fyp-tui-wal-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self, wait: bool = True) -> None:
        self._stopping = True
        self._wake.set()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def _loop(self) -> None:
        conn = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    if conn is None:
                        conn = self.engine.raw_connection()
                    cur = conn.cursor()  # the pooled proxy hands out the driver's own cursor
                    try:
                        cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    finally:
                        cur.close()
                    self.runs += 1
                except (SQLAlchemyError, sqlite3.Error):
                    pass  # best effort: the next poke (or any connection's auto-checkpoint) tries again
        finally:
            if conn is not None:
                try:
                    conn.close()
                except (SQLAlchemyError, sqlite3.Error):
                    pass


def _device_name(state_json: str | None, devices: dict[int, str]) -> str | None:
    try:
        device = json.loads(state_json or "{}").get("device")
    except (ValueError, AttributeError):
        return None  # a damaged state: listing still works, opening the profile says what is wrong
    return devices.get(device) if isinstance(device, int) else None


# -- managing profiles (``fyp-tui profiles``) ------------------------------------------------
def list_profiles(*, engine: Engine) -> list[dict[str, Any]]:
    """Every profile, by name: created, cards watched (videos with an impression),
    reactions (every other interaction but posts), knob, and the device's name (from the
    person's saved state; None for a profile that has not saved one yet)."""
    try:
        sql = text(
            "SELECT p.name, p.created_at, p.knob, "
            "(SELECT COUNT(DISTINCT i.video_id) FROM interaction i WHERE i.profile_id = p.id AND i.kind = 'impression'), "
            "(SELECT COUNT(*) FROM interaction i WHERE i.profile_id = p.id AND i.kind NOT IN ('impression', 'post')), "
            "p.state_json FROM profile p ORDER BY p.name"
        )
        with engine.connect() as conn:
            found = conn.execute(sql).all()
            devices: dict[int, str] = {int(i): str(n) for i, n in conn.execute(text("SELECT id, name FROM device"))}
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError(f"could not read the profiles: {error_line(exc)}") from None
    rows = [(*row[:5], _device_name(row[5], devices)) for row in found]
    out = []
    for name, created, knob, cards, reactions, dev in rows:
        if isinstance(created, str):  # SQLite hands back its text form
            created = datetime.fromisoformat(created)
        out.append(
            {
                "name": name,
                "created": created.replace(tzinfo=created.tzinfo or UTC).isoformat(timespec="seconds")
                if created is not None
                else None,
                "cards_watched": int(cards),
                "reactions": int(reactions),
                "knob": float(knob),
                "device": dev,
            }
        )
    return out


def _profile_id(conn: Connection, name: str) -> int:
    pid = conn.execute(select(_PROFILE.c.id).where(_PROFILE.c.name == name)).scalar()
    if pid is None:
        raise UsageError(f"no profile called {name!r} in this world (`fyp-tui profiles` lists them)")
    return int(pid)


def delete_profile(*, engine: Engine, name: str) -> dict[str, int]:
    """Delete the profile ``name`` and its interactions, in one transaction; the videos
    it posted stay in the world (no longer marked as its), and tier decisions it tipped
    stay but are credited to nobody. What it added to videos' counters stays counted,
    as a viewer's views outlive their account. The caller holds the world lock.
    Returns the rows changed: ``interactions``, ``videos``, ``decisions``."""
    from sqlalchemy import delete

    try:
        with engine.begin() as conn:
            pid = _profile_id(conn, name)
            gone = conn.execute(delete(_INTERACTION).where(_INTERACTION.c.profile_id == pid)).rowcount
            video = Interaction.metadata.tables["video"]
            videos = conn.execute(update(video).where(video.c.profile_id == pid).values(profile_id=None)).rowcount
            if videos:  # the columnar mirror holds video_profile: loading reads the rows until the next checkpoint
                conn.execute(text("DELETE FROM engine_state WHERE name = 'mirror:check'"))
            decisions = conn.execute(
                update(_TIER_EVENT).where(_TIER_EVENT.c.profile_id == pid).values(profile_id=None, tipped_by=None)
            ).rowcount
            conn.execute(delete(_PROFILE).where(_PROFILE.c.id == pid))
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError(f"could not delete profile {name!r}: {error_line(exc)}") from None
    return {"interactions": int(gone), "videos": int(videos), "decisions": int(decisions)}


def reset_profile(*, engine: Engine, name: str) -> None:
    """Forget the learned interests of ``name``, as the Profile screen's Refresh does:
    follows, likes, filters and history stay. The caller holds the world lock."""
    try:
        with engine.begin() as conn:
            pid = _profile_id(conn, name)
            state_json = conn.execute(select(_PROFILE.c.state_json).where(_PROFILE.c.id == pid)).scalar()
            n_topics = int(conn.execute(text("SELECT COUNT(*) FROM topic")).scalar() or 0)
            try:
                state = json.loads(state_json or "{}")
                if not state:  # nothing learned yet: nothing to forget
                    return
                person = PersonState.from_dict(state if isinstance(state, dict) else {}, n_topics=n_topics)
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                raise StoreError(f"profile {name!r} is corrupt ({type(exc).__name__}: {error_line(exc)})") from None
            person.reset_interests()
            values = _profile_values(person.to_dict(seen=False))
            values.pop("knob")  # the profile's knob, country and language stay as they are
            values.pop("country_id")
            values.pop("language_id")
            conn.execute(update(_PROFILE).where(_PROFILE.c.id == pid).values(**values))
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError(f"could not reset profile {name!r}: {error_line(exc)}") from None
