"""A world file found damaged after it opened sound (a bad page met by a checkpoint, a
journal write or a read while the session runs) ends the session in one line, exit 1:
no traceback, no checkpoint written into the damaged file, the terminal given back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pilot import FakeClock, open_feed, until
from processes import REPO, AppInTerminal
from worlds import damage_pages

from fyp_tui.errors import WorldDamagedError
from fyp_tui.live.session import LiveSession

MALFORMED = "database disk image is malformed"


def test_a_damaged_page_met_by_a_checkpoint_is_one_line(tiny_db):
    live = LiveSession(tiny_db, "me", seed=1)
    live.open()
    try:
        live.feed.submit(live.feed.begin).result()
        live.clock.advance(2.0)  # videos changed: the checkpoint writes their rows
        assert damage_pages(tiny_db, "video") > 0
        snap = live.feed.submit(live.checkpoints.capture).result()
        with pytest.raises(WorldDamagedError) as err:
            live.checkpoints.submit_write(snap).result()
        assert live.damaged is err.value
        assert str(err.value) == f"world {live.store.where} is damaged ({MALFORMED})"
        line = live.stop_damaged()
    finally:
        live.close()
    assert "\n" not in line
    assert line.startswith(f"world {live.store.where} is damaged ({MALFORMED}); stopped without saving")
    assert "your reactions were committed to it as you made them" in line
    assert live.closed and not live.store.locked  # the lock is let go


def test_a_damaged_page_met_by_a_reaction_is_one_line(tiny_db):
    """The journal's write meets the bad page: the reaction comes back as the damage, it
    is kept in the journal's backlog, and the line says it could not be saved."""
    live = LiveSession(tiny_db, "me", seed=1)
    live.open()
    try:
        card = live.feed.submit(live.feed.begin).result()
        live.warm_up()
        damage_pages(tiny_db, "interaction", "profile")
        with pytest.raises(WorldDamagedError):
            live.feed.submit(live.feed.react, card.video, "like").result()
        assert len(live.journal.backlog) == 1
        line = live.stop_damaged()
    finally:
        live.close()
    assert f"is damaged ({MALFORMED})" in line
    assert "; your last 1 reaction could not be saved" in line and "\n" not in line


def test_a_damaged_page_met_by_a_post_is_one_line(tiny_db):
    live = LiveSession(tiny_db, "me", seed=1)
    live.open()
    try:
        live.feed.submit(live.feed.begin).result()
        damage_pages(tiny_db, "video", "interaction")

        def post() -> object:
            return live.studio.post_video(caption="my dance", hashtags=[0], sound=0, duration=15.0, topic=0)

        with pytest.raises(WorldDamagedError):
            live.feed.submit(post).result()
        line = live.stop_damaged()
    finally:
        live.close()
    assert line.startswith(f"world {live.store.where} is damaged ({MALFORMED}); stopped without saving")


def test_a_damaged_page_met_by_a_read_for_the_panel_is_noted(tiny_db):
    """The side panel's read of saved tier decisions goes on without them (it is only
    informative), but the damage is noted for the shells to stop on."""
    live = LiveSession(tiny_db, "me", seed=1)
    live.open()
    try:
        damage_pages(tiny_db, "tier_event")
        assert live.history.past_steps(0) == []
        assert isinstance(live.damaged, WorldDamagedError) and MALFORMED in str(live.damaged)
    finally:
        live.close()


async def test_the_app_ends_in_one_line_when_a_checkpoint_meets_a_damaged_page(tiny_db):
    from fyp_tui.tui import make_app

    app = make_app(tiny_db, "tester", frozen=True, clock=FakeClock(), seed=3)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(pilot)
        app.live.clock.advance(2.0)
        damage_pages(tiny_db, "video")
        app.checkpoint()
        await until(pilot, lambda: app.failed is not None, "the app to stop on the damage")
    assert app.return_code == 1
    assert app.failed is not None and "\n" not in app.failed
    assert app.failed.startswith(f"world {app.live.store.where} is damaged ({MALFORMED})")
    assert app.live.closed


async def test_the_app_ends_in_one_line_when_a_like_meets_a_damaged_page(tiny_db):
    from fyp_tui.tui import make_app

    app = make_app(tiny_db, "tester", frozen=True, clock=FakeClock(), seed=3)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(pilot)
        app.live.warm_up()
        damage_pages(tiny_db, "interaction", "profile")
        await pilot.press("l")
        await until(pilot, lambda: app.failed is not None, "the app to stop on the damage")
    assert app.return_code == 1
    assert f"is damaged ({MALFORMED})" in (app.failed or "")
    assert "your last 1 reaction could not be saved" in (app.failed or "")


def test_the_app_in_a_terminal_gives_it_back_and_says_one_line(tiny_db, tmp_path):
    """The app in a real pseudo-terminal; the file is damaged under it, then SIGTERM asks
    it to quit (its final save meets the damage): the alternate screen and mouse
    reporting are left, one line on stderr, exit 1, no traceback."""
    with AppInTerminal(tiny_db, "dmg", tmp_path) as term:
        term.open_feed()
        term.read_for(3)
        damage_pages(tiny_db, "video")
        mark = len(term.out)
        term.proc.send_signal(signal.SIGTERM)
        assert term.wait() == 1
        term.read_for(0.5)
    out = term.out
    tail = bytes(out[mark:])
    assert b"\x1b[?1049l" in tail, "the alternate screen was left"
    assert b"\x1b[?1000l" in tail, "mouse reporting was turned off"
    after = tail[tail.rindex(b"\x1b[?1049l") + len(b"\x1b[?1049l") :].decode("utf-8", "replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", after)
    lines = [ln.strip() for ln in text.replace("\r", "\n").splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"fyp-tui: error: world {tiny_db} is damaged ({MALFORMED}); stopped without saving")
    assert "Traceback" not in out.decode("utf-8", "replace")


# the CLI's commands, in a process of their own; the file is damaged once the command
# has opened the world and is on its way (a wrapper around the engine's run / the play)
DAMAGE_MID_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from worlds import damage_pages
    import fyp_tui.{module} as m
    original = m.{name}

    def damaged_then(*args, **kw):
        damage_pages(sys.argv[2], "video")
        return original(*args, **kw)

    m.{name} = damaged_then
    from fyp_tui.cli import main
    main(sys.argv[3:])
    """
)


@pytest.mark.parametrize(
    ("module", "name", "argv", "kept"),
    [
        ("engine.simulate", "run", ["simulate", "-q", "--hours", "6"], "this run's 6 simulated hours were not saved"),
        (
            "live.autoplay",
            "play",
            ["play", "--bot", "two-likes-one-share", "--cards", "5", "--profile", "botty"],
            "stopped without saving the simulation since its last checkpoint",
        ),
    ],
)
def test_simulate_and_play_end_in_one_line_on_a_page_damaged_mid_run(tiny_db, module, name, argv, kept):
    code = DAMAGE_MID_RUN.replace("{module}", module).replace("{name}", name)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), tiny_db, *argv, "--db", tiny_db],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"fyp-tui: error: world {tiny_db} is damaged ({MALFORMED})")
    assert kept in lines[0]
    assert "Traceback" not in proc.stderr
