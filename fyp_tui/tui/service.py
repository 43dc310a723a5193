"""The app's one door to the world: owns the World, its lock, the feed session and the store.

Screens call these methods and get plain view data (:mod:`fyp_tui.tui.views`)
back; no widget ever touches the World. The World is not thread-safe, so every
engine call that mutates it (a simulation step, a feed-session call, the
checkpoint's copy-out) runs under :attr:`WorldService.lock`. Simulation ticks
are cut into short chunks so the UI thread never waits long for the lock.
Counters for display are read without the lock: a few integers from arrays only
ever appended to or grown (a read sees the old or the new value, never garbage).

The app adds no recommender logic: ranking, learning, tiers and explanations all
come from the engine (``FeedSession``, ``pools``, ``simulate``, ``trends``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from fyp_tui.engine.events import Event, Milestone, Promoted, Reignited, Stalled, TrendingHashtag, TrendingSound, Uploaded
from fyp_tui.engine.world import Signal, Status, World
from fyp_tui.errors import FypError, StoreError, WorldLockedError
from fyp_tui.tui import fmt
from fyp_tui.tui.views import (
    CardData,
    Contribution,
    Counters,
    PostedVideo,
    ProfileData,
    SoundChoice,
    SpreadData,
    StripItem,
    TierStep,
    WhyData,
    WorldData,
)

STATUS_NAMES = {int(Status.ACTIVE): "active", int(Status.STALLED): "stalled", int(Status.TOP): "top"}
#: Samples kept per video for the "views over time" chart.
SERIES_MAX = 120
#: Non-personal events shown per tick in the strip (the rest is noise at this pace).
STRIP_PER_TICK = 3
RATE_SIGNALS = (
    ("completion", Signal.FULL_WATCH),
    ("like", Signal.LIKE),
    ("share", Signal.SHARE),
    ("favourite", Signal.FAVOURITE),
    ("comment", Signal.COMMENT),
    ("follow", Signal.FOLLOW),
    ("skip", Signal.SKIP),
)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(title, one-line message) for the person; never a traceback."""
    if isinstance(exc, WorldLockedError):
        return "The world is open elsewhere", str(exc)
    if isinstance(exc, StoreError):
        return "Database problem", str(exc)
    if isinstance(exc, FypError):
        return "Cannot do that", str(exc)
    try:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return "Database problem", first[:300]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, OSError):
        return "File problem", str(exc)
    return "Unexpected error", f"{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True)
class OpenInfo:
    clock: float
    needs_onboarding: bool


@dataclass(frozen=True)
class AdvanceOutcome:
    clock: float
    items: list[StripItem]


def _short(text: str, n: int = 28) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class RetryingJournal:
    """Wraps the store's journal so a failed commit is kept and retried, in order.

    When a reaction cannot be committed (the disk is full, the database is busy
    for too long) the error still reaches the person, but the record stays in a
    backlog that is written first by the next reaction or checkpoint: nothing the
    person did is lost while the app runs.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.backlog: list[tuple] = []
        self.pending_state: tuple[int, dict] | None = None

    def flush(self) -> None:
        while self.backlog:
            self.inner.record(*self.backlog[0])
            self.backlog.pop(0)
        if self.pending_state is not None:
            self.inner.save_state(*self.pending_state)
            self.pending_state = None

    def record(self, *args: Any) -> None:
        self.backlog.append(args)
        self.flush()

    def save_state(self, profile_id: int, person_state: dict) -> None:
        self.pending_state = (profile_id, person_state)
        self.flush()


class LazyJournal:
    """The store's ``SqlJournal``, made on first use.

    Importing it loads SQLAlchemy and the SQLModel tables (half a second of CPU),
    which the first card does not need: :meth:`WorldService.warm_up` makes it just
    after that card is on screen, and a reaction before then makes it itself.
    :meth:`WorldService.capture` makes it before the first checkpoint capture (which
    moves ``world.saved_videos`` ahead of the rows), so the journal always starts
    from the videos the file had when the world was opened.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._inner: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = self._make()
        return self._inner

    def record(self, *args: Any) -> None:
        self.get().record(*args)

    def save_state(self, profile_id: int, person_state: dict) -> None:
        self.get().save_state(profile_id, person_state)

    def close(self) -> None:
        """Release the journal's connections, if it was ever made."""
        if self._inner is not None:
            self._inner.close()


