"""The live session's contract with its parts: the world is reached through a typed
property that fails clearly before open, and the simulated clock hands its tier
events to the checkpoint queue only under the world lock."""

from __future__ import annotations

import pytest

from fyp_tui.live.session import LiveSession, NotOpenError


def test_the_world_before_open_is_a_clear_error():
    live = LiveSession(None, "me", seed=1)
    assert not live.is_open
    with pytest.raises(NotOpenError, match="not open"):
        live.world  # noqa: B018  (the property access is the test)
    with pytest.raises(NotOpenError):
        live.sim_rng  # noqa: B018  (the property access is the test)


class _LockWatchingList(list):
    """A ``pending`` list that records whether the world lock was held at each extend."""

    def __init__(self, live: LiveSession) -> None:
        super().__init__()
        self.live = live
        self.held: list[bool] = []

    def extend(self, items) -> None:
        self.held.append(self.live.lock.locked())
        super().extend(items)


def test_advance_queues_tier_events_for_the_checkpoint_under_the_lock(tiny_db):
    live = LiveSession(tiny_db, "me", seed=1)
    try:
        live.open()
        assert live.is_open and live.world.clock == live.start_clock
        watch = _LockWatchingList(live)
        live.checkpoints.pending = watch
        live.clock.advance(6.0)
        assert watch.held and all(watch.held), "a capture swaps pending under the lock; advance must extend it there"
        assert live.world.clock > live.start_clock
    finally:
        live.close()
