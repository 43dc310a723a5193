"""A bot scrolls a live session: the person's feed, driven by bot-file rules instead of keys.

``fyp-tui play`` runs :func:`run_play` (no screen); the app's ``--autoplay``
drives its feed screen with the same :class:`BotPlayer`. Either way the bot is
one more person on the world: it opens and locks the world through a
:class:`~fyp_tui.live.session.LiveSession`, its reactions go through the feed
queue and are journaled like a person's, the clock runs at the app's pace while
it watches a card, and the world is checkpointed as the app does (every
:data:`~fyp_tui.live.checkpoint.CHECKPOINT_SECONDS` of wall time, and at the end).

The rules are the audit's (:func:`fyp_tui.audit.behaviour`, the bot-file
format): "not interested" and a skim; like, share, follow after watching to the
end; linger: to the end and once more; anything else skimmed. Time, two ways:

* ``fyp-tui play`` scrolls at a steady cadence, ``S`` seconds a card (default:
  the bot's ``watch_seconds``): the clock moves ``pace x S`` a card (30
  simulated minutes at the default pace and 3 s a card), and the watch recorded
  is the bot's (a card it likes counts as watched to the end, as in the audit).
* In the app (``--autoplay``) real time is real: the bot stays on a card as long
  as it watches it (a 20 s video it likes, 20 s), and the app's own playback
  measures the watch, as for a person.

Reactions come :data:`REACT_LEAD` seconds before the bot leaves the card (the
app shows them on the card before it moves on).

:class:`PlayMeter` observes the play (cards live in a tier pool when shown,
first-viewer cards, the world's live videos, decisions credited to the bot) and
never changes it. Nothing here imports Textual.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.audit import BotRef, ResolvedBot, behaviour, resolve_bot_ref
from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.engine.world import Status
from fyp_tui.errors import UsageError, WorldDamagedError
from fyp_tui.live.checkpoint import CHECKPOINT_SECONDS
from fyp_tui.live.clock import DEFAULT_PACE, hours_of
from fyp_tui.live.views import CardData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: cards per window of the per-window figures
WINDOW = 25
#: seconds before leaving a card that the bot reacts to it (at most half the card's time)
REACT_LEAD = 1.0


@dataclass(frozen=True, slots=True)
class CardPlan:
    """What the bot does with the card on screen, on the card's own timeline."""

    video: int
    reactions: tuple[str, ...]  # FeedSession.react kinds, in order
    react_at: float  # seconds after the card came on screen
    seconds: float  # seconds on the card (then the next card)
    watch: float  # seconds watched, as recorded when the card is left
    loops: int


class BotPlayer:
    """A bot fitted to a world, card by card (pure: reads the card only, never the world)."""

    def __init__(self, bot: ResolvedBot, *, seconds_per_card: float | None = None, notes: tuple[str, ...] = ()) -> None:
        self.bot = bot
        #: ``play``'s cadence, seconds a card (and the time a skim watches): the bot's ``watch_seconds`` unless given
        self.seconds_per_card = float(bot.spec.watch_seconds if seconds_per_card is None else seconds_per_card)
        self.notes = tuple(notes)

    @classmethod
    def for_session(cls, live: LiveSession, ref: BotRef, *, seconds_per_card: float | None = None) -> BotPlayer:
        """The bot ``ref`` names, checked against (or fitted to) the session's world."""
        with live.lock:
            resolved, notes = resolve_bot_ref(live.world, ref)
        return cls(resolved, seconds_per_card=seconds_per_card, notes=tuple(notes))

    @property
    def name(self) -> str:
        return self.bot.spec.name

    def plan(self, card: CardData, *, steady: bool = False) -> CardPlan:
        """The bot's rules for ``card`` (its main topic and duration): on the card as
        long as it watches it, or (``steady``, ``play``'s cadence) :attr:`seconds_per_card`."""
        b = behaviour(self.bot, card.topic, card.duration, watch_seconds=self.seconds_per_card)
        seconds = self.seconds_per_card if steady else b.seconds
        react_at = max(seconds - REACT_LEAD, seconds / 2) if b.reactions else seconds
        return CardPlan(card.video, b.reactions, react_at, seconds, b.seconds, b.loops)

    def start_profile(self, live: LiveSession) -> None:
        """A new profile starts as the bot: its country, language and knob, no picked
        topics (queue; instead of the onboarding screen)."""
        live.profile.onboard([], country=self.bot.country, language=self.bot.language)
        live.profile.set_knob(self.bot.spec.knob)


