"""The live session's memory stays bounded however long and fast the world runs (issue 13)."""

from __future__ import annotations

import sys
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
    assert n - 1 in h.tier_log and 0 not in h.tier_log and h.was_dropped(0)
    assert not h.was_dropped(n - 1) and not h.was_dropped(10 * n)
    # ... a byte per video, not a set of Python ints (a hundred thousand in a long fast run)
    assert sys.getsizeof(h._dropped) < 2 * n + 1024
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
    from fyp_tui import memory

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's malloc_trim: Linux")
    assert memory.give_back_memory() is (memory._trim_function() is not None)


def test_a_live_session_maps_large_blocks_apart(tiny_db):
    """Issue 13: glibc raises its mmap threshold to the size of each large block freed
    (up to 32 MB), after which every numpy temporary and every checkpoint's copy of the
    video arrays came from the heap, and the heap kept the holes between them. Opening a
    live session fixes the threshold (memory.MMAP_THRESHOLD): a block of twice that size,
    made after a larger one was freed, is mapped apart (and so handed back when freed)."""
    import subprocess
    import textwrap

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's mallopt: Linux")
    code = textwrap.dedent(
        """
        import ctypes, sys
        import numpy as np
        class M(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = M
        from fyp_tui import memory
        from fyp_tui.live.session import LiveSession
        big = np.ones(24 << 20, np.uint8); del big  # glibc's threshold rises to 24 MB here
        live = LiveSession(sys.argv[1], "me", seed=1)
        live.open()
        before = libc.mallinfo2().hblkhd
        block = np.ones(2 * getattr(memory, "MMAP_THRESHOLD", 4 << 20), np.uint8)
        print(libc.mallinfo2().hblkhd - before >= block.nbytes)
        live.close()
        """
    )
    out = subprocess.run([sys.executable, "-c", code, tiny_db], capture_output=True, text=True, timeout=120)
    if "mallinfo2" in out.stderr:
        pytest.skip("no mallinfo2 (glibc before 2.33)")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "True"


def test_a_checkpoint_keeps_no_copy_of_the_world_once_written(tiny_db):
    """Issue 13: a checkpoint copies the video arrays out (all of them, for the columnar
    mirror); once written, nothing (the feed queue's future, the writer thread, the
    store) still holds that copy, and the tier events it carried are gone from the queue."""
    import gc
    import weakref

    from fyp_tui.live.session import LiveSession

    live = LiveSession(tiny_db, "me", seed=1)
    try:
        live.open()
        live.feed.submit(live.feed.begin).result()
        live.clock.advance(6.0)
        assert live.checkpoints.pending  # tier decisions wait for the checkpoint
        snap = live.feed.submit(live.checkpoints.capture).result()
        assert not live.checkpoints.pending
        copies = [weakref.ref(a) for a in snap.mirror.values()]
        ref = weakref.ref(snap)
        live.checkpoints.submit_write(snap).result()
        del snap
        gc.collect()
        assert ref() is None and all(c() is None for c in copies)
    finally:
        live.close()


def test_the_running_apps_checkpoints_leave_the_mirror_to_the_last_one(tiny_db, tmp_path):
    """A periodic checkpoint does not copy every video's arrays for the columnar mirror
    (the peak of the app's memory at a fast pace); a world killed after one loads from
    its rows, the truth, with what that checkpoint saved; a closed world loads from the
    mirror again."""
    import sqlite3

    import numpy as np

    from fyp_tui.live.session import LiveSession
    from fyp_tui.store.io import WorldStore

    live = LiveSession(tiny_db, "me", seed=1)
    live.open()
    try:
        live.clock.advance(6.0)
        snap = live.feed.submit(live.checkpoints.capture).result()
        assert snap.mirror == {}  # nothing copied for it
        live.checkpoints.submit_write(snap).result()
        saved = {k: getattr(live.world, k)[: snap.n_videos].copy() for k in ("video_counts", "video_tier")}
        crashed = tmp_path / "crashed.db"  # the file as kill -9 would leave it now
        with sqlite3.connect(tiny_db) as src, sqlite3.connect(crashed) as dst:
            src.backup(dst)
        live.checkpoints.final_save()  # (as the app, quitting)
    finally:
        live.close()
    with WorldStore.open(str(crashed)) as store:
        w = store.load()
        assert store.loaded_from["video"] == "rows"
        assert np.array_equal(w.video_counts[: w.n_videos], saved["video_counts"])
        assert np.array_equal(w.video_tier[: w.n_videos], saved["video_tier"])
    with WorldStore.open(tiny_db) as store:  # quit: its last checkpoint wrote the mirror
        w = store.load()
        assert store.loaded_from["video"] == "mirror"
