"""Checkpoints of an open world: copy out what changed (fast, under the world lock),
then write it in one transaction (slow, fine on a worker thread)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.events import Event
from fyp_tui.engine.world import (
    World,
)
from fyp_tui.store.bulk import (
    insert_columns,
    insert_rows,
    param_marker,
    raw_cursor,
    select_rows,
    update_columns,
    update_rows,
    utcnow,
)
from fyp_tui.store.codecs import (
    CREATOR_COLS,
    HASHTAG_COLS,
    NEW_ARRAYS,
    SETTINGS_EXTRA,
    STATE_ARRAYS,
    TIER_EVENT_COLS,
    TIER_EVENTS,
    array_row,
    creator_rows,
    hashtag_rows,
    insert_new_sql,
    split_extra,
    state_columns,
    tag_columns_of,
    tier_event_row,
    video_columns_from,
)
from fyp_tui.store.mirror import MIRROR_VIDEO, mirror_rows

if TYPE_CHECKING:
    pass


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
    # creators and hashtags made since the last checkpoint (rows; written before the videos)
    creators_before: int = 0
    creator_rows: list[tuple] = field(default_factory=list)
    hashtags_before: int = 0
    hashtag_rows: list[tuple] = field(default_factory=list)

    def requeue(self, world: World) -> None:
        """After a failed write: mark this snapshot's videos unsaved again (caller holds the world lock)."""
        world.video_dirty[self.dirty_ids] = True
        world.video_dirty[self.saved_before : self.n_videos] = True
        world.saved_videos = min(world.saved_videos, self.saved_before)
        world.saved_creators = min(world.saved_creators, self.creators_before)
        world.saved_hashtags = min(world.saved_hashtags, self.hashtags_before)


def capture_snapshot(world: World, events: Sequence[Event] = (), *, mirror: bool = True) -> Snapshot:
    """Copy out what changed since the last checkpoint and mark it saved.

    ``mirror``: also copy every video's arrays for the columnar mirror (a fast load).
    The running app's checkpoints leave it out: a copy of every video's arrays, then
    their bytes, a minute, was the peak of its memory (about 90 MB on a demo world
    grown to 166,000 videos); its last checkpoint, at the end, writes it.

    Call with the world lock held; it only copies arrays (fast). If the write
    later fails, ``snap.requeue(world)`` marks those videos unsaved again.
    """
    n = world.n_videos
    lo = min(world.saved_videos, n)
    new = {name: getattr(world, name)[lo:n].copy() for name in NEW_ARRAYS}
    new["captions"] = list(world.video_captions[lo:n])
    dirty_ids = np.flatnonzero(world.video_dirty[:lo])
    dirty = {name: getattr(world, name)[dirty_ids] for name in STATE_ARRAYS}
    js, arrays = split_extra(world.extra)
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
        events=[e for e in events if isinstance(e, TIER_EVENTS)],
        mirror={k: getattr(world, k)[:n].copy() for k in MIRROR_VIDEO} if mirror else {},
        n_viewers=world.n_viewers,
        creators_before=world.saved_creators,
        creator_rows=creator_rows(world, world.saved_creators, world.n_creators),
        hashtags_before=world.saved_hashtags,
        hashtag_rows=hashtag_rows(world, world.saved_hashtags, world.n_hashtags),
    )
    world.video_dirty[:n] = False
    world.saved_videos = n
    world.saved_creators, world.saved_hashtags = world.n_creators, world.n_hashtags
    return snap


#: rows of ``video`` converted to Python values and written at a time by a checkpoint
WRITE_ROWS = 4096


def write_snapshot(conn: Any, snap: Snapshot, last: dict[str, np.ndarray]) -> None:
    """Write ``snap`` on ``conn`` (the caller's transaction); ``last``: the small arrays
    as the previous write left them (only what changed since is updated)."""
    # new creators and hashtags (a person's own account, the tags they made up), then
    # new videos (with their current state) and their hashtags
    write_new_creators_and_hashtags(conn, snap.creator_rows, snap.hashtag_rows)
    k = snap.n_videos - snap.saved_before
    for lo in range(0, max(k, 0), WRITE_ROWS):  # (a slice at a time, as the changed videos below)
        hi = min(lo + WRITE_ROWS, k)
        nw = {name: a[lo:hi] for name, a in snap.new.items()}
        ids = np.arange(snap.saved_before + lo, snap.saved_before + hi)
        insert_columns(conn, "video", video_columns_from(ids, nw["captions"], nw))
        insert_columns(conn, "video_hashtag", tag_columns_of(snap.saved_before + lo, nw["video_tags"]))
    # changed videos, in one update (one statement on SQLite fed a slice of rows at a time:
    # the Python values of all of them at once, tens of thousands of rows at a fast pace,
    # would grow the interpreter's heap for good; one binary COPY and one UPDATE on PostgreSQL)
    if len(snap.dirty_ids):
        update_columns(conn, "video", state_columns(snap.dirty), snap.dirty_ids, slice_rows=WRITE_ROWS)
    # small arrays: only what changed since the last write
    for table, col, name in (
        ("sound", "trend", "sound_trend"),
        ("hashtag", "trend", "hashtag_trend"),
        ("creator", "follower_count", "creator_followers"),
    ):
        cur = getattr(snap, name)
        before = last.get(name)
        ids = np.arange(len(cur)) if before is None or before.shape != cur.shape else np.flatnonzero(cur != before)
        if len(ids):
            update_rows(conn, table, (col,), zip(cur[ids].tolist(), ids.tolist()))
    # observable engine arrays
    rows = [array_row("aud_pref", snap.aud_pref)] + [array_row(f"extra:{k}", v) for k, v in snap.extra_arrays.items()]
    if snap.mirror:
        rows += mirror_rows(snap.mirror, snap.n_viewers, clock=snap.clock)
    if conn.dialect.name == "sqlite":
        _store_state_sqlite(conn, rows)
    else:
        m = param_marker(conn)
        cur = raw_cursor(conn)
        try:
            cur.executemany(f"DELETE FROM engine_state WHERE name = {m}", [(r[0],) for r in rows])
        finally:
            cur.close()
        insert_rows(conn, "engine_state", ("name", "dtype", "shape", "data"), rows)
    # tier decisions
    if snap.events:
        for lo in range(0, len(snap.events), WRITE_ROWS):  # (a slice at a time, as the videos)
            insert_rows(
                conn, "tier_event", TIER_EVENT_COLS, [tier_event_row(e) for e in snap.events[lo : lo + WRITE_ROWS]]
            )
    update_rows(
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


def write_new_creators_and_hashtags(conn: Any, creators: list[tuple], hashtags: list[tuple]) -> None:
    """Insert rows of creators and hashtags made after seeding, skipping any already
    written (by the person's journal or an earlier checkpoint), on the caller's transaction."""
    if not creators and not hashtags:
        return
    m = param_marker(conn)
    cur = raw_cursor(conn)
    try:
        if creators:
            cur.executemany(insert_new_sql("creator", CREATOR_COLS, m), creators)
        if hashtags:
            cur.executemany(insert_new_sql("hashtag", HASHTAG_COLS, m), hashtags)
    finally:
        cur.close()


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
        for name, rowid, dtype, shape, size in select_rows(
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
        insert_rows(conn, "engine_state", ("name", "dtype", "shape", "data"), rest, or_replace=True)