# -- what a play did ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tip:
    """A tier decision credited to the bot: without its signal it would have gone the other way."""

    video_id: int
    tier: int  # the tier decided
    decision: str  # "promoted" | "stalled"
    reaction: str  # the bot's signal that tipped it (``tipped_by``)
    instead: str | None  # what it would have done without it
    time: float  # simulated hours
    card: int = 0  # the card on screen when it was decided (1: the first of the play)

    @classmethod
    def of(cls, e: Promoted | Stalled, card: int = 0) -> Tip:
        if isinstance(e, Promoted):
            return cls(e.video, e.from_tier, "promoted", str(e.tipped_by), e.instead, float(e.time), card)
        return cls(e.video, e.tier, "stalled", str(e.tipped_by), e.instead, float(e.time), card)

    def to_dict(self) -> dict:
        return {
            "video_id": self.video_id,
            "tier": self.tier,
            "decision": self.decision,
            "reaction": self.reaction,
            "instead": self.instead,
            "time": round(self.time, 4),
            "card": self.card,
        }


@dataclass(frozen=True)
class PlayResult:
    """What ``fyp-tui play`` reports (:meth:`to_dict` is its JSON)."""

    bot: str
    profile: str
    cards: int
    cards_requested: int
    first_viewer_cards: int
    live_share_by_window: tuple[float, ...]  # share of cards live in a tier pool when shown
    live_videos_by_window: tuple[int, ...]  # videos live in the world as each window's last card was shown
    tips: tuple[Tip, ...]
    reactions: dict[str, int]
    clock_start: float
    clock_end: float
    pace: float
    seconds_per_card: float
    bot_seconds: float  # real seconds the bot's scrolling stands for (cards x seconds_per_card)
    ran_out: bool = False
    seed: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {
            "bot": self.bot,
            "profile": self.profile,
            "cards": self.cards,
            "cards_requested": self.cards_requested,
            "ran_out": self.ran_out,
            "first_viewer_cards": self.first_viewer_cards,
            "live_share_by_window": list(self.live_share_by_window),
            "live_videos_by_window": list(self.live_videos_by_window),
            "tips": [t.to_dict() for t in self.tips],
            "reactions": dict(self.reactions),
            "clock_start": round(self.clock_start, 4),
            "clock_end": round(self.clock_end, 4),
            "pace": self.pace,
            "seconds_per_card": self.seconds_per_card,
            "bot_seconds": round(self.bot_seconds, 3),
            "seed": self.seed,
            "notes": list(self.notes),
        }


