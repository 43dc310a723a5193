"""The For You feed: one card at a time, reactions, the side panel, the event strip.

Everything that touches the world goes through the live layer's feed queue (one
thread, so the person's actions apply in order) and comes back as one message per
fact (:class:`~fyp_tui.tui.messages.Reacted`, ``PanelReady``...); the UI thread never waits for the
world while a simulation step runs. The next card is preloaded, so a swipe
shows it at once.

Watch time is kept by a :class:`~fyp_tui.live.playback.Playback` from the app's
monotonic clock: it runs while the card is on screen and the app has focus, and
goes to the feed session when the card is left (next, previous, not interested,
quit). One animation timer draws the video; counters follow the world on
another; both stop when the screen is hidden, the video paused (the animation)
or the app frozen.

Autoplay (``fyp-tui --autoplay BOT``): a timer lets a bot scroll, reading the same
watch time: on each card it reacts through the screen's own actions, then moves
on (:class:`~fyp_tui.live.autoplay.BotPlayer` plans each card), until the person
takes over (:meth:`FeedScreen.stop_autoplay`, on any key or click).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import events, on
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Static

from fyp_tui.engine.viewer import COMMENT_MAX_CHARS
from fyp_tui.live.playback import Playback
from fyp_tui.live.views import CardData, Counters, StripItem
from fyp_tui.tui.messages import (
    CardLeft,
    FeedBegun,
    MovedBack,
    MovedForward,
    NavigationFailed,
    PanelFailed,
    PanelReady,
    Reacted,
)
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.screens.dialogs import CommentScreen, NotInterestedScreen
from fyp_tui.tui.widgets.card import ActionRail, VideoCard
from fyp_tui.tui.widgets.header import AppHeader
from fyp_tui.tui.widgets.side import SidePanel
from fyp_tui.tui.widgets.strip import EventStrip
from fyp_tui.tui.widgets.video import VideoCanvas

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.timer import Timer

    from fyp_tui.live.autoplay import BotPlayer, CardPlan

FPS = 12
COUNTER_SECONDS = 0.5
PANEL_SECONDS = 1.0
WHEEL_GAP = 0.25  # seconds between two wheel swipes
FROZEN_T = 1.3  # the frame a frozen app shows
MAX_BACK = 100  # cards kept to go back to without asking the queue
MAX_PENDING = 8  # j/k presses kept while a request is out (a held key repeats fast)
AUTOPLAY_SECONDS = 0.1  # how often the autoplay bot looks at the card's watch time
NAVIGATION = {"next", "previous"}
REACTIONS = {"like", "share", "favourite", "follow", "not_interested", "comment"}


class FeedScreen(FypScreen):
    MODE = "feed"
    #: playback paused (space): the card, its rail and the watch clock follow (watch_paused)
    paused: reactive[bool] = reactive(False, init=False)
    #: the sound ticker muted (m): the card follows (watch_muted)
    muted: reactive[bool] = reactive(False, init=False)
    BINDINGS = [
        Binding("j,down", "next", "Next", id="feed.next", tooltip="Next video (also the mouse wheel)"),
        Binding("k,up", "previous", "Prev", id="feed.previous", show=False, tooltip="Back to the previous video"),
        Binding("l", "like", "Like", id="feed.like", tooltip="Like or unlike (or double-click the video)"),
        Binding("s", "share", "Share", id="feed.share", show=False, tooltip="Share the video"),
        Binding("b", "favourite", "Fav", id="feed.favourite", show=False, tooltip="Add to or remove from favourites"),
        Binding("f", "follow", "Follow", id="feed.follow", tooltip="Follow or unfollow the creator"),
        Binding("c", "comment", "Comment", id="feed.comment", show=False, tooltip="Comment on the video"),
        Binding(
            "n",
            "not_interested",
            "Not int.",
            id="feed.not_interested",
            tooltip="Not interested: this video, creator or sound",
        ),
        Binding("space", "toggle_pause", "Pause", id="feed.pause", show=False, tooltip="Pause or play the video"),
        Binding("m", "toggle_mute", "Mute", id="feed.mute", show=False, tooltip="Stop or restart the sound's ticker"),
        Binding("e", "toggle_panel", "Why", id="feed.panel", tooltip="Side panel: why this video, and its spread"),
        Binding(
            "w",
            "switch_tab",
            "Why/Spread",
            id="feed.panel_tab",
            show=False,
            tooltip="Switch the side panel between Why and Spread",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.card: CardData | None = None
        self.playback: Playback | None = None
        self.started = False
        self.busy = False  # a forward/back request is out: navigation waits for it
        # j/k presses made while busy, replayed in order when the request is answered
        self._pending: deque[str] = deque(maxlen=MAX_PENDING)
        self._back: list[CardData] = []  # cards shown before this one, to go back at once
        self._visible = True
        self._last_wheel = -1e9
        self._last_counters: Counters | None = None
        self._panel_busy = False
        self._anim: Timer | None = None
        self._counter_timer: Timer | None = None
        self._panel_timer: Timer | None = None
        self.autoplay: BotPlayer | None = None  # the bot scrolling the feed, if any
        self._plan: CardPlan | None = None  # its plan for the card on screen
        self._bot_reacted = False
        self._autoplay_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader("feed", id="header")
        with Horizontal(id="stage"):
            with Vertical(id="card-col"):
                yield Static("Loading the world…", id="loading")
                yield Static("", id="feed-message")
                yield VideoCard(id="card")
            yield ActionRail(id="rail")
        yield EventStrip(id="strip")
        yield Footer(id="footer")

    def on_mount(self) -> None:
        self.query_one("#card").display = False
        self.query_one("#feed-message").display = False
        self.query_one("#rail").display = False
        for b in self.query("ActionRail Button"):
            b.can_focus = False
        if not self.fyp.frozen:
            self._anim = self.set_interval(1 / FPS, self.draw_frame, pause=True)
            self._counter_timer = self.set_interval(COUNTER_SECONDS, self.refresh_counters, pause=True)
            self._panel_timer = self.set_interval(PANEL_SECONDS, self.refresh_panel, pause=True)
        self.watch(self.app, "app_focus", self._focus_changed, init=False)

    # -- the feed queue -------------------------------------------------------------
    @on(NavigationFailed)
    def _navigation_failed(self, message: NavigationFailed) -> None:
        self.busy = False
        self._pending.clear()
        self.fyp.show_error(message.error)
        if self.card is None:
            self.show(None)

    @on(PanelFailed)
    def _panel_failed(self, message: PanelFailed) -> None:
        self._panel_busy = False

    @on(FeedBegun)
    def _begun(self, message: FeedBegun) -> None:
        self.busy = False
        self.show(message.card, None)
        self._replay_pending()

    @on(MovedForward)
    def _moved_forward(self, message: MovedForward) -> None:
        self.busy = False
        self.add_items(message.items)
        if message.card is None:
            self.notify("Nothing new to show right now: let the clock run for new uploads.", timeout=3)
            if self.card is None:
                self.show(None)
            return
        self._remember()
        self.show(message.card, message.key_time)
        self._replay_pending()

    @on(MovedBack)
    def _moved_back(self, message: MovedBack) -> None:
        card = message.card
        self.busy = False
        self.add_items(message.items)
        if message.shown is not None:  # already shown from the back stack
            if card is not None and card.video != message.shown:
                self._back.clear()  # out of step (cannot happen in one session): trust the session
                self._pending.clear()
                self.show(card)
            elif card is not None and self.card is not None and card.video == self.card.video:
                self.card = replace(card, reshown=True)
            self._replay_pending()
            return
        if card is None:
            self._pending.clear()
            self.notify("This is the first video of the session.", timeout=2)
            if self.card is not None and self.playback is None:
                self._restart_playback()
            return
        self.show(card, message.key_time)
        self._replay_pending()

    def _replay_pending(self) -> None:
        """Run the next j/k press that came in while a request was out."""
        if self._pending and not self.busy:
            getattr(self, f"action_{self._pending.popleft()}")()

    @on(CardLeft)
    def _card_left(self, message: CardLeft) -> None:
        self.add_items(message.items)

    @on(Reacted)
    def _reacted(self, message: Reacted) -> None:
        card = message.card
        self.add_items(message.items)
        if self.card is None or card.video != self.card.video:
            return
        self.card = card
        self.query_one(VideoCard).refresh_meta(card)
        self.query_one(ActionRail).show_state(card, self.paused)
        self.refresh_counters()
        self.refresh_panel()

    @on(PanelReady)
    def _panel_ready(self, message: PanelReady) -> None:
        self._panel_busy = False
        side = self.side
        if self.card is not None and side is not None and message.video == self.card.video and side.display:
            side.show(message.why, message.spread)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Show the first card (the world is loaded and the person onboarded)."""
        self.started = True
        self.busy = True
        self.request(self.live.feed.begin, reply=FeedBegun, failed=NavigationFailed)

    def show(self, card: CardData | None, key_time: float | None = None) -> None:
        """Swap in ``card``; measures key press -> the refresh that shows it."""
        self._set_display("#loading", False)
        if card is None:
            self.card = None
            self.playback = None
            self.query_one("#card").display = False
            self.query_one("#rail").display = False
            msg = self.query_one("#feed-message", Static)
            msg.update("Nothing to show right now. Let the clock run for new uploads, then press j.")
            msg.display = True
            self.refresh_bindings()
            return
        self._set_display("#feed-message", False)
        self._set_display("#rail", True)
        self._set_display("#card", True)
        first = self.card is None
        self.card = card
        view = self.query_one(VideoCard)
        view.paused = self.paused
        view.muted = self.muted
        view.show_card(card, FROZEN_T if self.fyp.frozen else 0.0)
        self._restart_playback()
        self.query_one(ActionRail).show_state(card, self.paused)
        self._last_counters = None
        self.refresh_counters()
        self.refresh_panel()
        self._set_timers()
        if first:
            self.refresh_bindings()  # the footer shows the actions a card enables
        if key_time is not None or self.fyp.first_card_at is None:
            self.call_after_refresh(self._shown, key_time)

    def _set_display(self, selector: str, on: bool) -> None:
        widget = self.query_one(selector)
        if widget.display != on:
            widget.display = on

    def _restart_playback(self) -> None:
        if self.card is None:
            return
        self.playback = Playback(duration=self.card.duration)
        self.playback.update(self.fyp.clock(), visible=self._on_screen(), playing=not self.paused)

    def _shown(self, key_time: float | None) -> None:
        now = get_time()
        if self.fyp.first_card_at is None:
            self.fyp.first_card_at = now
        if key_time is not None:
            self.fyp.latencies.append(now - key_time)

    def _on_screen(self) -> bool:
        return self._visible and bool(self.app.app_focus)

    def _focus_changed(self, _focus: bool) -> None:
        self._update_playback()

    def _update_playback(self) -> None:
        if self.playback is not None:
            self.playback.update(self.fyp.clock(), visible=self._on_screen(), playing=not self.paused)
        self._set_timers()

    def _set_timers(self) -> None:
        if self._anim is None:
            return
        live = self._visible and self.card is not None
        if live and not self.paused and self.app.app_focus and self.fyp.animation:
            self._anim.resume()
        else:
            self._anim.pause()
        for timer in (self._counter_timer, self._panel_timer):
            if timer is None:
                continue
            if live:
                timer.resume()
            else:
                timer.pause()

    def animation_changed(self) -> None:
        """The animation setting changed: start or stop drawing the video."""
        self._set_timers()

    def on_screen_suspend(self) -> None:
        self.hidden()

    def on_screen_resume(self) -> None:
        self._visible = True
        self._update_playback()
        if self.card is not None:
            self.refresh_counters()

    def hidden(self) -> None:
        """The screen is leaving view: watch time stops (the card stays current)."""
        self._visible = False
        self._update_playback()

    def leaving(self) -> tuple[int, float, int] | None:
        """(video, seconds watched, loops) of the card being left; stops its clock."""
        if self.card is None or self.playback is None:
            return None
        now = self.fyp.clock()
        out = (self.card.video, self.playback.watched(now), self.playback.loops(now))
        self.playback = None
        return out

    def leave_card(self) -> None:
        """Send the current card's watch time to the feed session (on quit)."""
        left = self.leaving()
        if left is not None:
            self.request(self.live.feed.watched, *left, reply=CardLeft)

    # -- the clock -----------------------------------------------------------------
    def world_advanced(self, items: list[StripItem]) -> None:
        self.add_items(items)
        if self._visible and self.card is not None:
            self.refresh_counters()

    def add_items(self, items: list[StripItem]) -> None:
        if items:
            self.query_one(EventStrip).add(items)
            for item in items:
                if item.tipped and item.kind in ("promoted", "stalled"):
                    self.notify(item.text, title="You tipped it", timeout=6)

    # -- autoplay ---------------------------------------------------------------------
    def start_autoplay(self, player: BotPlayer) -> None:
        """Let ``player`` scroll: it watches each card as long as its rules say, reacts
        a moment before it leaves, then moves on (its timer reads the app's clock)."""
        self.autoplay = player
        self._plan = None
        if self._autoplay_timer is None:
            self._autoplay_timer = self.set_interval(AUTOPLAY_SECONDS, self.autoplay_step)
        else:
            self._autoplay_timer.resume()
        self.fyp.autoplay_status = f"autoplay: {player.name}"
        self.add_items(
            [StripItem(self.fyp.sim_clock, f"autoplay: bot {player.name!r} is scrolling; press any key to take over")]
        )

    def stop_autoplay(self, why: str) -> None:
        """The person takes over: the bot stops where it is (its reactions stay)."""
        if self.autoplay is None:
            return
        self.autoplay = None
        self._plan = None
        if self._autoplay_timer is not None:
            self._autoplay_timer.pause()
        self.fyp.autoplay_status = ""
        self.add_items([StripItem(self.fyp.sim_clock, f"autoplay stopped ({why}): the feed is yours")])

    def autoplay_step(self) -> None:
        """One look by the bot at the card on screen: react when its plan says, then next."""
        card, playback = self.card, self.playback
        if self.autoplay is None or card is None or playback is None or self.busy or not self._visible:
            return
        if self._plan is None or self._plan.video != card.video:
            self._plan = self.autoplay.plan(card)
            self._bot_reacted = False
        plan = self._plan
        watched = playback.watched(self.fyp.clock())
        if not self._bot_reacted and watched >= plan.react_at:
            self._bot_reacted = True
            for kind in plan.reactions:
                self._bot_react(kind)
        if watched >= plan.seconds:
            self.action_next()

    def _bot_react(self, kind: str) -> None:
        """A reaction of the bot, as the person's key for it would make it."""
        card = self.card
        if card is None:
            return
        if kind == "like" and not card.liked:
            self.action_like()
            self.notify("♥ Liked", timeout=1)
        elif kind == "share":
            self.action_share()
        elif kind == "follow" and not card.following:
            self.action_follow()
        elif kind.startswith("not_interested"):
            self.react(kind)
            self.notify("Got it: you'll see less like this.", timeout=2)

    # -- drawing ---------------------------------------------------------------------
    def draw_frame(self) -> None:
        """One frame of the video (the animation timer's tick)."""
        if self.card is None or self.playback is None:
            return
        pos = self.playback.position(self.fyp.clock())
        self.query_one(VideoCard).draw(pos, int(pos * 4))

    def refresh_counters(self) -> None:
        if self.card is None:
            return
        c = self.live.feed.counters(self.card.video)
        if c != self._last_counters:
            self._last_counters = c
            self.query_one(ActionRail).show_counters(c)

    @property
    def side(self) -> SidePanel | None:
        """The side panel, mounted the first time it is opened (start-up stays light)."""
        found = self.query(SidePanel)
        return found.first() if found else None

    def refresh_panel(self) -> None:
        side = self.side
        if self.card is None or side is None or not side.display or self._panel_busy:
            return
        self._panel_busy = True
        video = self.card.video
        self.request(self.live.feed.panel, video, reply=lambda panel: PanelReady(video, *panel), failed=PanelFailed)

    # -- actions ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NAVIGATION | REACTIONS | {"toggle_pause", "toggle_mute"}:
            if not self.started:
                return False
            if action != "next" and self.card is None:
                return False
            if action == "follow" and self.card is not None and self.card.mine:
                return False
        return True

    def _remember(self) -> None:
        if self.card is not None:
            self._back.append(self.card)
            del self._back[:-MAX_BACK]

    def action_next(self) -> None:
        if not self.started:
            return
        if self.busy:
            self._pending.append("next")
            return
        key_time = self.fyp.take_key_time()
        left = self.leaving()
        card = self.live.feed.take_ahead()
        if card is not None:
            self._remember()
            self.show(card, key_time)
            # the queue's work (record the card left, preload the next) starts once the
            # new card is on screen, so it does not compete with drawing it
            self.call_after_refresh(self.request, self.live.feed.after_swap, left, reply=CardLeft)
        else:
            self.busy = True
            self.request(
                self.live.feed.forward,
                left,
                reply=lambda moved: MovedForward(*moved, key_time=key_time),
                failed=NavigationFailed,
            )

    def action_previous(self) -> None:
        if self.card is None:
            return
        if self.busy:
            self._pending.append("previous")
            return
        key_time = self.fyp.take_key_time()
        left = self.leaving()
        self.busy = True
        if self._back:
            # show the card we know at once; the queue moves the session back in step
            card = replace(self._back.pop(), reshown=True, first_viewer=False)
            self.show(card, key_time)
            shown = card.video
            self.call_after_refresh(
                self.request,
                self.live.feed.back,
                left,
                reply=lambda moved: MovedBack(moved[0], moved[1], shown=shown),
                failed=NavigationFailed,
            )
        else:
            self.request(
                self.live.feed.back,
                left,
                reply=lambda moved: MovedBack(moved[0], moved[1], key_time=key_time),
                failed=NavigationFailed,
            )

    def react(self, kind: str, text: str | None = None) -> None:
        if self.card is None:
            return
        self.request(self.live.feed.react, self.card.video, kind, text, reply=lambda reacted: Reacted(*reacted))

    def action_comment(self) -> None:
        if self.card is None:
            return
        card = self.card

        def posted(text: str | None) -> None:
            if text and self.card is not None and self.card.video == card.video:
                self.react("comment", text)
                self.notify("Comment posted", timeout=1.5)

        self.app.push_screen(CommentScreen(card.handle, COMMENT_MAX_CHARS), posted)

    def action_like(self) -> None:
        if self.card is not None:
            self.react("unlike" if self.card.liked else "like")

    def action_share(self) -> None:
        if self.card is not None:
            self.react("share")
            self.notify(f"Shared @{self.card.handle}'s video", timeout=2)

    def action_favourite(self) -> None:
        if self.card is not None:
            self.react("unfavourite" if self.card.favourited else "favourite")

    def action_follow(self) -> None:
        if self.card is not None and not self.card.mine:
            self.react("unfollow" if self.card.following else "follow")

    def action_not_interested(self) -> None:
        if self.card is None:
            return
        card = self.card

        def chosen(kind: str | None) -> None:
            if kind and self.card is not None and self.card.video == card.video:
                self.react(kind)
                if kind == "mute_hashtag":
                    self.notify(f"Muted #{card.mute_tag}: no more videos with it.", timeout=2)
                else:
                    self.notify("Got it: you'll see less like this.", timeout=2)
                self.action_next()

        self.app.push_screen(NotInterestedScreen(card.handle, card.sound_title, card.mute_tag), chosen)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        self._update_playback()
        view = self.query_one(VideoCard)
        view.paused = paused
        if self.card is not None:
            self.query_one(ActionRail).show_state(self.card, paused)
            pos = FROZEN_T if self.fyp.frozen or self.playback is None else self.playback.position(self.fyp.clock())
            view.draw(pos, int(pos * 4))

    def action_toggle_mute(self) -> None:
        self.muted = not self.muted
        self.notify("Sound ticker muted" if self.muted else "Sound ticker on", timeout=1.5)

    def watch_muted(self, muted: bool) -> None:
        self.query_one(VideoCard).muted = muted

    async def action_toggle_panel(self) -> None:
        side = self.side
        if side is None:
            side = SidePanel(id="side")
            await self.query_one("#stage").mount(side)
        else:
            side.display = not side.display
        self.query_one("#stage").set_class(side.display, "-panel")
        self.refresh_panel()

    async def action_switch_tab(self) -> None:
        side = self.side
        if side is None or not side.display:
            await self.action_toggle_panel()
            return
        side.switch_tab()

    # -- mouse ---------------------------------------------------------------------------
    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._wheel_ok(event):
            self.action_next()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._wheel_ok(event):
            self.action_previous()

    def _wheel_ok(self, event: events.MouseEvent) -> bool:
        """A swipe: not over the side panel (it scrolls), at most one per WHEEL_GAP."""
        widget: DOMNode | None = event.widget
        while widget is not None:
            if isinstance(widget, SidePanel):
                return False
            widget = widget.parent
        now = self.fyp.clock()
        if now - self._last_wheel < WHEEL_GAP:
            return False
        self._last_wheel = now
        return True

    def on_click(self, event: events.Click) -> None:
        if event.chain == 2 and isinstance(event.widget, VideoCanvas) and self.card is not None:
            if not self.card.liked:
                self.react("like")
                self.notify("♥ Liked", timeout=1)
