"""The Textual app: one feed, a live world behind it.

The app owns a :class:`~fyp_tui.live.session.LiveSession` (the only thing that
touches the World) and runs its slow parts in thread workers: loading the world,
each simulation tick, each checkpoint write. Workers post small messages back;
nothing in a worker touches a widget or a reactive.

``fyp_tui.tui.make_app`` is the one factory used by the CLI, the tests and the benchmark.
``frozen=True`` (tests, snapshots) starts no timers, so the clock, the animation
frame and the counters stay where they are unless a test moves them.

Settings (:mod:`fyp_tui.settings`): the theme, the pace, the animation, the knob's
default and step, and a keymap of binding ids to keys (``App.set_keymap``) come from
the config file; a changed theme, pace or animation is written back to it by a
:class:`~fyp_tui.settings.SettingsWriter` (none in tests unless one is given).

``autoplay`` (``fyp-tui --autoplay BOT``): once the world is open, a bot scrolls
the feed screen by itself (:meth:`FeedScreen.start_autoplay`) until the person
presses a key or clicks; its timer reads the app's clock, so it runs in a frozen
app too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from fyp_tui.errors import FypError, WorldDamagedError
from fyp_tui.live.checkpoint import CHECKPOINT_SECONDS
from fyp_tui.live.clock import DEFAULT_PACE, hours_of
from fyp_tui.live.errors import describe_error
from fyp_tui.live.session import LiveSession
from fyp_tui.settings import Settings, SettingsWriter
from fyp_tui.tui.messages import CheckpointDone, SettingsSaved, StepFailed, WorldAdvanced, WorldFailed, WorldLoaded
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.screens.dialogs import ErrorScreen, HelpScreen
from fyp_tui.tui.screens.feed import FeedScreen
from fyp_tui.tui.screens.onboarding import OnboardingScreen
from fyp_tui.tui.screens.profile import ProfileScreen
from fyp_tui.tui.screens.studio import StudioScreen
from fyp_tui.tui.screens.world import WorldScreen

if TYPE_CHECKING:
    from pathlib import Path

    from textual.dom import DOMNode
    from textual.timer import Timer

    from fyp_tui.audit import BotRef

#: Simulated minutes per real second the pace keys step through.
PACES = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 240.0)
#: Real seconds between two simulation ticks.
TICK_SECONDS = 0.5
#: A tick waits until the person has not pressed a key for this long (input first:
#: a step holds the GIL for tens of milliseconds on demo) ...
INPUT_QUIET = 0.35
#: ... but never longer than this; the simulated time is not lost, only batched.
MAX_DEFER = 2.0
#: after SIGHUP (the terminal closed), the quit has this long to save the world through
#: the event loop before the world is saved from outside it and the process ends
HANGUP_GRACE_SECONDS = 5.0
DARK, LIGHT = "textual-dark", "textual-light"


class FypApp(App[None]):
    """fyp-tui: a For You feed over a simulated world."""

    CSS_PATH = "fyp.tcss"
    TITLE = "fyp-tui"
    MODES = {"feed": FeedScreen, "profile": ProfileScreen, "studio": StudioScreen, "world": WorldScreen}
    DEFAULT_MODE = "feed"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (70, "-normal"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Show every key"),
        Binding("1", "show('feed')", "Feed", id="app.screen.feed", show=False, tooltip="The For You feed"),
        Binding(
            "2",
            "show('profile')",
            "Profile",
            id="app.screen.profile",
            show=False,
            tooltip="Your learned interests and the echo-chamber meter",
        ),
        Binding(
            "3",
            "show('studio')",
            "Studio",
            id="app.screen.studio",
            show=False,
            tooltip="Post a video and follow its climb",
        ),
        Binding(
            "4", "show('world')", "World", id="app.screen.world", show=False, tooltip="Tier funnel, trends, top videos"
        ),
        Binding(
            "p",
            "toggle_world",
            "Pause world",
            id="app.world.pause",
            show=False,
            tooltip="Pause or resume the simulated clock",
        ),
        Binding(
            "plus,equals_sign",
            "faster",
            "Faster",
            id="app.world.faster",
            show=False,
            tooltip="Run the simulated clock faster",
        ),
        Binding(
            "minus", "slower", "Slower", id="app.world.slower", show=False, tooltip="Run the simulated clock slower"
        ),
        Binding(
            "t",
            "toggle_theme",
            "Theme",
            id="app.theme",
            show=False,
            tooltip="Switch between the light and the dark theme",
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Save the world and quit"),
    ]

    sim_clock: reactive[float] = reactive(0.0)
    pace: reactive[float] = reactive(DEFAULT_PACE)
    world_paused: reactive[bool] = reactive(False)
    #: the clock runs slower than ``pace`` while the person's own post is in tier 0 or 1
    slowed_for_post: reactive[bool] = reactive(False)
    world_status: reactive[str] = reactive("loading the world…")
    #: "autoplay: BOT" while a bot scrolls the feed (the header shows it), else ""
    autoplay_status: reactive[str] = reactive("")
    #: draw the video's animation (settings: ``animation``; the palette toggles it)
    animation: reactive[bool] = reactive(True, init=False)

    def __init__(
        self,
        live: LiveSession,
        *,
        frozen: bool = False,
        clock: Callable[[], float] = time.monotonic,
        theme: str | None = None,
        pace: float | None = None,
        autoplay: BotRef | None = None,
        settings: Settings | None = None,
        settings_writer: SettingsWriter | None = None,
        settings_note: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        #: writes a changed theme, pace or animation back to the config file (None: not saved)
        self.settings_writer = settings_writer
        #: a line about the config file to show once the app is up (a bad file, say)
        self.settings_note = settings_note
        #: the profile to open next (the Profile screen's switch): the CLI reopens the app on it
        self.switch_to: str | None = None
        self._writing_settings = False
        self._clashes_told: set[frozenset[str]] = set()
        self.live = live
        self.autoplay = autoplay  # the bot to scroll the feed once the world is open
        self.frozen = frozen
        self.clock = clock  # monotonic seconds; tests pass a fake one
        self.ready = False
        self.failed: str | None = None
        self._stopping_damaged = False
        self.latencies: list[float] = []  # key press -> new card on screen, seconds
        self._first_card_at: float | None = None
        self._key_time: float | None = None
        self._stepping = False
        self._last_step = clock()
        self._last_input = -1e9
        self._quitting = False
        self._saved = False
        self._hung_up = False  # SIGHUP: the terminal is gone
        self._tick_timer: Timer | None = None
        self._checkpoint_timer: Timer | None = None
        self.mode_screens: dict[str, FypScreen] = {}
        self.theme = theme if theme is not None else self.settings.theme
        self.pace = pace if pace is not None else self.settings.pace
        self.animation = self.settings.animation
        self.set_keymap(dict(self.settings.keymap))

    # -- start-up -------------------------------------------------------------------
    @property
    def first_card_at(self) -> float | None:
        """When the first card was on screen (the feed sets it after that refresh), or None."""
        return self._first_card_at

    @first_card_at.setter
    def first_card_at(self, at: float | None) -> None:
        first = self._first_card_at is None and at is not None
        self._first_card_at = at
        if first:
            self.warm_up()

    @work(thread=True, exclusive=True, exit_on_error=False, group="warm-up")
    def warm_up(self) -> None:
        """Once the first card is on screen: load what the first reaction and the first
        checkpoint need (the journal, SQLAlchemy), kept off the way to that card."""
        try:
            self.live.warm_up()
        except Exception:
            pass  # not fatal: the journal is made on first use then, and reports its own errors

    def on_mount(self) -> None:
        self._trap_signals()
        self._writing_settings = self.settings_writer is not None
        if self.settings_note:
            self.notify(self.settings_note, title="Settings", severity="warning", timeout=12)
        for clash in keymap_clashes(dict(self.settings.keymap)):
            self.notify(clash, title="Keymap clash", severity="warning", timeout=12)
        self.load_world()
        if not self.frozen:
            self._tick_timer = self.set_interval(TICK_SECONDS, self._tick, pause=True)
            self._checkpoint_timer = self.set_interval(CHECKPOINT_SECONDS, self.checkpoint, pause=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load_world(self) -> None:
        try:
            info = self.live.wait_open()
        except Exception as exc:  # shown to the person, never a traceback
            title, message = describe_error(exc)
            self.post_message(WorldFailed(message, title))
            return
        self.post_message(WorldLoaded(info.clock, info.needs_onboarding))

    def on_world_loaded(self, message: WorldLoaded) -> None:
        self.ready = True
        self.sim_clock = message.clock
        self.world_status = ""
        for timer in (self._tick_timer, self._checkpoint_timer):
            if timer is not None:
                timer.resume()
        for screen in self._mode_screens():
            screen.world_ready()
        if self.autoplay is not None and self._start_autoplay(self.autoplay, message.needs_onboarding):
            return
        if message.needs_onboarding:
            self.push_screen(OnboardingScreen(self.live.topic_names()), self._onboarded)
        else:
            self.feed_screen.start()

    def _start_autoplay(self, bot: BotRef, needs_onboarding: bool) -> bool:
        """Let ``bot`` scroll the feed (a new profile starts as the bot, no onboarding
        screen); False when the bot does not fit the world (said in a notification)."""
        from fyp_tui.live.autoplay import BotPlayer

        try:
            player = BotPlayer.for_session(self.live, bot)
        except FypError as exc:
            self.show_error(exc)
            return False
        feed = self.feed_screen
        if needs_onboarding:
            feed.request(player.start_profile, self.live, reply=lambda _: SettingsSaved())
        feed.start()
        feed.start_autoplay(player)
        return True

    def _onboarded(self, topics: list[int] | None) -> None:
        feed = self.feed_screen
        profile, knob = self.live.profile, self.settings.knob

        def onboard() -> None:  # a new profile: its topics, and the knob the settings start it at
            profile.onboard(list(topics or []))
            profile.set_knob(knob)

        feed.request(onboard, reply=lambda _: SettingsSaved())
        feed.start()

    def on_world_failed(self, message: WorldFailed) -> None:
        self.failed = message.message
        self.world_status = "no world"
        self.push_screen(ErrorScreen(message.title, message.message))

    def stop_damaged(self) -> None:
        """The world file turned out damaged while in use (``LiveSession.damaged``): end
        now, without a checkpoint (it would write into the damaged file). The live layer
        says in one line what is kept; the CLI prints it once Textual has given the
        terminal back, and exits 1."""
        if self._stopping_damaged:
            return
        self._stopping_damaged = True
        for timer in (self._tick_timer, self._checkpoint_timer):
            if timer is not None:
                timer.pause()
        self.failed = self.live.stop_damaged()
        self.exit(return_code=1)

    # -- the clock ----------------------------------------------------------------
    def _tick(self) -> None:
        if self.live.damaged is not None:  # (a read may have met it and gone on without)
            self.stop_damaged()
            return
        now = self.clock()
        if not self.ready or self.world_paused or self._quitting:
            self._last_step = now  # a pause is not simulated later
            return
        if self._stepping:
            return
        since = now - self._last_step
        if now - self._last_input < INPUT_QUIET and since < MAX_DEFER:
            return
        self._last_step = now
        self._stepping = True
        # while the person's own post is judged early, the studio slows the clock to watch it
        pace = self.live.studio.pace(self.pace)
        self.slowed_for_post = pace < self.pace
        self.advance(hours_of(min(since, MAX_DEFER), pace))

    @work(thread=True, exclusive=True, exit_on_error=False, group="step")
    def advance(self, hours: float) -> None:
        """One simulation tick in a thread; the result comes back as a message."""
        try:
            outcome = self.live.clock.advance(hours)
        except Exception as exc:
            self.post_message(StepFailed(describe_error(exc)[1]))
            return
        self.post_message(WorldAdvanced(outcome.clock, outcome.items, hours))

    def on_step_failed(self, message: StepFailed) -> None:
        self._stepping = False
        if self.live.damaged is not None:
            self.stop_damaged()
            return
        self.world_paused = True
        self.notify(
            f"{message.message} (the clock is paused; p to try again)",
            title="The simulation stopped",
            severity="error",
            timeout=10,
        )

    def on_world_advanced(self, message: WorldAdvanced) -> None:
        self._stepping = False
        self.sim_clock = message.clock
        if self.live.checkpoints.due:  # (a fast pace: the tier events waiting would pile up)
            self.checkpoint()
        feed = self.feed_screen
        feed.world_advanced(message.items)
        if self.screen is not feed and isinstance(self.screen, FypScreen):
            self.screen.world_advanced(message.items)

    def fast_forward(self, hours: float) -> None:
        """Run the world ``hours`` ahead now, in the step worker (the studio's +1 h)."""
        if not self.ready or self._stepping:
            self.notify("The world is busy; try again in a moment.", timeout=2)
            return
        self._stepping = True
        self.advance(hours)

    def step_hours(self, hours: float) -> None:
        """Advance the world now, on this thread (tests and the studio's "fast forward")."""
        outcome = self.live.clock.advance(hours)
        self.post_message(WorldAdvanced(outcome.clock, outcome.items, hours))

    def action_toggle_world(self) -> None:
        self.world_paused = not self.world_paused

    def action_faster(self) -> None:
        bigger = [p for p in PACES if p > self.pace]
        self.pace = bigger[0] if bigger else PACES[-1]
        self.world_paused = False

    def action_slower(self) -> None:
        smaller = [p for p in PACES if p < self.pace]
        self.pace = smaller[-1] if smaller else PACES[0]

    # -- settings written back -------------------------------------------------------
    def watch_pace(self, pace: float) -> None:
        self._save_setting(pace=float(pace))

    def watch_theme(self, theme: str) -> None:
        self._save_setting(theme=theme)

    def watch_animation(self, animation: bool) -> None:
        if "feed" in self.mode_screens:
            self.feed_screen.animation_changed()
        self._save_setting(animation=animation)

    def _save_setting(self, **changes: object) -> None:
        """Write a changed setting back to the config file (off this thread)."""
        if self._writing_settings and self.settings_writer is not None:
            self.settings_writer.save(**changes)

    def action_toggle_animation(self) -> None:
        self.animation = not self.animation
        self.notify("Animation on" if self.animation else "Animation off: a still frame", timeout=2)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """A keymap gave a key that another binding has: say so once (the keymap's wins)."""
        ids = frozenset(b.id or b.action for b in clashed_bindings)
        if ids in self._clashes_told:
            return
        self._clashes_told.add(ids)
        keys = ", ".join(sorted({b.key for b in clashed_bindings}))
        self.notify(
            f"The keymap gives {keys} to another binding too; {', '.join(sorted(ids))} lost it.",
            title="Keymap clash",
            severity="warning",
            timeout=8,
        )

    # -- checkpoints ----------------------------------------------------------------
    def checkpoint(self, final: bool = False) -> None:
        """Copy the world out on the feed queue (after what the person did), then write it."""
        if not self.ready or self.failed:
            if final:
                self._finish()
            return

        def written(future) -> None:
            error = future.exception()
            if error is None:
                self._keep_session_log()
            self.post_message(CheckpointDone(describe_error(error)[1] if error is not None else None, final))

        def captured(future) -> None:
            error = future.exception()
            if error is not None:
                self.post_message(CheckpointDone(describe_error(error)[1], final))
                return
            # straight to the checkpoint writer, from the feed queue's thread: writes run
            # one at a time in capture order (the final save lands after, never under, a
            # periodic one), and none waits in the message queue when the app ends
            self.live.checkpoints.submit_write(future.result()).add_done_callback(written)

        self.live.feed.submit(self.live.checkpoints.capture).add_done_callback(captured)

    def _keep_session_log(self) -> None:
        """With each checkpoint, the session's log too (the checkpoint writer's thread), so
        ``fyp-tui report`` has the session even if the app never quits cleanly."""
        try:
            self.live.log.save()
        except Exception:
            pass  # the log is for the report only; the next checkpoint, or the quit, tries again

    def on_checkpoint_done(self, message: CheckpointDone) -> None:
        if self.live.damaged is not None:
            self.stop_damaged()
            return
        if message.error and message.final:
            # stay open so the person reads it; q again quits (the world resumes from
            # its last checkpoint; reactions are already saved)
            self.world_status = "not saved"
            self.notify(
                f"{message.error}. Press q again to quit anyway.",
                title="The world was not saved",
                severity="error",
                timeout=30,
            )
            return
        if message.error:
            self.notify(message.error, title="The world was not saved", severity="error", timeout=8)
        if message.final:
            self._saved = True
            self._finish()

    async def action_quit(self) -> None:
        """Leave the card (its watch time counts), save the world, then exit."""
        if self._quitting or not self.ready or self.failed:
            self._finish()
            return
        self._quitting = True
        self.world_status = "saving the world…"
        try:
            self.feed_screen.leave_card()
        except Exception as exc:
            self.show_error(exc)
        self.checkpoint(final=True)

    def switch_profile(self, name: str) -> None:
        """Save the world and end the app; the CLI opens it again as profile ``name``."""
        self.switch_to = name
        self.world_status = f"switching to {name}…"
        self.call_later(self.action_quit)

    def _finish(self) -> None:
        try:
            self.live.close()
        except Exception:
            pass
        self.exit()

    # -- screens ----------------------------------------------------------------------
    @property
    def feed_screen(self) -> FeedScreen:
        """The feed screen (the default mode: mounted first)."""
        screen = self.mode_screens["feed"]
        assert isinstance(screen, FeedScreen)
        return screen

    def register_screen(self, screen: FypScreen) -> None:
        self.mode_screens[screen.MODE] = screen

    def _mode_screens(self) -> list[FypScreen]:
        return list(self.mode_screens.values())

    def action_show(self, mode: str) -> None:
        if self.current_mode != mode:
            if self.current_mode == "feed":
                self.feed_screen.hidden()
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """(keys, what, where) for every binding: built from the classes, so a keymap shows."""
        rows = []
        for where, owner in (
            ("feed", FeedScreen),
            ("profile", ProfileScreen),
            ("studio", StudioScreen),
            ("anywhere", FypApp),
        ):
            for b in owner.BINDINGS:
                if isinstance(b, Binding) and b.id:
                    keys = self._keymap.get(b.id, b.key)
                    rows.append((keys, b.tooltip or b.description, where))
        return rows

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    # -- errors -----------------------------------------------------------------------
    def show_error(self, exc: BaseException) -> None:
        if isinstance(exc, WorldDamagedError) or self.live.damaged is not None:
            self.stop_damaged()
            return
        title, message = describe_error(exc)
        self.notify(message, title=title, severity="error", timeout=8)

    # -- command palette ------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, FypScreen):
            for title, help_text, action in screen.palette_commands():
                yield SystemCommand(title, help_text, partial(screen.run_action, action))
        for mode, title in (
            ("feed", "For You feed"),
            ("profile", "Profile"),
            ("studio", "Creator studio"),
            ("world", "World"),
        ):
            yield SystemCommand(f"Go to: {title}", f"Show the {title.lower()} screen", partial(self.action_show, mode))
        yield SystemCommand(
            "Pause or resume the world", "Stop or restart the simulated clock (p)", self.action_toggle_world
        )
        yield SystemCommand("Faster clock", "More simulated minutes per second (+)", self.action_faster)
        yield SystemCommand("Slower clock", "Fewer simulated minutes per second (-)", self.action_slower)
        yield SystemCommand("Light or dark theme", "Switch the theme (t)", self.action_toggle_theme)
        yield SystemCommand(
            "Animation on or off", "Draw the video, or show a still frame", self.action_toggle_animation
        )
        yield SystemCommand("Help", "Every key (?)", self.action_help)
        yield from super().get_system_commands(screen)

    # -- latency probe ---------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._key_time = event.time
            self._last_input = self.clock()
            self._take_over("a key was pressed")
        elif isinstance(event, (events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self._key_time = None
            self._last_input = self.clock()
            self._take_over("the mouse was used")
        await super().on_event(event)

    def _take_over(self, why: str) -> None:
        """The person acts: autoplay stops, and the key or click does what it does."""
        if self.autoplay_status:
            self.feed_screen.stop_autoplay(why)

    def take_key_time(self) -> float | None:
        """Time of the key press being handled (for the latency probe), once."""
        t, self._key_time = self._key_time, None
        return t

    def _trap_signals(self) -> None:
        """SIGTERM and SIGHUP (a closed terminal, a shutdown) quit as ``q`` does: the card's
        watch time counts, the world is saved, and Textual gives the terminal back."""
        if self.is_headless:
            return
        import signal

        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, lambda: self.call_later(self.run_action, "quit"))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            return
        # SIGHUP by a plain handler: it runs even while the event loop is stuck writing
        # to the dead terminal (where a handler of the loop's would never run)
        try:
            signal.signal(signal.SIGHUP, lambda _sig, _frame: self._hang_up(loop))
        except (ValueError, OSError):  # pragma: no cover - not the main thread
            pass

    def _hang_up(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGHUP: the terminal is gone. Quit as ``q`` does, through the event loop; if
        that has not saved the world within :data:`HANGUP_GRACE_SECONDS`, save it from
        here, then end the process. Textual (8.2) writes its screen and its goodbye to
        the dead terminal, and after the first failed write its writer thread is gone:
        every later write waits for ever, the event loop with it. A closed terminal
        window left the app running, forgotten, its last minutes unsaved."""
        if self._hung_up:
            return
        self._hung_up = True
        threading.Thread(target=self._end_without_a_terminal, args=(loop,), daemon=True, name="fyp-hangup").start()

    def _end_without_a_terminal(self, loop: asyncio.AbstractEventLoop) -> None:
        import os
        import signal

        with contextlib.suppress(RuntimeError):  # (a loop already closed: the app ended)
            loop.call_soon_threadsafe(lambda: self.call_later(self.run_action, "quit"))
        deadline = time.monotonic() + HANGUP_GRACE_SECONDS
        while not self._saved and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._saved and self.ready and not self.failed:
            with contextlib.suppress(Exception):  # (reactions are committed as they happen)
                self.live.checkpoints.final_save()
        with contextlib.suppress(Exception):
            self.live.close()
        if self.settings_writer is not None:
            self.settings_writer.flush()
        time.sleep(1.0)  # (an app that ends by itself in time ends as usual)
        os._exit(128 + signal.SIGHUP)

    def on_unmount(self) -> None:
        """A last resort when the app ends without a finished quit (an exception, a
        test ending early): write what is left, synchronously, then release the lock."""
        try:
            if self.ready and not self.failed and not self._saved:
                self.live.checkpoints.final_save()
        except Exception:
            pass  # reactions are committed as they happen; the world resumes from its last checkpoint
        try:
            self.live.close()
        except Exception:
            pass


def load_app_settings(path: Path | None) -> tuple[Settings | None, SettingsWriter | None, str | None]:
    """(settings, their writer, a note) from the config file at ``path``: theme names
    and binding ids checked against the app's. No path: the defaults, nothing written.
    A bad file: the defaults, no writer (the file is left as it is), and the note says
    which key and that the defaults are in use."""
    from fyp_tui.settings import SettingsError, load_settings

    if path is None:
        return None, None, None
    try:
        settings = load_settings(path, themes=theme_names(), binding_ids=binding_ids())
    except SettingsError as exc:
        return None, None, f"{exc}; using the defaults"
    return settings, SettingsWriter(path), None


def default_keymap() -> dict[str, str]:
    """Every binding id a keymap may use (the app's, its screens' and its dialogs'), and
    its keys when no keymap changes them."""
    from fyp_tui.tui.screens import dialogs

    owners: list[type] = [FypApp, FeedScreen, ProfileScreen, StudioScreen, WorldScreen, OnboardingScreen]
    owners += [c for c in vars(dialogs).values() if isinstance(c, type) and issubclass(c, Screen)]
    keys: dict[str, str] = {}
    for owner in owners:
        for b in getattr(owner, "BINDINGS", []):
            if isinstance(b, Binding) and b.id:
                keys.setdefault(b.id, b.key)
    return keys


def keymap_clashes(keymap: dict[str, str]) -> list[str]:
    """Keys the keymap gives to a binding while another binding on the same screen (or
    the app's, on every screen) keeps them: one sentence each. Textual lets the keymap's
    binding win and, in 8.2.8, does not report these itself."""
    from fyp_tui.tui.screens import dialogs

    if not keymap:
        return []
    scopes: list[tuple[str, list[type]]] = [
        (f"the {name} screen", [screen, FypApp])
        for name, screen in (
            ("feed", FeedScreen),
            ("profile", ProfileScreen),
            ("studio", StudioScreen),
            ("world", WorldScreen),
        )
    ]
    scopes += [("the onboarding", [OnboardingScreen])]
    scopes += [
        (f"the {c.__name__.removesuffix('Screen').lower()} dialog", [c])
        for c in vars(dialogs).values()
        if isinstance(c, type) and issubclass(c, Screen) and c.__module__ == dialogs.__name__
    ]
    normal = FypApp._normalize_keymap
    out: list[str] = []
    for where, owners in scopes:
        holders: dict[str, list[str]] = {}
        for owner in owners:
            for b in getattr(owner, "BINDINGS", []):
                if not isinstance(b, Binding) or not b.id:
                    continue
                keys = normal({b.id: keymap.get(b.id, b.key)})[b.id]
                for key in keys.split(","):
                    if b.id not in holders.setdefault(key, []):
                        holders[key].append(b.id)
        for key, ids in holders.items():
            moved = [i for i in ids if i in keymap]
            if len(ids) > 1 and moved:
                others = [i for i in ids if i not in moved] or ids[1:]
                out.append(f"keymap: {key} is {moved[0]}'s and {', '.join(others)}'s key on {where} ({moved[0]} wins)")
    return list(dict.fromkeys(out))


def binding_ids() -> set[str]:
    """Every binding id a keymap may use."""
    return set(default_keymap())


def theme_names() -> set[str]:
    """The themes a config file may name (Textual's built-in ones)."""
    from textual.theme import BUILTIN_THEMES

    return set(BUILTIN_THEMES)


__all__ = ["FypApp", "binding_ids", "default_keymap", "keymap_clashes", "load_app_settings", "theme_names"]