class PlayMeter:
    """Observes a play card by card; reads the session, never changes it."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self._credited_from = len(live.history.credited)
        self.live_cards: list[bool] = []
        self.first_viewer: list[bool] = []
        self.live_videos: list[int] = []
        self.reactions: Counter[str] = Counter()
        self._credit_marks: list[int] = []  # decisions credited before each card came

    def shown(self, card: CardData) -> None:
        """``card`` came on screen: is it live in a tier pool, and how many videos are
        (a first-viewer card is one the card says so of, as the app shows it)."""
        w = self.live.world
        assert w is not None, "the session is open"
        self._credit_marks.append(len(self.live.history.credited))
        with self.live.lock:
            status = w.video_status[: w.n_videos]
            self.live_cards.append(int(status[card.video]) != Status.STALLED)
            self.live_videos.append(int(np.count_nonzero(status != Status.STALLED)))
        self.first_viewer.append(bool(card.first_viewer))

    def reacted(self, kind: str) -> None:
        self.reactions[kind] += 1

    def tips(self) -> tuple[Tip, ...]:
        """Decisions credited to the bot since the meter started, each with its card."""
        credited = self.live.history.credited
        return tuple(
            Tip.of(credited[i], bisect_right(self._credit_marks, i)) for i in range(self._credited_from, len(credited))
        )

    def live_share_by_window(self) -> tuple[float, ...]:
        x = np.asarray(self.live_cards, float)
        return tuple(round(float(x[i : i + WINDOW].mean()), 4) for i in range(0, len(x), WINDOW))

    def live_videos_by_window(self) -> tuple[int, ...]:
        n = len(self.live_videos)
        return tuple(self.live_videos[min(i + WINDOW, n) - 1] for i in range(0, n, WINDOW))


def windows(cards: int) -> int:
    """Windows of :data:`WINDOW` cards in a play of ``cards`` cards."""
    return math.ceil(cards / WINDOW)


# -- the headless driver --------------------------------------------------------------------------


def play(
    live: LiveSession,
    player: BotPlayer,
    *,
    cards: int,
    pace: float = DEFAULT_PACE,
    progress: Callable[[str, int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PlayResult:
    """Let ``player`` scroll ``cards`` cards of ``live``'s feed (open, onboarded) at
    its steady cadence, advancing the clock ``pace`` simulated minutes per second.

    The same calls as the app's feed screen, on the feed queue: the card left is
    recorded as the next one comes (``Feed.forward``), reactions are journaled as
    they are made. The world is checkpointed in the background every
    :data:`CHECKPOINT_SECONDS` of wall time, as the app does (the caller saves at
    the end); ``clock``: the monotonic clock that measures it.
    A feed that runs dry ends the play early (``ran_out``)."""
    feed, world = live.feed, live.world

    def on_queue(fn: Callable[..., Any], *args: Any) -> Any:
        return feed.submit(fn, *args).result()

    meter = PlayMeter(live)
    clock_start = float(world.clock)
    bot_seconds = 0.0
    last_checkpoint = clock()
    writes: list[Future] = []
    try:
        card = on_queue(feed.begin)
    except UsageError:  # nothing left to recommend
        card = None
    shown = 0
    while card is not None and shown < cards:
        if live.damaged is not None:  # (noted by a read that went on without its rows)
            raise live.damaged
        meter.shown(card)
        shown += 1
        plan = player.plan(card, steady=True)
        _run_clock(live, plan.react_at, pace)
        for kind in plan.reactions:
            on_queue(feed.react, card.video, kind)
            meter.reacted(kind)
        _run_clock(live, plan.seconds - plan.react_at, pace)
        bot_seconds += plan.seconds
        leaving = (card.video, plan.watch, plan.loops)
        if shown == cards:
            on_queue(feed.watched, *leaving)  # the last card, left as on quitting
            card = None
        else:
            card, _items = on_queue(feed.forward, leaving)
        if clock() - last_checkpoint >= CHECKPOINT_SECONDS or live.checkpoints.due:
            last_checkpoint = clock()
            writes.append(live.checkpoints.submit_write(on_queue(live.checkpoints.capture)))
        if progress is not None:
            progress("playing", shown, cards)
    for w in writes:
        w.exception()  # wait; a failed write put its rows back for the next one (the caller's final save)
    return PlayResult(
        bot=player.name,
        profile=live.profile_name,
        cards=shown,
        cards_requested=cards,
        first_viewer_cards=int(sum(meter.first_viewer)),
        live_share_by_window=meter.live_share_by_window(),
        live_videos_by_window=meter.live_videos_by_window(),
        tips=meter.tips(),
        reactions=dict(meter.reactions),
        clock_start=clock_start,
        clock_end=float(world.clock),
        pace=float(pace),
        seconds_per_card=player.seconds_per_card,
        bot_seconds=bot_seconds,
        ran_out=shown < cards,
        seed=live.seed,
        notes=player.notes,
    )


def _run_clock(live: LiveSession, seconds: float, pace: float) -> None:
    """The world runs on while the bot watches ``seconds`` (as the app's timer runs it)."""
    hours = hours_of(seconds, pace)
    if hours > 0:
        live.clock.advance(hours)


def run_play(
    *,
    db: str | None,
    profile: str,
    bot: BotRef,
    cards: int | None = None,
    pace: float = DEFAULT_PACE,
    seconds_per_card: float | None = None,
    seed: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> PlayResult:
    """Open and lock the world at ``db``, let ``bot`` scroll ``cards`` cards (default:
    the bot's ``videos``) as ``profile``, ``seconds_per_card`` seconds a card (default:
    the bot's ``watch_seconds``), save the world, release it.

    A new profile starts as the bot (its country, language, knob); an existing one
    keeps its own (a note says so). A locked, missing or damaged world raises the
    store's one-line error before anything runs."""
    from fyp_tui.live.session import LiveSession

    live = LiveSession(db, profile, seed=seed)
    try:
        info = live.open()
        player = BotPlayer.for_session(live, bot, seconds_per_card=seconds_per_card)
        if info.needs_onboarding:
            live.feed.submit(player.start_profile, live).result()
        else:
            spec = player.bot.spec
            if spec.country or spec.language:
                player.notes += (f"profile {profile!r} already exists: it keeps its own country, language and knob",)
        n = int(cards if cards is not None else player.bot.spec.videos)
        try:
            result = play(live, player, cards=n, pace=pace, progress=progress)
            if progress is not None:
                progress("saving the world", 0, 1)
            live.checkpoints.final_save()
        except Exception as exc:
            if live.damage(exc) is exc and live.damaged is None:
                raise
            raise WorldDamagedError(live.stop_damaged()) from None
        if live.damaged is not None:  # (found by a read the play went on without)
            raise WorldDamagedError(live.stop_damaged())
        return result
    finally:
        live.close()
