"""Pilot and unit tests of the new-user defects of issue 14 (each failed before its fix)."""

from __future__ import annotations

import pytest
from pilot import FakeClock, drain, open_feed, until
from textual.content import Content
from textual.widgets import Static

from fyp_tui.live.views import CardData
from fyp_tui.tui import make_app
from fyp_tui.tui.widgets.card import caption_content

SIZE = (100, 32)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(tiny_db, clock):
    return make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11)


def _card(caption: str, hashtags: tuple[str, ...]) -> CardData:
    return CardData(
        video=0,
        creator=0,
        handle="someone",
        display_name="",
        caption=caption,
        hashtags=hashtags,
        sound=0,
        sound_title="a sound",
        sound_artist="",
        sound_trending=False,
        topic=0,
        topic_name="cooking",
        duration=15.0,
    )


def test_a_card_shows_each_hashtag_once():
    # simulated uploads write their hashtags into the caption; the card must not repeat them
    text = caption_content(_card("Quick pasta tonight #cooking #fyp", ("cooking", "fyp", "pasta"))).plain
    assert text.count("#cooking") == 1
    assert text.count("#fyp") == 1
    assert text.count("#pasta") == 1
    # a caption without tags still gets them, each once
    text = caption_content(_card("Quick pasta tonight", ("cooking", "cooking"))).plain
    assert text == "Quick pasta tonight #cooking"


async def test_clicking_a_header_tab_switches_screen(app):
    from fyp_tui.tui.widgets.header import tab_offset

    async with app.run_test(size=SIZE) as pilot:
        await open_feed(pilot)
        for mode in ("profile", "studio", "world", "feed"):
            await pilot.click("#header", offset=(tab_offset(mode), 0))
            await until(pilot, lambda m=mode: app.current_mode == m, f"the {mode} screen")
            assert app.screen.MODE == mode


async def test_help_opens_with_f1_and_shows_keys_as_people_write_them(app):
    from fyp_tui.tui.screens.dialogs import HelpScreen

    async with app.run_test(size=SIZE) as pilot:
        await open_feed(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.query("#help-table"), "help")
        text = str(app.screen.query_one("#help-table", Static).content)
        assert "_bracket" not in text and "question_mark" not in text and "equals_sign" not in text
        lines = text.splitlines()
        for key, tooltip in (("[", "Turn the echo-chamber knob down"), ("]", "Turn the echo-chamber knob up")):
            (line,) = [line for line in lines if tooltip in line]
            assert line.split(tooltip)[0].strip() == key
        (post,) = [line for line in lines if "Post the video" in line]
        assert post.split("Post the video")[0].strip() == "ctrl+r"
        # every key stands apart from its text (two spaces at least)
        for line in lines:
            if line.startswith("  ") and line.strip():
                assert "  " in line.strip(), line
        await pilot.press("f1")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_knob_value_shows_on_the_first_visit_to_the_profile(app, size):
    async with app.run_test(size=size) as pilot:
        await open_feed(pilot, topics=True)
        await pilot.press("2")
        await until(pilot, lambda: app.current_mode == "profile", "the profile")
        await drain(pilot)
        await pilot.pause()
        echo = app.screen.query_one("#echo", Static)
        knob = f"{app.live.feed_session.person.knob:.1f}"
        lines = echo.content.split("\n") if isinstance(echo.content, Content) else []
        assert len(lines) == 2 and lines[1].plain.endswith(knob), [line.plain for line in lines]
        # each line fits: nothing wraps, so the knob's line and its value are on screen
        assert all(line.cell_length <= echo.size.width for line in lines), ([ln.plain for ln in lines], echo.size)
        assert echo.size.height == 2


def test_the_profile_shows_the_top_and_the_bottom_interests():
    from fyp_tui.live.views import ProfileData
    from fyp_tui.tui.screens.profile import interests_content

    topics = tuple((f"topic{i:02d}", 2.0 - i * 0.2) for i in range(20))  # topic19 at -1.8, the lowest
    p = ProfileData("x", topics, 0.5, (), 0.3, (), (), ())
    text = interests_content(p, 60).plain
    assert "topic00" in text and "topic19" in text and "topic18" in text
    assert "more" in text
    assert len(text.splitlines()) <= 13
    # a few interests show in full, without an ellipsis line
    few = interests_content(ProfileData("x", topics[:5], 0.5, (), 0.3, (), (), ()), 60).plain
    assert len(few.splitlines()) == 5 and "more" not in few


def test_top_videos_now_lists_live_videos_by_views_and_none_unwatched(tiny_world):
    import threading
    from types import SimpleNamespace

    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.world import Signal, Status
    from fyp_tui.live.overview import Overview

    w = tiny_world
    n = w.n_videos
    w.video_counts[:n] = 0
    w.video_status[:n] = Status.ACTIVE
    w.video_tier[:n] = 0
    w.video_tier[:4] = 2  # high up the ladder, never watched: not "top now"
    for v, views in ((10, 50), (11, 900), (12, 300), (13, 7)):
        w.video_counts[v, Signal.VIEW] = views
    w.video_status[12] = Status.STALLED  # stalled: not live
    live = SimpleNamespace(world=w, params=EngineParams(), lock=threading.Lock())
    tops = Overview(live).data(top_k=8).top_videos  # type: ignore[arg-type]
    assert [(v, views) for v, _h, _c, _t, views in tops] == [(11, 900), (10, 50), (13, 7)]
