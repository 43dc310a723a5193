"""The live session's memory stays bounded however long and fast the world runs (issue 13)."""

from __future__ import annotations

from types import SimpleNamespace

from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.live import history
from fyp_tui.live.history import VideoHistory


def test_the_tier_log_keeps_a_bounded_number_of_videos():
    h = VideoHistory(SimpleNamespace(profile_id=1))
    n = history.VIDEOS_KEPT * 3
    for v in range(n):  # a long run at the fastest pace decides many videos
        h.log_tiers([Stalled(1.0, v, 0, 0.1, 0.2, 30, "below bar"), Promoted(1.0, v, 0, 1, 0.5, 0.2, 30, 80)])
    assert len(h.tier_log) == history.VIDEOS_KEPT
    assert all(len(log) <= history.TIER_LOG_MAX for log in h.tier_log.values())
    # the newest are kept; a dropped video's past is read back from the store instead
    assert n - 1 in h.tier_log and 0 not in h.tier_log and 0 in h._dropped
    # credited decisions are kept apart (a handful per hundred cards)
    h.log_tiers([Promoted(2.0, 5, 0, 1, 0.5, 0.2, 30, 80, tipped_by="share", profile=1, instead="stalled")])
    assert [e.video for e in h.credited] == [5]
