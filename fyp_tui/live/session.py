"""One person's live session on one world: open and lock it, own its state, close it.

:class:`LiveSession` owns the World, its lock, the EngineParams, the person's
FeedSession, the store and the journal, and composes the parts that act on
them, one concept each:

``clock``        :class:`~fyp_tui.live.clock.Clock`, the simulation's ticks
``feed``         :class:`~fyp_tui.live.feed.Feed`, the person's feed queue (one thread)
``checkpoints``  :class:`~fyp_tui.live.checkpoint.Checkpoints`, capture and ordered writes
``panel``        :class:`~fyp_tui.live.panel.Panel`, the side panel's Why and Spread
``profile``      :class:`~fyp_tui.live.profile.ProfileView`, interests and the knob
``studio``       :class:`~fyp_tui.live.studio.Studio`, posting and the person's videos
``overview``     :class:`~fyp_tui.live.overview.Overview`, the world at a glance
``history``      :class:`~fyp_tui.live.history.VideoHistory`, view series and tier decisions
``trending``     :class:`~fyp_tui.live.trending.TrendingSounds`, trending sounds cache
``log``          :class:`~fyp_tui.live.summary.SessionLog`, the session observed (quit summary, report)

Shells call these and get plain view data (:mod:`fyp_tui.live.views`) back; no
shell ever touches the World. The World is not thread-safe, so every engine call
that mutates it (a simulation step, a feed-session call, the checkpoint's
copy-out) runs under :attr:`LiveSession.lock`. Counters for display are read
without the lock: a few integers from arrays only ever appended to or grown (a
read sees the old or the new value, never garbage).

The live layer adds no recommender logic: ranking, learning, tiers and
explanations all come from the engine (``FeedSession``, ``pools``, ``simulate``,
``trends``). Nothing here imports Textual.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np

from fyp_tui.engine.events import Event
from fyp_tui.engine.world import World
from fyp_tui.errors import FypError, StoreError, WorldDamagedError, damage_of
from fyp_tui.live.checkpoint import Checkpoints
from fyp_tui.live.clock import Clock
from fyp_tui.live.feed import Feed
from fyp_tui.live.history import VideoHistory
from fyp_tui.live.journal import LazyJournal, RetryingJournal
from fyp_tui.live.overview import Overview
from fyp_tui.live.panel import Panel
from fyp_tui.live.profile import ProfileView
from fyp_tui.live.strip import strip_items
from fyp_tui.live.studio import Studio
from fyp_tui.live.summary import SessionLog
from fyp_tui.live.trending import TrendingSounds
from fyp_tui.live.views import OpenInfo, StripItem
from fyp_tui.memory import tune_allocator


class NotOpenError(FypError):
    """The live session was asked for its world before :meth:`LiveSession.open` loaded it."""


class LiveSession:
    """Owns the World, its lock, EngineParams, the FeedSession, the store and the journal."""

    def __init__(self, db: str | None, profile: str = "me", *, seed: int | None = None, frozen: bool = False) -> None:
        self.db = db
        self.profile_name = profile
        self.seed = seed
        self.frozen = frozen
        self.lock = threading.Lock()
        self.url: str | None = None
        self.store: Any = None
        self._world: World | None = None
        self.params: Any = None
        self.feed_session: Any = None
        self.journal: RetryingJournal | None = None
        self.profile_id: int = 0
        self._sim_rng: np.random.Generator | None = None
        self.start_clock = 0.0
        self.closed = False
        self._opening: Future | None = None
        # set once WorldStore.open has succeeded or failed: the CLI waits on it so a
        # locked, corrupt or newer world ends as one line before Textual starts
        self._store_checked = threading.Event()
        self._store_error: BaseException | None = None
        #: set when a database error said the world file is damaged (see :meth:`damage`)
        self.damaged: WorldDamagedError | None = None
        self.history = VideoHistory(self)
        self.trending = TrendingSounds(self)
        self.clock = Clock(self)
        self.feed = Feed(self)
        self.checkpoints = Checkpoints(self)
        self.panel = Panel(self)
        self.profile = ProfileView(self)
        self.studio = Studio(self)
        self.overview = Overview(self)
        self.log = SessionLog(self)

    # -- the opened world ----------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has loaded the world."""
        return self._world is not None

    @property
    def world(self) -> World:
        """The opened world; :class:`NotOpenError` before :meth:`open` has loaded it."""
        if self._world is None:
            raise NotOpenError("the world is not open yet")
        return self._world

    @property
    def sim_rng(self) -> np.random.Generator:
        """The simulation's random stream (seeded by the session, the world and the person)."""
        if self._sim_rng is None:
            raise NotOpenError("the world is not open yet")
        return self._sim_rng

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

        tune_allocator()  # (before the world's arrays are read: see fyp_tui.memory)
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
                    if profile.id is None:  # get_or_create_profile commits: the row has its id
                        raise StoreError(f"profile {self.profile_name!r} was not saved")
                    found = int(profile.id), load_person(session=s, profile=profile, world=world)
            profile_id, person = found
            seed = self.seed if self.seed is not None else int(time.time_ns() % (2**32))
            feed_rng, sim_rng = (
                np.random.default_rng(s) for s in np.random.SeedSequence([seed, world.seed, profile_id]).spawn(2)
            )

            def make_journal() -> Any:
                from fyp_tui.store.profiles import SqlJournal

                return SqlJournal(store.engine, world)

            journal = RetryingJournal(LazyJournal(make_journal))
            session = FeedSession(world, params, person, profile_id, feed_rng, journal)
        except BaseException:
            store.close()
            raise
        with self.lock:
            self.store, self._world, self.params, self.feed_session = store, world, params, session
            self.journal = journal
            self.profile_id = profile_id
            self._sim_rng = sim_rng
            self.start_clock = world.clock
            for v in np.flatnonzero(world.video_profile[: world.n_videos] == profile_id):
                self.history.track(int(v))
            self.log.start()
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
        """Release the world lock (the app checkpoints before): the feed queue and the
        checkpoint writer finish what they hold first."""
        if self.closed:
            return
        self.closed = True
        if self._opening is not None and not self._opening.done():
            try:
                self._opening.result()  # let the open finish, then release its lock
            except BaseException:
                pass
        self.feed.shutdown()
        self.checkpoints.shutdown()
        if self.journal is not None:
            try:
                self.journal.inner.close()  # its own connection and WAL-checkpoint thread
            except Exception:
                pass  # releasing the world lock below matters more
        if self.store is not None:
            self.store.close()

    # -- a world found damaged while in use ----------------------------------------------
    def damage(self, exc: BaseException) -> BaseException:
        """``exc``, or the :class:`WorldDamagedError` it means when the database says the
        world file is damaged (``database disk image is malformed``: a checkpoint, a read,
        a journal write met a bad page after the world opened sound). The first is kept
        in :attr:`damaged`: the shells poll it, and end the session with :meth:`stop_damaged`."""
        if isinstance(exc, WorldDamagedError):
            if self.damaged is None:
                self.damaged = exc
            return self.damaged
        why = damage_of(exc)
        if why is None:
            return exc
        if self.damaged is None:
            where = self.store.where if self.store is not None else str(self.db)
            self.damaged = WorldDamagedError(f"world {where} is damaged ({why})")
        return self.damaged

    def stop_damaged(self) -> str:
        """End a session whose world was found damaged, without a checkpoint (it would
        write into the damaged file), and say in one line what is kept: the reactions
        the journal committed as they were made (all but those it could not), and this
        session's log (the data directory, for ``fyp-tui report``)."""
        damaged = self.damaged or WorldDamagedError(f"world {self.db} is damaged")
        journal = self.journal
        unsaved = 0 if journal is None else len(journal.backlog)
        log = None
        try:
            log = self.log.save()
        except (OSError, ValueError, FypError):
            log = None  # the line says only what is true
        try:
            self.close()
        except Exception:
            pass  # the line below matters more; the lock goes with the process
        if unsaved:
            kept = f"your last {unsaved} reaction{'s' if unsaved != 1 else ''} could not be saved"
        else:
            kept = "your reactions were committed to it as you made them"
        line = f"{damaged}; stopped without saving the simulation since its last checkpoint; {kept}"
        if log is not None:
            line += f"; this session's log is in {log}"
        return line

    # -- shared by the parts -----------------------------------------------------------
    def topic_names(self) -> list[str]:
        """The world's topics, by id (onboarding and the studio offer them)."""
        return list(self.world.topic_names)

    def strip_items(self, events: list[Event]) -> list[StripItem]:
        """Events worth a line in the event strip, for this person (see :mod:`fyp_tui.live.strip`).
        Every event of the session passes here: the session log keeps the decisions it tipped."""
        self.log.note_events(events)
        return strip_items(
            events, world=self.world, params=self.params, profile_id=self.profile_id, current=self.feed.current
        )
