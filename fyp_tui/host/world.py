"""One world, many people: the host's shared world and each person's session on it.

:class:`SharedWorld` opens and locks the world once and owns what is the
world's: the store, the World, its lock, the EngineParams, the simulation's
random stream, the journal (one, in order, for everyone) and the checkpoints.
:class:`PersonSession` is a :class:`~fyp_tui.live.session.LiveSession` attached
to it: the person's FeedSession, feed queue, history, profile and panel, with the
shared lock, store and journal; it opens no store of its own.

The clock (:meth:`SharedWorld.advance`) steps the world with every person's
ledger, so a decision any of them tipped is credited to that person, and the
decisions the class tipped are kept for the Class screen (:meth:`class_data`).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from fyp_tui.engine.events import TIER_EVENTS, Event, Promoted, Stalled
from fyp_tui.engine.world import Signal, Status
from fyp_tui.errors import FypError, StoreError
from fyp_tui.host.trace import TimedLock, tracer
from fyp_tui.live.checkpoint import Checkpoints
from fyp_tui.live.clock import DEFAULT_PACE
from fyp_tui.live.history import VideoHistory
from fyp_tui.live.journal import LazyJournal, RetryingJournal
from fyp_tui.live.overview import Overview
from fyp_tui.live.session import LiveSession
from fyp_tui.live.strip import strip_items
from fyp_tui.live.views import OpenInfo, StripItem

#: decisions tipped by the class, kept for the Class screen
PUSHED_KEPT = 50
#: the class's posts the Class screen lists (the newest)
CLASS_POSTS_KEPT = 30


class PersonSession(LiveSession):
    """A person's live session on the host's :class:`SharedWorld` (see the module doc)."""

    history: ClassHistory

    def __init__(self, shared: SharedWorld, profile: str, *, seed: int | None = None) -> None:
        super().__init__(shared.db, profile, seed=seed)
        self.shared = shared
        self.lock = shared.lock  # one world, one lock
        self.history = ClassHistory(self, shared)
        #: what this host run served the person: cards shown, reactions acknowledged
        self.cards = 0
        self.reactions = 0
        self.connected = False

    def open(self) -> OpenInfo:
        """Attach to the shared world: load or create the profile, start its FeedSession."""
        from fyp_tui.engine.feed import FeedSession

        shared = self.shared
        store, world = shared.store, shared.world
        try:
            found = store.load_person(self.profile_name, world)
            if found is None:
                from fyp_tui.store.profiles import get_or_create_profile, load_person

                with store.session() as s:
                    profile = get_or_create_profile(session=s, name=self.profile_name)
                    if profile.id is None:
                        raise StoreError(f"profile {self.profile_name!r} was not saved")
                    found = int(profile.id), load_person(session=s, profile=profile, world=world)
        finally:
            self._store_checked.set()
        profile_id, person = found
        seed = self.seed if self.seed is not None else int(time.time_ns() % (2**32))
        feed_rng, sim_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence([seed, world.seed, profile_id]).spawn(2)
        )
        with self.lock:
            session = FeedSession(world, shared.params, person, profile_id, feed_rng, shared.journal)
            self.store, self._world, self.params, self.feed_session = store, world, shared.params, session
            self.url, self.journal, self.profile_id, self._sim_rng = shared.url, shared.journal, profile_id, sim_rng
            self.start_clock = shared.start_clock
            for v in np.flatnonzero(world.video_profile[: world.n_videos] == profile_id):
                self.history.track(int(v))
        return OpenInfo(clock=float(world.clock), needs_onboarding=not person.onboarded)

    def close(self) -> None:
        """Stop the feed queue; the store and the journal are the shared world's."""
        if not self.closed:
            self.closed = True
            self.feed.shutdown()

    def strip_items(self, events: list[Event]) -> list[StripItem]:
        """The strip of the person's own feed calls (a card left, a reaction): the class's
        list of pushed videos gets the decisions they tipped, and the rest of the class
        hears of them at the next tick."""
        self.shared.note_tips(events, self.profile_id)
        self.shared.tell_class(events, self.profile_id)
        return self._strip(events)

    def _strip(self, events: list[Event]) -> list[StripItem]:
        """The lines for this person, naming whoever in the class tipped a decision."""
        return strip_items(
            events,
            world=self.world,
            params=self.params,
            profile_id=self.profile_id,
            current=self.feed.current,
            people=self.shared.names,
        )

    def tick(self, events: list[Event], told: Sequence[tuple[int, Event]] = ()) -> list[StripItem]:
        """A clock tick as this person sees it: decisions kept, views sampled; ``told``,
        decisions others of the class tipped since the last tick, (whose, event)."""
        self.history.credit(events)  # (the class's log has them: SharedWorld.advance)
        self.history.sample()
        self.shared.note_tips(events, self.profile_id)
        others = [e for who, e in told if who != self.profile_id]
        return self._strip([*events, *others])

    def diversity(self) -> float:
        with self.lock:
            return float(self.profile.diversity()) if self.feed_session is not None else 0.0


