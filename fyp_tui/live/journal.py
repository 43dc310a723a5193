"""The person's journal: every reaction committed, in order, before it is acknowledged.

Two wrappers around the store's ``SqlJournal``: :class:`LazyJournal` makes it on
first use (keeping SQLAlchemy off the way to the first card) and
:class:`RetryingJournal` keeps a failed commit and writes it first next time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


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
    which the first card does not need: :meth:`LiveSession.warm_up
    <fyp_tui.live.session.LiveSession.warm_up>` makes it just after that card is on
    screen, and a reaction before then makes it itself.
    :meth:`Checkpoints.capture <fyp_tui.live.checkpoint.Checkpoints.capture>` makes it
    before the first checkpoint capture (which moves ``world.saved_videos`` ahead of
    the rows), so the journal always starts from the videos the file had when the
    world was opened.
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
