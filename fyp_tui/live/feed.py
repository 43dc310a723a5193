"""The person's feed queue: the card on screen, the next one preloaded, reactions, in order.

Every call that acts on the feed runs on one thread (:meth:`Feed.submit`), so the
person's actions apply in the order they were made; the UI thread never waits for
the world while a simulation step holds the lock.

Like the platform, the feed preloads the next video while the person watches
this one: the queue ranks it (``_prefetch``) right after a card is shown, so a
swipe shows it at once (:meth:`Feed.take_ahead` on the UI thread) and the
impression of the card left is recorded just after (:meth:`Feed.after_swap`). The
person's signals on this card shape the card after the preloaded one. While a
preloaded card waits, the session's position is on it (``FeedSession.next()`` was
called), hence :meth:`Feed.back`'s extra step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from fyp_tui.engine.events import Event
from fyp_tui.engine.world import Signal
from fyp_tui.errors import FypError
from fyp_tui.live import cards
from fyp_tui.live.views import CardData, Counters, SpreadData, StripItem, WhyData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: (video, seconds watched, loops) of the card the person leaves, or None.
Leaving = tuple[int, float, int] | None


class SerialQueue:
    """Jobs run one at a time, in the order submitted, on one thread (made at first use):
    the person's actions apply in the order they were made."""

    thread_name = "fyp-feed"
    _queue: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Future:
        """Run ``fn`` on the queue."""
        if self._queue is None:
            self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)
        return self._queue.submit(fn, *args, **kw)

    def drain(self) -> None:
        """Wait until every job submitted so far has run (if the queue was ever used)."""
        if self._queue is not None:
            self._queue.submit(lambda: None).result()

    def shutdown(self) -> None:
        """Run what is queued, then stop the queue's thread."""
        if self._queue is not None:
            self._queue.shutdown(wait=True, cancel_futures=False)


class Feed(SerialQueue):
    """One person's feed: a single-thread queue over their ``FeedSession``."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self._ahead: CardData | None = None
        self._ahead_lock = threading.Lock()
        #: the video on the person's screen (its events rank first in the strip)
        self.current: int | None = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Future:
        """Run ``fn`` on the queue; a database error that says the world file is damaged
        comes back as :class:`~fyp_tui.errors.WorldDamagedError` (:meth:`LiveSession.damage`)."""
        return super().submit(self._run, fn, args, kw)

    def _run(self, fn: Callable[..., Any], args: tuple, kw: dict) -> Any:
        try:
            return fn(*args, **kw)
        except Exception as exc:
            damaged = self.live.damage(exc)
            if damaged is exc:
                raise
            raise damaged from exc

    # -- cards (UI thread) ----------------------------------------------------------------
    def preloaded(self) -> int | None:
        """The video of the next card, preloaded but not shown yet (None: none)."""
        with self._ahead_lock:
            return None if self._ahead is None else int(self._ahead.video)

    def take_ahead(self) -> CardData | None:
        """The preloaded next card, if ready (UI thread; cheap)."""
        with self._ahead_lock:
            card, self._ahead = self._ahead, None
        if card is not None:
            self.current = card.video  # it is about to be on screen
        return card

    def counters(self, video: int) -> Counters:
        """Live counters, read without the lock (display only; any thread)."""
        return cards.counters(self.live.world, self.live.params, video)

    # -- on the queue ---------------------------------------------------------------------
    def begin(self) -> CardData | None:
        """The card to open the feed on (queue)."""
        session = self.live.feed_session
        with self.live.lock:
            v = session.current()
            if v is None:
                v = session.next()
            card = self._card(int(v))
        self._prefetch()
        return card

    def _prefetch(self) -> None:
        """Rank the next card now, so the next swipe shows it at once (queue)."""
        session = self.live.feed_session
        try:
            with self.live.lock:
                at_latest = session.at_latest
                v = int(session.next())
                card = self._card(v, reshown=not at_latest, keep_current=True)
        except FypError:
            return  # nothing left to recommend: the swipe will say so
        with self._ahead_lock:
            self._ahead = card

    def _leave(self, leaving: Leaving) -> list[Event]:
        if leaving is None:
            return []
        video, seconds, loops = leaving
        with self.live.lock:
            events = self.live.feed_session.watched(video, seconds, loops)
            self.live.profile.note_diversity()
            self.live.log.note_card(video, seconds, loops)
        self.live.history.log_tiers(events)
        return events

    def after_swap(self, leaving: Leaving) -> list[StripItem]:
        """The UI showed the preloaded card: record the card left, preload the next (queue)."""
        try:
            events = self._leave(leaving)
        finally:
            self._prefetch()
        return self.live.strip_items(events)

    def forward(self, leaving: Leaving) -> tuple[CardData | None, list[StripItem]]:
        """Next card when none was preloaded yet (queue)."""
        events = self._leave(leaving)
        card = self.take_ahead()
        if card is None:
            self._prefetch()
            card = self.take_ahead()
        if card is not None:
            self._prefetch()
        return card, self.live.strip_items(events)

    def back(self, leaving: Leaving) -> tuple[CardData | None, list[StripItem]]:
        """Previous card from the history, no new recommendation (queue)."""
        events = self._leave(leaving)
        session = self.live.feed_session
        with self.live.lock:
            with self._ahead_lock:
                dropped, self._ahead = self._ahead, None
            if dropped is not None:
                session.previous()  # off the preloaded card, onto the one on screen
            v = session.previous()
            card = None if v is None else self._card(int(v), reshown=True)
        self._prefetch()  # preload forward again (through the history)
        return card, self.live.strip_items(events)

    def watched(self, video: int, seconds: float, loops: int) -> list[StripItem]:
        """Record one impression (queue; used when quitting)."""
        return self.live.strip_items(self._leave((video, seconds, loops)))

    def react(self, video: int, kind: str, text: str | None = None) -> tuple[CardData, list[StripItem]]:
        """A reaction, committed before it returns; the card's new state (queue).
        ``text``: a comment's."""
        with self.live.lock:
            events = self.live.feed_session.react(video, kind, text=text)
            card = self._card(video, first_viewer=None, keep_current=True)
        self.live.history.log_tiers(events)
        return card, self.live.strip_items(events)

    def panel(self, video: int) -> tuple[WhyData, SpreadData]:
        """Both side-panel tabs for ``video`` (queue)."""
        return self.live.panel.why(video), self.live.panel.spread(video)

    def _card(
        self, v: int, *, first_viewer: bool | None = None, reshown: bool = False, keep_current: bool = False
    ) -> CardData:
        """The card of ``v``, now tracked (caller holds the lock); on screen unless ``keep_current``."""
        live = self.live
        if first_viewer is None:
            first_viewer = bool(live.feed_session.is_first_viewer(v))
        if not keep_current:
            self.current = v
        live.history.track(v)
        return cards.make_card(
            live.world,
            live.feed_session.person,
            v,
            profile_id=live.profile_id,
            profile_name=live.profile_name,
            trending=live.trending.sounds(),
            first_viewer=first_viewer,
            shared=live.feed_session.has(v, Signal.SHARE),
            reshown=reshown,
        )
