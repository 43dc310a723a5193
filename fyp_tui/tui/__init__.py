"""The Textual app (``fyp-tui`` with no command): feed, profile, studio, world.

Frame pacing: Textual repaints at most ``TEXTUAL_FPS`` times a second and only
when something changed. The app asks for 120 (unless the environment says
otherwise) so a key press waits at most ~8 ms for the frame that shows its
result; idle cost is unchanged, since nothing repaints when nothing changes.
This must run before Textual is imported, hence here.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from fyp_tui.audit import BotRef
    from fyp_tui.tui.app import FypApp


def make_app(
    db: str | None,
    profile: str = "me",
    *,
    frozen: bool = False,
    clock: Callable[[], float] | None = None,
    theme: str | None = None,
    pace: float | None = None,
    seed: int | None = None,
    autoplay: "BotRef | None" = None,
    config: "Path | None" = None,
) -> "FypApp":
    """The one app factory (CLI, tests, benchmark).

    Opening the world starts first, in a thread, and Textual is imported after:
    the database read overlaps the app's own start-up. ``frozen`` (tests and
    snapshots): no timers run, the animation shows one fixed frame and the clock
    moves only when a test moves it. ``seed`` makes the feed's and the
    simulation's random draws reproducible. ``autoplay``: a bot scrolls the feed
    until the person presses a key (``fyp-tui --autoplay``). ``config``: the
    settings file to read (the CLI passes ``fyp_tui.settings.settings_path()``;
    None: the defaults, nothing written); ``theme`` and ``pace`` given here win
    over it. A bad file: the defaults, and ``app.settings_note`` says why.
    """
    import time

    from fyp_tui.live.session import LiveSession

    live = LiveSession(db, profile, seed=seed, frozen=frozen)
    live.preload()
    from fyp_tui.tui.app import FypApp, load_app_settings

    settings, settings_writer, settings_note = load_app_settings(config)
    return FypApp(
        live,
        frozen=frozen,
        clock=clock or time.monotonic,
        theme=theme,
        pace=pace,
        autoplay=autoplay,
        settings=settings,
        settings_writer=settings_writer,
        settings_note=settings_note,
    )
