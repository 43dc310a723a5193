"""The columnar mirror of the video and audience arrays in ``engine_state``
(``mirror:<array>`` blobs) and the check values that say whether it matches the rows.

The rows are the truth. The mirror is rewritten by each checkpoint in the same
transaction; loading uses it only when its check values (row counts and counter
sums) match the tables, and reads the rows otherwise. Loading 1M viewers from rows
takes seconds, from the mirror a fraction of one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.engine.world import (
    VIDEO_ARRAYS,
)
from fyp_tui.store.bulk import select_rows
from fyp_tui.store.codecs import array_row, json_row

if TYPE_CHECKING:
    pass


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


def _video_check(arrays: dict[str, np.ndarray], n_viewers: int, clock: float | None = None) -> dict:
    counts = arrays["video_counts"]
    return {
        **({} if clock is None else {"clock": float(clock)}),
        "videos": int(len(arrays["video_tier"])),
        "views": int(counts[:, 0].sum()),
        "likes": int(counts[:, 2].sum()),
        "tiers": int(arrays["video_tier"].astype(np.int64).sum()),
        "in_tier": int(arrays["video_tier_counts"][:, 0].sum()),
        "tags": int((arrays["video_tags"] >= 0).sum()),
        "viewers": int(n_viewers),
    }


def mirror_rows(
    video: dict[str, np.ndarray],
    n_viewers: int,
    audience: dict[str, np.ndarray] | None = None,
    *,
    clock: float | None = None,
) -> list[tuple]:
    """engine_state rows of the columnar mirror and its check (``clock``: the world's
    clock it was written at; a load uses the video mirror only at that clock)."""
    rows = [array_row(f"mirror:{k}", v) for k, v in video.items()]
    if audience is not None:
        rows += [array_row(f"mirror:{k}", v) for k, v in audience.items()]
    rows.append(json_row("mirror:check", _video_check(video, n_viewers, clock)))
    return rows


def video_mirror_ok(conn: Any, state: dict, check: dict, V: int) -> bool:
    """Whether the video mirror in ``state`` matches the ``video`` rows (lengths, check sums)."""
    if check.get("videos") != V or not all(f"mirror:{k}" in state for k in MIRROR_VIDEO):
        return False
    if any(len(state[f"mirror:{k}"]) != V for k in MIRROR_VIDEO):
        return False
    row = select_rows(
        conn,
        "SELECT COALESCE(SUM(views), 0), COALESCE(SUM(tier), 0), "
        "COALESCE(SUM(impressions_in_tier), 0), COALESCE(SUM(likes), 0) FROM video",
    )[0]
    tags = int(select_rows(conn, "SELECT COUNT(*) FROM video_hashtag")[0][0])
    return [int(v) for v in row] + [tags] == [
        check["views"],
        check["tiers"],
        check["in_tier"],
        check["likes"],
        check["tags"],
    ]
