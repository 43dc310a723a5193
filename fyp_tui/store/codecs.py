"""World arrays <-> table rows: the column lists, and the one mapping each way between
the engine's arrays (videos, hashtags, interests, engine state, tier events) and rows.

World.extra round trip: ``engine``, ``world_settings``, ``description`` and
``caption_words_by_language`` live in ``world_meta.settings_json``;
``creator_display_names`` / ``sound_artists`` come from their tables; any other
key is saved too: numpy arrays as ``engine_state`` rows named ``extra:<key>``,
JSON-safe values under ``settings_json["extra"]`` (anything else is skipped).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.events import TIER_EVENTS, Event, Promoted, Reignited, Stalled
from fyp_tui.engine.world import (
    N_SIGNALS,
    TOPICS_PER_VIEWER,
    World,
)
from fyp_tui.store.bulk import none_if_negative

if TYPE_CHECKING:
    pass


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
HASHTAG_COLS = ("id", "name", "topic_id", "trend")


def creator_rows(world: World, lo: int, hi: int) -> list[tuple]:
    """Rows ``[lo, hi)`` of the creator table (CREATOR_COLS order): creators made
    after seeding (a person's own account, :meth:`World.add_creator`)."""
    names = world.extra.get("creator_display_names") or world.creator_handles
    return [
        (
            c,
            world.creator_handles[c],
            names[c] if c < len(names) else world.creator_handles[c],
            int(world.creator_country[c]),
            int(world.creator_language[c]),
            int(world.creator_topic[c]),
            int(world.creator_followers[c]),
            float(world.creator_upload_rate[c]),
            float(world.creator_skill[c]),
        )
        for c in range(lo, hi)  # a few rows: the accounts people made since the last write
    ]


def hashtag_rows(world: World, lo: int, hi: int) -> list[tuple]:
    """Rows ``[lo, hi)`` of the hashtag table (HASHTAG_COLS order): hashtags made after
    seeding (new ones a person posted with, :meth:`World.add_hashtags`)."""
    return [
        (h, world.hashtag_names[h], None if world.hashtag_topic[h] < 0 else int(world.hashtag_topic[h]), 0.0)
        for h in range(lo, hi)  # a few rows: the tags people made since the last write
    ]


def insert_new_sql(table: str, cols: Sequence[str], marker: str) -> str:
    """An INSERT of ``cols`` that skips a row whose id is already there (SQLite and
    PostgreSQL): new creators and hashtags may be written by the person's journal
    and by a checkpoint, whichever comes first."""
    values = ", ".join([marker] * len(cols))
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values}) ON CONFLICT (id) DO NOTHING"


AUDIENCE_COLS = ("id", "country_id", "language_id", "device_id", "activity", "like_propensity", "interests")

#: World.extra keys with a home of their own (not in settings_json["extra"])
SETTINGS_EXTRA = ("engine", "world_settings", "description", "caption_words_by_language")
TABLE_EXTRA = ("creator_display_names", "sound_artists")

#: bytes per audience.interests value: int16 topic ids, then float32 weights
INTEREST_DTYPE = np.dtype([("topics", "<i2", (TOPICS_PER_VIEWER,)), ("weights", "<f4", (TOPICS_PER_VIEWER,))])


def video_columns(world: World, lo: int, hi: int) -> dict[str, Any]:
    s = slice(lo, hi)
    return video_columns_from(
        np.arange(lo, hi),
        world.video_captions[lo:hi],
        {name: getattr(world, name)[s] for name in NEW_ARRAYS},
    )


def video_rows(world: World, lo: int, hi: int) -> Iterable[tuple]:
    """Rows ``[lo, hi)`` of the video table as tuples in VIDEO_COLS order."""
    cols = video_columns(world, lo, hi)
    return zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in (cols[name] for name in VIDEO_COLS)))


