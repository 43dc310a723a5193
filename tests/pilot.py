"""Pilot helpers shared by the app tests and the snapshot tests (no fixed sleeps).

* :class:`FakeClock`: a monotonic clock the test moves by hand (watch time is exact).
* :func:`until`: let the app process messages until a condition holds.
* :func:`drain`: wait until the feed queue has run every job submitted so far and the
  app has handled the replies.
* :func:`open_feed`: wait for the world, get past onboarding, wait for the first card.
* :func:`swipe`: press j a number of times, one card at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from fyp_tui.tui.screens.feed import FeedScreen
from fyp_tui.tui.screens.onboarding import OnboardingScreen


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def until(pilot: Pilot[Any], cond: Callable[[], object], what: str = "condition", timeout: float = 20.0) -> None:
    """Let the app process messages until ``cond()`` holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause()


async def drain(pilot: Pilot[Any]) -> None:
    """Wait until the feed queue has run every job submitted so far, and the replies are handled."""
    app = pilot.app
    for _ in range(3):  # a reply may submit follow-up jobs (prefetch)
        await asyncio.wrap_future(app.live.feed.submit(lambda: None))
        await pilot.pause()


async def open_feed(pilot: Pilot[Any], *, topics: bool = False) -> FeedScreen:
    """Wait for the world, get past onboarding (picking two topics if ``topics``), wait for
    the first card and the queue's follow-up work."""
    app = pilot.app
    await until(pilot, lambda: app.ready or app.failed, "the world to load")
    assert not app.failed, app.failed
    if isinstance(app.screen, OnboardingScreen):
        if topics:
            await pilot.press("space", "down", "space", "enter")
        else:
            await pilot.press("escape")
    feed = app.feed_screen
    await until(pilot, lambda: feed.card is not None, "the first card")
    await drain(pilot)
    return feed


async def swipe(pilot: Pilot[Any], feed: FeedScreen, n: int) -> list[int]:
    """Press j ``n`` times, one card at a time: the videos shown, the current one first."""
    assert feed.card is not None
    seen = [feed.card.video]
    for _ in range(n):
        await pilot.press("j")
        await drain(pilot)
        assert feed.card is not None
        seen.append(feed.card.video)
    return seen
