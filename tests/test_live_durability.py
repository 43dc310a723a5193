"""What the person did survives the process dying: a post is committed before Post
returns, with the video's rows, not at the next checkpoint (issue 13)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

from processes import REPO, AppInTerminal

POST_THEN_HANG = textwrap.dedent(
    """
    import sys, time
    from fyp_tui.live.session import LiveSession

    live = LiveSession(sys.argv[1], "poster", seed=1)
    live.open()
    w = live.world
    video, _items = live.studio.post_video(
        caption="my crash-proof dance", hashtags=[0], sound=0, duration=15.0, topic=0
    )
    print(video, flush=True)
    time.sleep(60)  # killed here: no checkpoint, no close
    """
)


def test_a_post_survives_kill_9_right_after_post(tiny_db):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", POST_THEN_HANG, tiny_db], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()  # Post has returned
        assert line.strip(), "the post did not return"
        video = int(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    con = sqlite3.connect(tiny_db)
    try:
        caption = con.execute("SELECT caption FROM video WHERE id = ?", (video,)).fetchone()
        kinds = [r[0] for r in con.execute("SELECT kind FROM interaction WHERE video_id = ?", (video,))]
    finally:
        con.close()
    assert caption == ("my crash-proof dance",)
    assert kinds == ["post"]
    # and the world opens again with it
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(tiny_db, lock=False) as store:
        world = store.load()
    assert world.n_videos > video and world.video_captions[video] == "my crash-proof dance"


def test_sigterm_saves_the_world_and_gives_the_terminal_back(tiny_db, tmp_path):
    """The app in a real pseudo-terminal, sent SIGTERM: it quits as ``q`` does (the
    world saved, exit 0) and leaves the alternate screen and mouse reporting."""
    with AppInTerminal(tiny_db, "sig", tmp_path) as term:
        term.open_feed()
        term.read_for(4)
        mark = len(term.out)
        term.proc.send_signal(signal.SIGTERM)
        assert term.wait() == 0
        term.read_for(0.5)
        tail = bytes(term.out[mark:])
        assert b"\x1b[?1049l" in tail, "the alternate screen was left"
        assert b"\x1b[?1000l" in tail, "mouse reporting was turned off"
    assert _saved_clock(tiny_db) > 0, "the world was saved on SIGTERM"


def test_a_closed_terminal_saves_the_world_and_the_app_ends(tiny_db, tmp_path):
    """The terminal window closes under the app (its pty goes away, SIGHUP): the world
    is saved and the process ends, instead of hanging in Textual's shutdown on the
    dead terminal for ever (it did: every write of its goodbye waited on a writer
    thread that had died)."""
    with AppInTerminal(tiny_db, "hup", tmp_path) as term:
        term.open_feed()
        term.read_for(2)
        term.close_terminal()  # the terminal window closes ...
        term.proc.send_signal(signal.SIGHUP)  # ... and the kernel hangs up on the app
        term.proc.wait(timeout=30)
    assert _saved_clock(tiny_db) > 0, "the world was saved on SIGHUP"
    assert not os.path.exists(tiny_db + ".lock") or _lock_is_free(tiny_db)


def _saved_clock(db: str) -> float:
    con = sqlite3.connect(db)
    try:
        return float(con.execute("SELECT clock FROM world_meta").fetchone()[0])
    finally:
        con.close()


def _lock_is_free(db: str) -> bool:
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(db) as store:  # (raises WorldLockedError if another process held it)
        return store is not None


def test_no_control_character_from_the_world_reaches_a_view(tiny_world):
    """Captions, handles, names and titles are shown, never obeyed: every string the
    live layer hands to a screen is printable (issue 13: a caption retitled the terminal)."""
    import dataclasses

    import numpy as np

    from fyp_tui.engine.viewer import PersonState
    from fyp_tui.live import cards
    from fyp_tui.live.views import ProfileData, StripItem

    evil = "\x1b]0;PWNED\x07\x1b[2J\u202e"
    w = tiny_world
    v = 3
    w.video_captions[v] = f"dance {evil} now"
    w.creator_handles[int(w.video_creator[v])] = f"x{evil}"
    w.sound_titles[int(w.video_sound[v])] = f"song{evil}"
    card = cards.make_card(
        w,
        PersonState.new(w),
        v,
        profile_id=1,
        profile_name=f"me{evil}",
        trending=frozenset(),
        first_viewer=False,
        shared=False,
        reshown=False,
    )
    strip = StripItem(1.0, f"@x{evil}'s video moved up", False, "promoted")
    prof = ProfileData(f"me{evil}", ((f"t{evil}", 1.0),), 0.5, (), 0.3, (f"@x{evil}",), (), ())

    def strings(obj):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            stack = [value]
            while stack:
                x = stack.pop()
                if isinstance(x, str):
                    yield x
                elif isinstance(x, tuple):
                    stack.extend(x)

    for view in (card, strip, prof):
        for text in strings(view):
            assert not any(ord(ch) < 32 and ch not in "\n\t" or ord(ch) == 0x7F or ch == "\u202e" for ch in text), repr(
                text
            )
    assert "\\x1b]0;PWNED" in card.caption and "\\x1b" in prof.name
    assert np.all(w.video_captions[v] == f"dance {evil} now")  # the world keeps its data; only views escape it
