"""Loading a world: one consistent read of every table (or of the columnar mirror,
when it matches the rows) into the engine's arrays."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.world import (
    TAGS_PER_VIDEO,
    World,
    empty_video_arrays,
)
from fyp_tui.errors import StoreError
from fyp_tui.store.bulk import columns_of, select_rows
from fyp_tui.store.codecs import COUNT_COLS, INTEREST_DTYPE, SETTINGS_EXTRA, TIER_COUNT_COLS, VIDEO_COLS, read_state
from fyp_tui.store.mirror import MIRROR_AUDIENCE, MIRROR_VIDEO, video_mirror_ok

if TYPE_CHECKING:
    pass


def read_world(conn: Any, *, where: str, use_mirror: bool) -> tuple[World, dict[str, str]]:
    """The world in ``conn``'s database, and where its video and audience arrays came
    from (``mirror`` or ``rows``); call inside one read transaction."""
    loaded_from: dict[str, str] = {}
    meta = select_rows(conn, "SELECT scenario, seed, clock, settings_json FROM world_meta WHERE id = 1")[0]
    scenario, seed, clock, settings_json = meta
    settings = json.loads(settings_json or "{}")

    def names(table: str, col: str) -> list[str]:
        return [r[0] for r in select_rows(conn, f"SELECT {col} FROM {table} ORDER BY id")]

    topic_names = names("topic", "name")
    T = len(topic_names)
    cr = columns_of(
        select_rows(
            conn,
            "SELECT handle, display_name, country_id, language_id, topic_id, "
            "follower_count, upload_rate, skill FROM creator ORDER BY id",
        ),
        8,
    )
    so = columns_of(select_rows(conn, "SELECT title, artist, original, trend FROM sound ORDER BY id"), 4)
    ha = columns_of(select_rows(conn, "SELECT name, topic_id, trend FROM hashtag ORDER BY id"), 3)
    state = read_state(select_rows(conn, "SELECT name, dtype, shape, data FROM engine_state", binary=True))
    check = state.get("mirror:check") if use_mirror else None

    # videos -----------------------------------------------------------------------
    captions = names("video", "caption")
    V = len(captions)
    arrays = empty_video_arrays(V, T)
    # (a checkpoint of the running app does not rewrite the mirror: after a crash the
    # world's clock has moved on from the mirror's, and the rows, the truth, are read)
    if check is not None and check.get("clock", clock) == clock and video_mirror_ok(conn, state, check, V):
        for name in MIRROR_VIDEO:
            arrays[name][:] = state[f"mirror:{name}"]
        loaded_from["video"] = "mirror"
    else:
        _load_video_rows(conn, arrays, V, where)
        loaded_from["video"] = "rows"

    # audience ---------------------------------------------------------------------
    N = int(select_rows(conn, "SELECT COUNT(*) FROM audience")[0][0])
    if check is not None and check.get("viewers") == N and all(f"mirror:{k}" in state for k in MIRROR_AUDIENCE):
        aud = {k: np.array(state[f"mirror:{k}"]) for k in MIRROR_AUDIENCE}
        if any(len(a) != N for a in aud.values()):
            raise StoreError(f"{where} is corrupt (audience mirror has the wrong length)")
        loaded_from["audience"] = "mirror"
    else:
        aud = _load_audience_rows(conn, N, where)
        loaded_from["audience"] = "rows"

    aud_pref = state.get("aud_pref")
    aud_pref = np.zeros((N, T), np.float16) if aud_pref is None else np.array(aud_pref, np.float16)
    if aud_pref.shape != (N, T):
        raise StoreError(f"{where} is corrupt (aud_pref has shape {aud_pref.shape}, expected {(N, T)})")

    extra: dict = {k: settings[k] for k in SETTINGS_EXTRA if k in settings}
    extra.update(settings.get("extra", {}))
    extra["creator_display_names"] = list(cr[1])
    extra["sound_artists"] = list(so[1])
    for name, a in state.items():
        if name.startswith("extra:"):
            extra[name[len("extra:") :]] = np.array(a)

    columns: dict[str, Any] = {**arrays, **aud}  # the video and audience arrays, by World field
    world = World(
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
        saved_creators=len(cr[0]),
        saved_hashtags=len(ha[0]),
        extra=extra,
    )
    return world, loaded_from


def _load_video_rows(conn: Any, arrays: dict[str, np.ndarray], V: int, where: str) -> None:
    cols = [c for c in VIDEO_COLS[1:] if c != "caption"]
    vrows = select_rows(conn, f"SELECT {', '.join(cols)} FROM video ORDER BY id")
    if len(vrows) != V:
        raise StoreError(f"{where} changed while loading")
    if V:
        c = dict(zip(cols, columns_of(vrows, len(cols))))
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
                raise StoreError(f"{where} is corrupt (video.{col} out of range)")
            arrays[f"video_{col}"][:] = v
        arrays["video_tier_entered"][:] = c["tier_entered"]
        arrays["video_watch_seconds"][:] = c["watch_seconds"]
        arrays["video_tier_watch_seconds"][:] = c["tier_watch_seconds"]
        for j, name in enumerate(COUNT_COLS):
            arrays["video_counts"][:, j] = c[name]
        for j, name in enumerate(TIER_COUNT_COLS):
            arrays["video_tier_counts"][:, j] = c[name]
    tag_rows = select_rows(conn, "SELECT video_id, position, hashtag_id FROM video_hashtag")
    if tag_rows:
        t = np.array(tag_rows, dtype=np.int64)
        if (t[:, 1] >= TAGS_PER_VIDEO).any() or (t[:, 1] < 0).any() or (t[:, 0] >= V).any():
            raise StoreError(f"{where} is corrupt (video_hashtag rows out of range)")
        arrays["video_tags"][t[:, 0], t[:, 1]] = t[:, 2]


def _load_audience_rows(conn: Any, N: int, where: str) -> dict[str, np.ndarray]:
    au = columns_of(
        select_rows(
            conn,
            "SELECT country_id, language_id, device_id, activity, like_propensity, interests FROM audience ORDER BY id",
        ),
        6,
    )
    if len(au[0]) != N:
        raise StoreError(f"{where} changed while loading")
    interests = np.frombuffer(b"".join(au[5]), INTEREST_DTYPE) if N else np.empty(0, INTEREST_DTYPE)
    if len(interests) != N:
        raise StoreError(f"{where} is corrupt (audience.interests has the wrong size)")
    return {
        "aud_country": np.array(au[0], np.int16),
        "aud_language": np.array(au[1], np.int16),
        "aud_device": np.array(au[2], np.int8),
        "aud_activity": np.array(au[3], np.float32),
        "aud_topics": interests["topics"].astype(np.int16),
        "aud_topic_w": interests["weights"].astype(np.float32),
        "aud_like_prop": np.array(au[4], np.float32),
    }