class ClassHistory(VideoHistory):
    """A person's :class:`~fyp_tui.live.history.VideoHistory` on the host.

    The world's tier decisions are the class's: logged once for everyone
    (:attr:`SharedWorld.tiers`), not once a person. Thirty copies of the same log,
    a list for each of thousands of videos, tripled the host's heap, and every full
    pass of Python's garbage collector (which holds the interpreter, so the event
    loop and every reply wait) walked all of it. The person keeps what is theirs:
    the videos they track, the decisions credited to them, saved rows as they see them.
    """

    def __init__(self, live: PersonSession, shared: SharedWorld) -> None:
        super().__init__(live)
        self.shared = shared
        self.tier_log = shared.tiers.tier_log
        self._dropped = shared.tiers._dropped  # (the class's record, grown in place)
        #: videos whose saved rows were read after the class's log dropped them
        self._read_dropped: set[int] = set()

    def log_tiers(self, events: list[Event]) -> None:
        """Decisions of the person's own feed calls: into the class's log, and credited."""
        self.shared.log_tiers(events)
        self.credit(events)

    def credit(self, events: list[Event]) -> None:
        """Keep the decisions among ``events`` that the person's signals tipped."""
        pid = self.live.profile_id
        self.credited.extend(
            e for e in events if isinstance(e, (Promoted, Stalled)) and e.tipped_by is not None and e.profile == pid
        )

    def past_steps(self, video: int) -> list[Any]:
        with self.shared.tiers_lock:
            if self.was_dropped(video) and video not in self.tier_log and video not in self._read_dropped:
                # rows read before the log dropped the video stop at the host's start: read all
                self._db_tier_rows.pop(video, None)
                self._read_dropped.add(video)
        return super().past_steps(video)


class ClassJournal(RetryingJournal):
    """The host's journal: a feed call's records are written once the world lock is let go.

    ``FeedSession`` commits each impression and reaction from inside the call, under
    the world lock. On one world shared by a class, a commit that waits for the
    database (a checkpoint holds SQLite's write lock for half a second) held every
    person's feed and the clock with it. Here :meth:`record`, under the lock, only
    queues the record (its row is already made from the person's state); the
    person's feed queue writes the queue (:meth:`flush`) after the call, before the
    reply (``Host._committed``): a reaction is still committed before it is
    acknowledged, and the class's records are written in the order they were made.
    A record of a video the store may have no row for yet is written at once, under
    the lock, as before (the journal writes the video's rows from the world).
    """

    def __init__(self, inner: Any, world: Any) -> None:
        super().__init__(inner)
        self.world = world
        self._queued = threading.Lock()  # the backlog list
        self._writing = threading.Lock()  # one writer at a time, oldest record first

    def record(self, *args: Any) -> None:
        with self._queued:
            self.backlog.append(args)
        if int(args[2]) >= int(self.world.saved_videos):  # (args[2]: the video; caller holds the world lock)
            self.flush()

    def flush(self) -> None:
        """Write every queued record, then the person state waiting (any thread)."""
        with self._writing:
            while True:
                with self._queued:
                    if not self.backlog:
                        break
                    args = self.backlog[0]
                self.inner.record(*args)  # a failure keeps it first in the queue
                with self._queued:
                    self.backlog.pop(0)
            state = self.pending_state
            if state is not None:
                self.inner.save_state(*state)
                if self.pending_state is state:
                    self.pending_state = None


class _AllFeeds:
    """The shared world's stand-in for a session's feed queue: drains every person's."""

    def __init__(self, shared: SharedWorld) -> None:
        self.shared = shared

    def drain(self) -> None:
        for p in list(self.shared.people.values()):
            if not p.closed:
                p.feed.drain()


