"""Checkpoints of the simulation: copied out under the lock, written in order on a writer thread.

A capture is fast (a copy, on the feed queue so it lands after what the person
did); the write is one transaction on the checkpoint writer thread, one at a time
in capture order: a later snapshot never lands before an earlier one, and the
final write waits for all.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from fyp_tui.engine.events import Event
from fyp_tui.errors import FypError
from fyp_tui.live.checkpointer import Checkpointer

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: Real seconds between two checkpoints while a session runs (the app, ``fyp-tui play``).
CHECKPOINT_SECONDS = 60.0
#: Tier events waiting for the next checkpoint past which one is due before its time: they
#: wait as Python objects (about 200 bytes each), and at the fastest pace 60 s of them are
#: a quarter of a million (issue 13: the app's memory at a fast pace)
MAX_PENDING = 50_000


class Checkpoints(Checkpointer):
    """The world's checkpoints and the tier events waiting for the next one."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self.pending: list[Event] = []  # step events not yet checkpointed
        self._writer: ThreadPoolExecutor | None = None

    @property
    def due(self) -> bool:
        """Whether so many tier events wait (:data:`MAX_PENDING`) that a checkpoint should
        not wait for its timer (the app and ``play`` then take one at once)."""
        return len(self.pending) >= MAX_PENDING

    def capture(self) -> Any:
        """Copy out what the checkpoint writes (fast, under the lock).

        Run it on the feed queue (``live.feed.submit(live.checkpoints.capture)``) so it
        comes after everything the person did before it. The columnar mirror (a fast
        load) is left to :meth:`final_save`: see :func:`~fyp_tui.store.checkpoint.capture_snapshot`."""
        return self._capture(mirror=False)

    def _capture(self, *, mirror: bool) -> Any:
        live = self.live
        with live.lock:
            journal = live.journal
            if journal is not None and (journal.backlog or journal.pending_state):
                try:
                    journal.flush()
                except FypError as exc:
                    if live.damage(exc) is not exc:
                        raise live.damage(exc) from exc  # (nothing to write into a damaged file)
                    # still failing: kept for the next try; the world checkpoint goes on
            if journal is not None:
                journal.inner.get()  # see LazyJournal: made before the first capture
            events, self.pending = self.pending, []
            return live.store.capture(live.world, events, mirror=mirror)

    def submit_write(self, snap: Any) -> Future:
        """:meth:`write` on the checkpoint writer thread, after every earlier write."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fyp-checkpoint")
        return self._writer.submit(self.write, snap)

    def write(self, snap: Any) -> None:
        """Write a captured checkpoint in one transaction (in a worker thread).

        On failure the snapshot's videos and events go back in the queue, so the
        next checkpoint writes them (nothing is lost while the app runs)."""
        live = self.live
        try:
            live.store.write(snap)
        except BaseException as exc:
            with live.lock:
                snap.requeue(live.world)
                self.pending[:0] = list(snap.events)
            damaged = live.damage(exc)
            if damaged is exc:
                raise
            raise damaged from exc

    def final_save(self) -> None:
        """Checkpoint now and wait for it, after everything queued and every checkpoint
        write still in flight (the app is ending)."""
        live = self.live
        if live.store is None or live.closed:
            return
        live.feed.drain()
        self.submit_write(self._capture(mirror=True)).result()

    def shutdown(self) -> None:
        """Let the writes in flight finish, then stop the writer thread."""
        if self._writer is not None:
            self._writer.shutdown(wait=True, cancel_futures=False)
