"""The live session's memory stays bounded however long and fast the world runs (issue 13)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

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


def test_the_clock_hands_free_memory_back_now_and_then(tiny_db, monkeypatch):
    """Issue 13: the C heap's free pages go back to the system after the clock advances,
    at most once every TRIM_SECONDS (glibc kept the large temporaries' pages; trimming
    30 s after a checkpoint gave back 51 MB at the fastest pace)."""
    from fyp_tui import memory
    from fyp_tui.live.session import LiveSession

    calls: list[int] = []
    monkeypatch.setattr(memory, "_TRIM", [lambda pad: calls.append(pad) or 1])
    monkeypatch.setattr(memory, "_LAST", [0.0])
    live = LiveSession(tiny_db, "me", seed=1)
    try:
        live.open()
        for _ in range(3):
            live.clock.advance(0.25)
        assert calls == [0]  # the first advance trims; the next two come too soon
        monkeypatch.setattr(memory, "TRIM_SECONDS", 0.0)
        live.clock.advance(0.25)
        assert calls == [0, 0]
    finally:
        live.close()


def test_giving_memory_back_works_where_glibc_is():
    import sys

    from fyp_tui import memory

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's malloc_trim: Linux")
    assert memory.give_back_memory() is (memory._trim_function() is not None)