def video_columns_from(ids: np.ndarray, captions: Sequence[str], a: dict[str, np.ndarray]) -> dict[str, Any]:
    """VIDEO_COLS -> column values, from video arrays sliced to the rows written."""
    profile = a["video_profile"]
    cols: dict[str, Any] = {
        "id": ids,
        "creator_id": a["video_creator"],
        "sound_id": a["video_sound"],
        "profile_id": [None] * len(ids) if (profile < 0).all() else none_if_negative(profile),
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
    cols.update(state_columns(a))
    return cols


def state_columns(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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


def tag_rows_of(first_id: int, tags: np.ndarray) -> Iterable[tuple]:
    vid, pos = np.nonzero(tags >= 0)
    return zip((vid + first_id).tolist(), tags[vid, pos].tolist(), pos.tolist())


def tag_columns_of(first_id: int, tags: np.ndarray) -> dict[str, np.ndarray]:
    """The ``video_hashtag`` rows of videos ``first_id, first_id + 1, ...`` (their
    ``tags``), column-wise for ``insert_columns`` (a binary COPY on PostgreSQL)."""
    vid, pos = np.nonzero(tags >= 0)
    return {"video_id": vid + first_id, "hashtag_id": tags[vid, pos].astype(np.int64), "position": pos}


def interests_blob(world: World) -> np.ndarray:
    """``audience.interests`` of every viewer: one fixed-size blob each (a numpy void
    array; ``tolist()`` gives the bytes)."""
    rec = np.empty(world.n_viewers, INTEREST_DTYPE)
    rec["topics"] = world.aud_topics
    rec["weights"] = world.aud_topic_w
    return rec.view(f"V{INTEREST_DTYPE.itemsize}")


def array_row(name: str, a: np.ndarray) -> tuple:
    a = np.ascontiguousarray(a)
    return (name, a.dtype.str, json.dumps(list(a.shape)), a.tobytes())


def json_row(name: str, value: Any) -> tuple:
    return (name, "json", "[]", json.dumps(value).encode())


def read_state(rows: list[tuple]) -> dict[str, Any]:
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


def split_extra(extra: dict) -> tuple[dict, dict[str, np.ndarray]]:
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


def settings_of(world: World) -> dict:
    js, _ = split_extra(world.extra)
    settings = {k: world.extra[k] for k in SETTINGS_EXTRA if k in world.extra}
    settings["caption_words"] = list(world.caption_words)
    settings["device_names"] = list(world.device_names)  # also in the device table
    settings["extra"] = js
    return settings


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
    "instead",
)


def tier_event_row(e: Event, *, profile_id: int | None = None) -> tuple:
    """A Promoted / Stalled / Reignited event as a ``tier_event`` row (TIER_EVENT_COLS order).

    The one mapping, for the checkpoint and the person's journal alike. ``profile_id``:
    whose the decision is when the event does not say (the journal's person). A
    non-finite score or bar (a video judged on no impressions) is stored as 0.0: the
    columns are NOT NULL floats, and PostgreSQL would refuse NaN in a report query."""
    if isinstance(e, Promoted):
        who = e.profile if e.profile is not None else profile_id
        return (
            e.video,
            e.from_tier,
            e.to_tier,
            "promoted",
            e.time,
            _finite(e.score),
            _finite(e.bar),
            e.impressions,
            e.tipped_by,
            who,
            e.instead,
        )
    if isinstance(e, Stalled):
        who = e.profile if e.profile is not None else profile_id
        return (
            e.video,
            e.tier,
            None,
            e.reason,
            e.time,
            _finite(e.score),
            _finite(e.bar),
            e.impressions,
            e.tipped_by,
            who,
            e.instead,
        )
    if isinstance(e, Reignited):
        return (e.video, e.tier, e.tier, f"reignited: {e.reason}", e.time, 0.0, 0.0, 0, None, None, None)
    raise TypeError(f"not a tier event: {e!r}")


def tier_event_rows(events: Iterable[Event], *, profile_id: int | None = None) -> list[tuple]:
    """:func:`tier_event_row` of each tier event in ``events`` (others are skipped)."""
    return [tier_event_row(e, profile_id=profile_id) for e in events if isinstance(e, TIER_EVENTS)]


def _finite(x: float) -> float:
    x = float(x)
    return x if math.isfinite(x) else 0.0


STATE_ARRAYS = (
    "video_tier",
    "video_status",
    "video_tier_entered",
    "video_watch_seconds",
    "video_tier_watch_seconds",
    "video_counts",
    "video_tier_counts",
)
NEW_ARRAYS = (
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
    *STATE_ARRAYS,
)