class WorldService:
    """Owns the World, its lock, EngineParams, the FeedSession and the WorldStore."""

    def __init__(self, db: str | None, profile: str = "me", *, seed: int | None = None, frozen: bool = False) -> None:
        self.db = db
        self.profile_name = profile
        self.seed = seed
        self.frozen = frozen
        self.lock = threading.Lock()
        self.url: str | None = None
        self.store: Any = None
        self.world: World | None = None
        self.params: Any = None
        self.session: Any = None
        self.journal: RetryingJournal | None = None
        self.profile_id: int = 0
        self.sim_rng: np.random.Generator | None = None
        self.shared: set[int] = set()
        self.tracked: dict[int, deque[tuple[float, int]]] = {}
        self.tier_log: dict[int, list[Event]] = {}
        self._db_tier_rows: dict[int, list[TierStep]] = {}
        self.diversity_series: deque[float] = deque(maxlen=200)
        self._pending: list[Event] = []  # step events not yet checkpointed
        self._trending_at: float | None = None
        self._trending_sounds: frozenset[int] = frozenset()
        self._current_tracked: int | None = None
        self.start_clock = 0.0
        self.closed = False
        self._queue: ThreadPoolExecutor | None = None
        # checkpoint writes, one at a time in the order they were captured: a later
        # snapshot never lands before an earlier one, and the final write waits for all
        self._writer: ThreadPoolExecutor | None = None
        self._opening: Future | None = None
        # set once WorldStore.open has succeeded or failed: the CLI waits on it so a
        # locked, corrupt or newer world ends as one line before Textual starts
        self._store_checked = threading.Event()
        self._store_error: BaseException | None = None
        self._ahead: CardData | None = None
        self._ahead_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------
    def preload(self) -> None:
        """Start opening the world in a background thread now (before Textual is even
        imported), so reading the database overlaps the app's own start-up.
        :meth:`wait_open` returns its result."""
        if self._opening is None:
            self._opening = Future()
            threading.Thread(target=self._open_into, args=(self._opening,), name="fyp-open", daemon=True).start()

    def _open_into(self, future: Future) -> None:
        try:
            future.set_result(self.open())
        except BaseException as exc:  # handed to the app, shown as a message
            future.set_exception(exc)

    def check_store(self, timeout: float = 30.0) -> None:
        """Wait until the preloading thread has opened (or failed to open) the store,
        and raise what it failed with: a locked, missing or damaged world."""
        if self._opening is None:
            self.preload()
        self._store_checked.wait(timeout)
        if self._store_error is not None:
            raise self._store_error

    def wait_open(self) -> OpenInfo:
        """The world opened by :meth:`preload` (or open it now)."""
        if self._opening is None:
            return self.open()
        return self._opening.result()

    def open(self) -> OpenInfo:
        """Load the world and the person's feed (runs in a worker thread).

        On the way to the first card: no SQLAlchemy, no SQLModel (a SQLite world is
        read through the stdlib driver); the journal comes later (:class:`LazyJournal`).
        """
        from fyp_tui.engine.feed import FeedSession
        from fyp_tui.engine.params import EngineParams
        from fyp_tui.store.db import resolve_url
        from fyp_tui.store.io import WorldStore

        try:
            self.url = resolve_url(self.db)
            store = WorldStore.open(self.url)
        except BaseException as exc:
            self._store_error = exc
            raise
        finally:
            self._store_checked.set()
        try:
            world = store.load()
            params = EngineParams.from_world(world)
            found = store.load_person(self.profile_name, world)
            if found is None:  # a new profile: created through the ORM (the onboarding screen comes next)
                from fyp_tui.store.profiles import get_or_create_profile, load_person

                with store.session() as s:
                    profile = get_or_create_profile(session=s, name=self.profile_name)
                    found = int(profile.id), load_person(session=s, profile=profile, world=world)
            profile_id, person = found
            seed = self.seed if self.seed is not None else int(time.time_ns() % (2**32))
            feed_rng, sim_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, world.seed, profile_id]).spawn(2))

            def make_journal() -> Any:
                from fyp_tui.store.profiles import SqlJournal

                return SqlJournal(store.engine, world)

            journal = RetryingJournal(LazyJournal(make_journal))
            session = FeedSession(world, params, person, profile_id, feed_rng, journal)
        except BaseException:
            store.close()
            raise
        with self.lock:
            self.store, self.world, self.params, self.session = store, world, params, session
            self.journal = journal
            self.profile_id = profile_id
            self.sim_rng = sim_rng
            self.start_clock = world.clock
            for v in np.flatnonzero(world.video_profile[: world.n_videos] == profile_id):
                self._track(int(v))
        return OpenInfo(clock=float(world.clock), needs_onboarding=not person.onboarded)

    def warm_up(self) -> None:
        """Load what the first reaction and the first checkpoint need (SQLAlchemy, the
        engine, the journal) now, in a worker thread, once the first card is on screen."""
        if self.closed or self.journal is None:
            return
        import fyp_tui.store.profiles  # noqa: F401  (the slow imports, outside the lock)

        with self.lock:
            if not self.closed:
                self.journal.inner.get()

    def close(self) -> None:
        """Release the world lock (the app checkpoints before)."""
        if self.closed:
            return
        self.closed = True
        if self._opening is not None and not self._opening.done():
            try:
                self._opening.result()  # let the open finish, then release its lock
            except BaseException:
                pass
        if self._queue is not None:
            self._queue.shutdown(wait=True, cancel_futures=False)
        if self._writer is not None:
            self._writer.shutdown(wait=True, cancel_futures=False)
        if self.journal is not None:
            try:
                self.journal.inner.close()  # its own connection and WAL-checkpoint thread
            except Exception:
                pass  # releasing the world lock below matters more
        if self.store is not None:
            self.store.close()

    def capture(self) -> Any:
        """Copy out what the checkpoint writes (fast, under the lock, on the UI thread)."""
        with self.lock:
            if self.journal is not None and (self.journal.backlog or self.journal.pending_state):
                try:
                    self.journal.flush()
                except FypError:
                    pass  # still failing: kept for the next try; the world checkpoint goes on
            if self.journal is not None:
                self.journal.inner.get()  # see LazyJournal: made before the first capture
            events, self._pending = self._pending, []
            return self.store.capture(self.world, events)

    def final_save(self) -> None:
        """Checkpoint now and wait for it, after everything queued and every checkpoint
        write still in flight (the app is ending)."""
        if self.store is None or self.closed:
            return
        if self._queue is not None:
            self._queue.submit(lambda: None).result()
        self.submit_write(self.capture()).result()

    def submit_write(self, snap: Any) -> Future:
        """:meth:`write` on the checkpoint writer thread, after every earlier write."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fyp-checkpoint")
        return self._writer.submit(self.write, snap)

    def write(self, snap: Any) -> None:
        """Write a captured checkpoint in one transaction (in a worker thread).

        On failure the snapshot's videos and events go back in the queue, so the
        next checkpoint writes them (nothing is lost while the app runs)."""
        try:
            self.store.write(snap)
        except BaseException:
            with self.lock:
                snap.requeue(self.world)
                self._pending[:0] = list(snap.events)
            raise

    # -- the clock ---------------------------------------------------------------------
    def advance(self, hours: float) -> AdvanceOutcome:
        """Run the simulation ``hours`` ahead (a worker thread), in the engine's step sizes."""
        from fyp_tui.engine.simulate import step, step_hours

        w = self.world
        events: list[Event] = []
        with self.lock:
            n, dt = step_hours(w, self.params, float(hours))
        for _ in range(n):
            with self.lock:
                events.extend(step(w, self.params, self.sim_rng, dt).events)
        self._pending.extend(e for e in events if isinstance(e, (Promoted, Stalled, Reignited)))
        self._log_tiers(events)
        self._sample_series()
        return AdvanceOutcome(clock=float(w.clock), items=self.strip_items(events))

    # -- feed (run on the feed queue: one thread, in order) ---------------------------
    #
    # Like the platform, the feed preloads the next video while the person watches
    # this one: the queue ranks it (``_prefetch``) right after a card is shown, so a
    # swipe shows it at once (``take_ahead`` on the UI thread) and the impression of
    # the card left is recorded just after. The person's signals on this card shape
    # the card after the preloaded one. While a preloaded card waits, the session's
    # position is on it (FeedSession.next() was called), hence ``back``'s extra step.

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Future:
        """Run ``fn`` on the feed queue: one thread, so the person's actions apply in order."""
        if self._queue is None:
            self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fyp-feed")
        return self._queue.submit(fn, *args, **kw)

    def take_ahead(self) -> CardData | None:
        """The preloaded next card, if ready (UI thread; cheap)."""
        with self._ahead_lock:
            card, self._ahead = self._ahead, None
        if card is not None:
            self._current_tracked = card.video  # it is about to be on screen
        return card

    def begin(self) -> CardData | None:
        """The card to open the feed on (queue)."""
        with self.lock:
            v = self.session.current()
            if v is None:
                v = self.session.next()
            card = self._card(int(v))
        self._prefetch()
        return card

    def _prefetch(self) -> None:
        """Rank the next card now, so the next swipe shows it at once (queue)."""
        try:
            with self.lock:
                at_latest = self.session.at_latest
                v = int(self.session.next())
                card = self._card(v, reshown=not at_latest, keep_current=True)
        except FypError:
            return  # nothing left to recommend: the swipe will say so
        with self._ahead_lock:
            self._ahead = card

    def _leave(self, leaving: tuple[int, float, int] | None) -> list[Event]:
        if leaving is None:
            return []
        video, seconds, loops = leaving
        with self.lock:
            events = self.session.watched(video, seconds, loops)
            self.diversity_series.append(self._diversity())
        self._log_tiers(events)
        return events

    def after_swap(self, leaving: tuple[int, float, int] | None) -> list[StripItem]:
        """The UI showed the preloaded card: record the card left, preload the next (queue)."""
        try:
            events = self._leave(leaving)
        finally:
            self._prefetch()
        return self.strip_items(events)

    def forward(self, leaving: tuple[int, float, int] | None) -> tuple[CardData | None, list[StripItem]]:
        """Next card when none was preloaded yet (queue)."""
        events = self._leave(leaving)
        card = self.take_ahead()
        if card is None:
            self._prefetch()
            card = self.take_ahead()
        if card is not None:
            self._prefetch()
        return card, self.strip_items(events)

    def back(self, leaving: tuple[int, float, int] | None) -> tuple[CardData | None, list[StripItem]]:
        """Previous card from the history, no new recommendation (queue)."""
        events = self._leave(leaving)
        with self.lock:
            with self._ahead_lock:
                dropped, self._ahead = self._ahead, None
            if dropped is not None:
                self.session.previous()  # off the preloaded card, onto the one on screen
            v = self.session.previous()
            card = None if v is None else self._card(int(v), reshown=True)
        self._prefetch()  # preload forward again (through the history)
        return card, self.strip_items(events)

    def watched(self, video: int, seconds: float, loops: int) -> list[StripItem]:
        """Record one impression (queue; used when quitting)."""
        return self.strip_items(self._leave((video, seconds, loops)))

    def react(self, video: int, kind: str) -> tuple[CardData, list[StripItem]]:
        """A reaction, committed before it returns; the card's new state (queue)."""
        with self.lock:
            events = self.session.react(video, kind)
            if kind == "share":
                self.shared.add(int(video))
            card = self._card(video, first_viewer=None, keep_current=True)
        self._log_tiers(events)
        return card, self.strip_items(events)

    def panel(self, video: int) -> tuple[WhyData, SpreadData]:
        """Both side-panel tabs for ``video`` (queue)."""
        return self.why(video), self.spread(video)

    def checkpoint_capture(self) -> Any:
        """Copy out the checkpoint after everything queued before it (queue)."""
        return self.capture()

    def counters(self, video: int) -> Counters:
        """Live counters, read without the lock (display only)."""
        w, p = self.world, self.params
        c = w.video_counts[video]
        tier = int(w.video_tier[video])
        status = STATUS_NAMES.get(int(w.video_status[video]), "active")
        budget = 0 if tier >= p.top_tier else int(p.ladder[tier])
        return Counters(
            views=int(c[Signal.VIEW]),
            likes=int(c[Signal.LIKE]),
            comments=int(c[Signal.COMMENT]),
            shares=int(c[Signal.SHARE]),
            favourites=int(c[Signal.FAVOURITE]),
            tier=tier,
            status=status,
            tier_views=int(w.video_tier_counts[video, Signal.VIEW]),
            budget=budget,
        )

    def _card(self, v: int, *, first_viewer: bool | None = None, reshown: bool = False, keep_current: bool = False) -> CardData:
        w, person = self.world, self.session.person
        c = int(w.video_creator[v])
        s = int(w.video_sound[v])
        extra = w.extra or {}
        names = extra.get("creator_display_names") or []
        artists = extra.get("sound_artists") or []
        topic = int(w.video_topics[v, 0])
        if first_viewer is None:
            first_viewer = bool(self.session.is_first_viewer(v))
        if not keep_current:
            self._current_tracked = v
        self._track(v)
        mine = int(w.video_profile[v]) == self.profile_id
        return CardData(
            video=v,
            creator=c,
            handle=self.profile_name if mine else w.creator_handles[c],
            display_name="" if mine else (names[c] if c < len(names) else ""),
            caption=w.video_captions[v],
            hashtags=tuple(w.hashtag_names[t] for t in w.video_tags[v] if t >= 0),
            sound=s,
            sound_title=w.sound_titles[s],
            sound_artist=artists[s] if s < len(artists) else "",
            sound_trending=s in self._trending(),
            topic=topic,
            topic_name=w.topic_names[topic],
            duration=float(w.video_duration[v]),
            following=c in person.follows,
            liked=v in person.liked,
            favourited=v in person.favourites,
            shared=v in self.shared,
            first_viewer=first_viewer,
            mine=mine,
            position=max(len(person.history) - 1, 0),
            reshown=reshown,
        )

    def _trending(self) -> frozenset[int]:
        from fyp_tui.engine.trends import trending_sounds

        w = self.world
        if self._trending_at != w.clock:
            self._trending_at = w.clock
            self._trending_sounds = frozenset(int(x) for x in trending_sounds(w, self.params.trending_k))
        return self._trending_sounds

    # -- side panel --------------------------------------------------------------------
    def why(self, video: int) -> WhyData:
        with self.lock:
            e = self.session.explain(video)
        budget = e.budget or 0
        bar = e.bar if e.bar is not None and math.isfinite(e.bar) else 0.0
        lcb = e.tier_lcb if math.isfinite(e.tier_lcb) else 0.0
        # the panel shows the status on its own line: keep notes that add something
        notes = [n for n in e.notes if not (e.status == "stalled" and n.startswith("stalled"))]
        if e.explored:
            notes.insert(0, "picked by the exploration slot")
        return WhyData(
            video=video,
            score=float(e.score),
            contributions=tuple(Contribution(c.name, float(c.value)) for c in e.contributions),
            source=", ".join(e.sources) if e.sources else "an earlier pick",
            tier=int(e.tier),
            status=e.status,
            tier_views=int(e.impressions_in_tier),
            budget=int(budget),
            tier_score=float(lcb),
            bar=float(bar),
            notes=tuple(notes),
        )

    def spread(self, video: int) -> SpreadData:
        from fyp_tui.engine.pools import promotion_bar, tier_score

        w, p = self.world, self.params
        steps = list(self._past_steps(video))
        tier = int(w.video_tier[video])
        status = STATUS_NAMES.get(int(w.video_status[video]), "active")
        with self.lock:
            _score, lcb, _ucb = tier_score(w, p, [video])
            tc = w.video_tier_counts[video].copy()
            views = int(w.video_counts[video, Signal.VIEW])
        bar = float(promotion_bar(p, [tier])[0])
        if status != "stalled":
            steps.append(
                TierStep(
                    tier=tier,
                    outcome="site-wide" if status == "top" else "in progress",
                    impressions=int(tc[Signal.VIEW]),
                    budget=0 if tier >= p.top_tier else int(p.ladder[tier]),
                    score=float(lcb[0]) if math.isfinite(lcb[0]) else 0.0,
                    bar=bar if math.isfinite(bar) else 0.0,
                    time=float(w.clock),
                )
            )
        n = max(int(tc[Signal.VIEW]), 1)
        rates = tuple((name, float(tc[sig]) / n) for name, sig in RATE_SIGNALS) if tc[Signal.VIEW] else ()
        series = self.tracked.get(video)
        values = tuple(float(v) for _t, v in series) if series else ()
        span = (series[-1][0] - series[0][0]) if series and len(series) > 1 else 0.0
        return SpreadData(video=video, steps=tuple(steps), rates=rates, views_series=values, series_span=span, views=views)

    def _past_steps(self, video: int) -> list[TierStep]:
        steps = list(self._db_steps(video))
        for e in self.tier_log.get(video, []):
            steps.append(self._step_of(e))
        return steps

    def _step_of(self, e: Event) -> TierStep:
        if isinstance(e, Promoted):
            return TierStep(e.from_tier, "promoted", e.impressions, self._budget(e.from_tier), e.score, e.bar, e.time, e.tipped_by)
        if isinstance(e, Stalled):
            return TierStep(e.tier, f"stalled: {e.reason}", e.impressions, self._budget(e.tier), e.score, e.bar, e.time, e.tipped_by)
        assert isinstance(e, Reignited)
        return TierStep(e.tier, f"re-ignited: {e.reason}", 0, self._budget(e.tier), 0.0, 0.0, e.time)

    def _budget(self, tier: int) -> int:
        p = self.params
        return 0 if tier >= p.top_tier else int(p.ladder[tier])

    def _db_steps(self, video: int) -> list[TierStep]:
        """Tier decisions saved before this session (read once per video)."""
        got = self._db_tier_rows.get(video)
        if got is not None:
            return got
        steps: list[TierStep] = []
        try:
            for from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by in self.store.tier_history(video, self.start_clock):
                outcome = "promoted" if to_tier is not None and reason == "promoted" else (
                    f"stalled: {reason}" if to_tier is None else reason
                )
                steps.append(TierStep(from_tier, outcome, impressions, self._budget(from_tier), score, bar, sim_time, tipped_by))
        except Exception:
            steps = []  # the panel is informative; a read failure must not break the feed
        self._db_tier_rows[video] = steps
        return steps

    def _log_tiers(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, (Promoted, Stalled, Reignited)):
                log = self.tier_log.setdefault(e.video, [])
                log.append(e)
                if len(log) > 20:
                    del log[0]

    def _track(self, video: int) -> None:
        if video not in self.tracked:
            self.tracked[video] = deque(maxlen=SERIES_MAX)
            self.tracked[video].append((float(self.world.clock), int(self.world.video_counts[video, Signal.VIEW])))
        # keep the set small: own videos + the few most recent cards
        if len(self.tracked) > 64:
            mine = self.world.video_profile
            for v in list(self.tracked)[:16]:
                if int(mine[v]) != self.profile_id and v != video:
                    del self.tracked[v]

    def _sample_series(self) -> None:
        w = self.world
        now = float(w.clock)
        for v, series in self.tracked.items():
            if series and series[-1][0] == now:
                continue
            series.append((now, int(w.video_counts[v, Signal.VIEW])))

    # -- the event strip ---------------------------------------------------------------
    def strip_items(self, events: list[Event]) -> list[StripItem]:
        """Events worth a line: all of the person's, and a few of the world's."""
        w = self.world
        mine: list[StripItem] = []
        other: list[tuple[float, StripItem]] = []
        current = self._current_tracked
        for e in events:
            video = getattr(e, "video", None)
            own_video = video is not None and int(w.video_profile[video]) == self.profile_id
            tipped = getattr(e, "tipped_by", None) is not None and getattr(e, "profile", None) == self.profile_id
            who = "your video" if own_video else ("this video" if video == current else (f"@{w.creator_handles[int(w.video_creator[video])]}'s video" if video is not None else ""))
            if isinstance(e, Promoted):
                reach = "site-wide" if e.to_tier >= self.params.top_tier else f"{e.budget:,} viewers"
                if tipped:
                    text = f"your {e.tipped_by} pushed {who} into tier {e.to_tier}: {reach}"
                else:
                    text = f"{who} moved up to tier {e.to_tier}: {reach}"
                item = StripItem(e.time, text, tipped or own_video, "promoted")
                rank = 10.0 + e.to_tier
            elif isinstance(e, Stalled):
                if tipped:
                    text = f"your {e.tipped_by} settled it: {who} stalled in tier {e.tier} ({e.reason})"
                else:
                    text = f"{who} stalled in tier {e.tier} ({e.reason})"
                item = StripItem(e.time, text, tipped or own_video, "stalled")
                rank = 1.0 + e.tier
            elif isinstance(e, Reignited):
                item = StripItem(e.time, f"{who} re-ignited in tier {e.tier}: {e.reason}", own_video, "trending")
                rank = 5.0
            elif isinstance(e, TrendingSound):
                item = StripItem(e.time, f"♫ {_short(w.sound_titles[e.sound])} is trending", False, "trending")
                rank = 8.0
            elif isinstance(e, TrendingHashtag):
                item = StripItem(e.time, f"#{w.hashtag_names[e.hashtag]} is trending", False, "trending")
                rank = 8.0
            elif isinstance(e, Milestone):
                item = StripItem(e.time, f"{who} passed {fmt.count(e.views)} views", own_video, "milestone")
                rank = 6.0 + math.log10(max(e.views, 1))
            elif isinstance(e, Uploaded):
                if e.profile != self.profile_id:
                    continue
                item = StripItem(e.time, "your video is live in tier 0", True, "info")
                rank = 0.0
            else:
                continue
            if item.mine:
                mine.append(item)
            else:
                if video is not None and video == current:
                    rank += 100.0
                other.append((rank, item))
        other.sort(key=lambda ri: -ri[0])
        chosen = sorted((it for _r, it in other[:STRIP_PER_TICK]), key=lambda it: it.time)
        return chosen + mine

    # -- onboarding, profile --------------------------------------------------------------
    def topic_names(self) -> list[str]:
        return list(self.world.topic_names)

    def onboard(self, topics: list[int]) -> None:
        with self.lock:
            self.session.onboard(topics)

    def _diversity(self) -> float:
        """Topic diversity of the last 50 videos, 0..1 (entropy over its maximum)."""
        bits = float(self.session.topic_diversity(50))
        n = min(len(self.session.person.history), 50, self.world.n_topics)
        top = math.log2(n) if n > 1 else 1.0
        return max(0.0, min(bits / top, 1.0))

    def profile(self) -> ProfileData:
        w = self.world
        with self.lock:
            p = self.session.person
            interests = p.interests.copy()
            follows = sorted(p.follows)
            liked = sorted(p.liked, key=lambda v: -v)[:20]
            favs = sorted(p.favourites, key=lambda v: -v)[:20]
            knob = float(p.knob)
            diversity = self._diversity()
            seen = len(p.seen)
        order = np.argsort(-interests, kind="stable")
        topics = tuple((w.topic_names[i], float(interests[i])) for i in order)

        def vid(v: int) -> str:
            return f"@{w.creator_handles[int(w.video_creator[v])]}: {_short(w.video_captions[v], 40)}"

        return ProfileData(
            name=self.profile_name,
            topics=topics,
            diversity=diversity,
            diversity_series=tuple(self.diversity_series),
            knob=knob,
            follows=tuple(f"@{w.creator_handles[c]}" for c in follows),
            liked=tuple(vid(v) for v in liked),
            favourited=tuple(vid(v) for v in favs),
            seen=seen,
        )

    def refresh_interests(self) -> None:
        with self.lock:
            self.session.refresh()

    def set_knob(self, knob: float) -> float:
        knob = float(min(max(knob, 0.0), 1.0))
        with self.lock:
            self.session.set_knob(round(knob, 2))
        return knob

    # -- studio ------------------------------------------------------------------------
    def studio_sounds(self) -> list[SoundChoice]:
        """Every sound, the trending ones first (marked)."""
        w = self.world
        artists = (w.extra or {}).get("sound_artists") or []
        trending = list(self._trending())
        rest = [s for s in range(w.n_sounds) if s not in self._trending()]
        return [
            SoundChoice(s, w.sound_titles[s], artists[s] if s < len(artists) else "", s in self._trending())
            for s in [*sorted(trending, key=lambda s: -w.sound_trend[s]), *rest]
        ]

    def hashtag_ids(self, text: str) -> tuple[list[int], list[str]]:
        """Parse "#a b, c": (known ids, unknown names)."""
        names = [t.strip().lstrip("#").lower() for t in text.replace(",", " ").split() if t.strip().lstrip("#")]
        index = {n.lower(): i for i, n in enumerate(self.world.hashtag_names)}
        known, unknown = [], []
        for n in names:
            (known.append(index[n]) if n in index else unknown.append(n))
        return list(dict.fromkeys(known)), unknown

    def post_video(self, *, caption: str, hashtags: list[int], sound: int, duration: float, topic: int) -> tuple[int, list[StripItem]]:
        from fyp_tui.engine.simulate import post_video

        with self.lock:
            w = self.world
            video = post_video(
                w,
                self.params,
                profile=self.profile_id,
                creator=self.person_creator(),
                sound=int(sound),
                duration=float(duration),
                topic=int(topic),
                hashtags=list(hashtags),
                caption=caption,
                now=float(w.clock),
            )
            self._track(int(video))
        return int(video), [StripItem(float(self.world.clock), "your video is live in tier 0", True, "info")]

    def person_creator(self) -> int:
        """The creator account the person posts as (caller holds the lock).

        Creators are fixed after seeding, so a person posts through a small
        account of their own country: the one with the fewest followers (an
        observable rule; ties by id). The choice is kept in
        ``world.extra["profile_creators"]`` so it survives restarts."""
        w = self.world
        chosen = w.extra.setdefault("profile_creators", {})
        key = str(self.profile_id)
        if key in chosen:
            return int(chosen[key])
        country = self.session.person.country
        cands = np.flatnonzero(w.creator_country == country)
        if len(cands) == 0:
            cands = np.arange(w.n_creators)
        c = int(cands[np.lexsort((cands, w.creator_followers[cands]))[0]])
        chosen[key] = c
        return c

    def my_videos(self) -> list[PostedVideo]:
        from fyp_tui.engine.pools import promotion_bar, tier_score

        w, p = self.world, self.params
        ids = np.flatnonzero(w.video_profile[: w.n_videos] == self.profile_id)
        out = []
        for v in ids[::-1]:
            v = int(v)
            sp = self.spread(v)
            tier = int(w.video_tier[v])
            _s, lcb, _u = tier_score(w, p, [v])
            bar = float(promotion_bar(p, [tier])[0])
            out.append(
                PostedVideo(
                    video=v,
                    caption=w.video_captions[v],
                    tier=tier,
                    status=STATUS_NAMES.get(int(w.video_status[v]), "active"),
                    views=int(w.video_counts[v, Signal.VIEW]),
                    tier_views=int(w.video_tier_counts[v, Signal.VIEW]),
                    budget=self._budget(tier),
                    score=float(lcb[0]) if math.isfinite(lcb[0]) else 0.0,
                    bar=bar if math.isfinite(bar) else 0.0,
                    rates=sp.rates,
                    steps=sp.steps,
                    views_series=sp.views_series,
                )
            )
        return out

    # -- world -------------------------------------------------------------------------
    def world_data(self, top_k: int = 8) -> WorldData:
        from fyp_tui.engine.trends import trending_hashtags, trending_sounds

        w, p = self.world, self.params
        n = w.n_videos
        with self.lock:
            tier = w.video_tier[:n].astype(np.int64)
            status = w.video_status[:n].astype(np.int64)
            views = w.video_counts[:n, Signal.VIEW].copy()
            ts = [int(x) for x in trending_sounds(w, 5)]
            th = [int(x) for x in trending_hashtags(w, 5)]
        funnel = []
        for t in range(p.top_tier):
            funnel.append((t, int(((tier == t) & (status == Status.ACTIVE)).sum()), int(((tier == t) & (status == Status.STALLED)).sum())))
        top = int((status == Status.TOP).sum())
        live = np.flatnonzero(status != Status.STALLED)
        order = live[np.lexsort((-views[live], -tier[live]))][:top_k]
        tops = tuple(
            (int(v), w.creator_handles[int(w.video_creator[v])], _short(w.video_captions[v], 40), int(tier[v]), int(views[v])) for v in order
        )
        return WorldData(
            clock=float(w.clock),
            funnel=tuple(funnel),
            top=top,
            trending_sounds=tuple(w.sound_titles[s] for s in ts),
            trending_hashtags=tuple(f"#{w.hashtag_names[h]}" for h in th),
            top_videos=tops,
            n_videos=n,
            n_viewers=w.n_viewers,
        )