class SharedWorld:
    """The world the host serves: opened and locked once, shared by every person."""

    def __init__(self, db: str | None, *, seed: int | None = None) -> None:
        self.db = db
        self.seed = seed
        self.url: str | None = None
        self.trace = tracer()
        self.lock: Any = threading.Lock() if self.trace is None else TimedLock(self.trace)
        self.store: Any = None
        self.world: Any = None
        self.params: Any = None
        self.journal: RetryingJournal | None = None
        self.sim_rng: np.random.Generator | None = None
        self.start_clock = 0.0
        self.closed = False
        self.paused = False
        self.pace = DEFAULT_PACE
        self.people: dict[str, PersonSession] = {}
        #: profile id -> name, for the strip ("@alex's share pushed ...")
        self.names: dict[int, str] = {}
        self.pushed: deque[tuple[float, str, str]] = deque(maxlen=PUSHED_KEPT)
        #: the world's tier decisions since the host opened, kept once for the class (ClassHistory)
        self.profile_id = -1  # (the log's: no decision is credited to it)
        self.tiers = VideoHistory(cast(LiveSession, self))
        self.tiers_lock = threading.Lock()
        self._people_lock = threading.Lock()
        self._told: list[tuple[int, Event]] = []
        self._told_lock = threading.Lock()
        self.feed = _AllFeeds(self)
        # the live layer's parts, over the shared world (they read .world, .params, .lock,
        # .store, .journal and .feed, which this class has)
        self.checkpoints = Checkpoints(cast(LiveSession, self))
        self.overview = Overview(cast(LiveSession, self))

    # -- lifecycle ---------------------------------------------------------------------
    def open(self) -> None:
        from fyp_tui.engine.params import EngineParams
        from fyp_tui.store.db import resolve_url
        from fyp_tui.store.io import WorldStore

        self.url = resolve_url(self.db)
        store = WorldStore.open(self.url)
        try:
            world = store.load()
            params = EngineParams.from_world(world)
        except BaseException:
            store.close()
            raise

        def make_journal() -> Any:
            from fyp_tui.store.profiles import SqlJournal

            return SqlJournal(store.engine, world)

        seed = self.seed if self.seed is not None else int(time.time_ns() % (2**32))
        self.store, self.world, self.params = store, world, params
        self.sim_rng = np.random.default_rng(np.random.SeedSequence([seed, world.seed, 0x0C1A55]))
        self.journal = ClassJournal(LazyJournal(make_journal), world)
        self.journal.inner.get()  # made now: before the first checkpoint capture (see LazyJournal)
        self.start_clock = float(world.clock)
        # what was just loaded (the world, the modules) lives as long as the host: out of the
        # garbage collector's way, so its full passes (which hold the interpreter: the event
        # loop and every reply wait) walk only what the class made since
        gc.collect()
        gc.freeze()
        if self.trace is not None:
            self.trace.wrap(self.journal.inner, "record", "journal")
            self.trace.wrap(self.checkpoints, "capture", "capture")
            self.trace.wrap(self.store, "write", "ckpt_write")

    def __enter__(self) -> SharedWorld:
        """Opened (:meth:`open`); closed on leaving the block (:meth:`close`)."""
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def person(self, name: str) -> PersonSession:
        """The session of profile ``name``, opened on first use (kept for the host's life)."""
        with self._people_lock:
            p = self.people.get(name)
            if p is None:
                p = PersonSession(self, name, seed=None if self.seed is None else self.seed + len(self.people) + 1)
                p.open()
                if self.trace is not None:
                    self.trace.wrap(p.feed, "_prefetch", "prefetch")
                    self.trace.wrap(p.feed, "_leave", "leave")
                    self.trace.wrap(p.feed, "react", "react")
                self.people[name] = p
                self.names[p.profile_id] = name
            return p

    def close(self) -> None:
        """Every person's queue finished, the checkpoint writes done, the lock released."""
        if self.closed:
            return
        self.closed = True
        for p in list(self.people.values()):
            p.close()
        self.checkpoints.shutdown()
        if self.journal is not None:
            try:
                self.journal.flush()  # what the queues journaled last (ClassJournal)
            except Exception:
                pass  # (the final checkpoint, if any, already tried)
            try:
                self.journal.inner.close()
            except Exception:
                pass
        if self.store is not None:
            self.store.close()
        gc.unfreeze()

    # -- the clock ---------------------------------------------------------------------
    def advance(self, hours: float) -> list[Event]:
        """Run the world ``hours`` ahead in the engine's step sizes, with everyone's ledger."""
        from fyp_tui.engine.simulate import step, step_hours

        w, rng = self.world, self.sim_rng
        if rng is None:
            raise FypError("the world is not open")
        events: list[Event] = []
        with self.lock:
            n, dt = step_hours(w, self.params, float(hours))
        for _ in range(n):
            with self.lock:
                people = tuple(p.feed_session.ledger for p in self.people.values() if p.feed_session is not None)
                stepped = step(w, self.params, rng, dt, people=people).events
                self.checkpoints.pending.extend(e for e in stepped if isinstance(e, TIER_EVENTS))
            events.extend(stepped)
        self.log_tiers(events)
        return events

    def log_tiers(self, events: list[Event]) -> None:
        """Keep the tier decisions among ``events`` in the class's log (any thread)."""
        if any(isinstance(e, TIER_EVENTS) for e in events):
            with self.tiers_lock:
                self.tiers.log_tiers(events)

    def tell_class(self, events: list[Event], profile_id: int) -> None:
        """Decisions ``profile_id`` tipped on their own feed calls, for the others' next tick."""
        tipped = [e for e in events if isinstance(e, (Promoted, Stalled)) and e.tipped_by is not None]
        if tipped:
            with self._told_lock:
                self._told.extend((profile_id, e) for e in tipped)

    def take_told(self) -> list[tuple[int, Event]]:
        """The decisions :meth:`tell_class` kept since the last call (the clock's tick)."""
        with self._told_lock:
            told, self._told = self._told, []
        return told

    def note_tips(self, events: list[Event], profile_id: int) -> None:
        """Keep the decisions profile ``profile_id`` tipped (the Class screen's list)."""
        w = self.world
        for e in events:
            if isinstance(e, (Promoted, Stalled)) and e.tipped_by is not None and e.profile == profile_id:
                who = f"@{w.creator_handles[int(w.video_creator[e.video])]}'s video"
                if isinstance(e, Promoted):
                    text = f"{e.tipped_by} pushed {who} into tier {e.to_tier}"
                else:
                    text = f"{e.tipped_by} stalled {who} in tier {e.tier}"
                self.pushed.append((float(e.time), self.names[e.profile], text))

    # -- what the class sees ------------------------------------------------------------
    def live_videos(self) -> int:
        w = self.world
        return int((w.video_status[: w.n_videos] != Status.STALLED).sum())

    def status(self) -> dict:
        """``fyp-tui host status``: the clock, the live videos and the people."""
        people = []
        for name, p in sorted(self.people.items()):
            people.append(
                {
                    "profile": name,
                    "connected": p.connected,
                    "cards": p.cards,
                    "reactions": p.reactions,
                    "tips": len(p.history.credited),
                }
            )
        return {
            "clock": round(float(self.world.clock), 4),
            "paused": self.paused,
            "pace": self.pace,
            "live_videos": self.live_videos(),
            "people": people,
        }

    def class_data(self) -> Any:
        from fyp_tui.host.protocol import ClassData, ClassPerson, Pushed

        people = []
        for name, p in sorted(self.people.items()):
            try:
                diversity = p.diversity()
                knob = float(p.feed_session.person.knob)
            except FypError:
                diversity, knob = 0.0, 0.0
            people.append(
                ClassPerson(name, p.connected, p.cards, p.reactions, len(p.history.credited), diversity, knob)
            )
        pushed = tuple(Pushed(t, who, text) for t, who, text in reversed(self.pushed))
        return ClassData(float(self.world.clock), self.paused, self.pace, tuple(people), pushed, self.class_posts())

    def class_posts(self) -> tuple:
        """The videos the class posted (from the Studio), newest first: the Class screen's list."""
        from fyp_tui.host.protocol import ClassPost
        from fyp_tui.live.ladder import status_name

        w, names = self.world, dict(self.names)
        n = int(w.n_videos)
        posted = np.flatnonzero(np.isin(w.video_profile[:n], np.fromiter(names, np.int64, len(names))))
        out = []
        for v in posted[::-1][:CLASS_POSTS_KEPT]:
            v = int(v)
            out.append(
                ClassPost(
                    float(w.video_upload_time[v]),
                    names[int(w.video_profile[v])],
                    v,
                    w.video_captions[v],
                    int(w.video_tier[v]),
                    status_name(w, v),
                    int(w.video_counts[v, Signal.VIEW]),
                )
            )
        return tuple(out)
