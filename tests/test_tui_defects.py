"""Pilot and unit tests of the new-user defects of issue 14 (each failed before its fix)."""

from __future__ import annotations

import pytest
from pilot import FakeClock, open_feed, until

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
