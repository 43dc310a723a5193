"""The simulated clock: run the world ahead in the engine's step sizes, and say what happened.

A tick is cut into short steps, each under the world lock on its own, so the
feed queue never waits long for the lock while the world runs. Shells run it at
a pace, simulated minutes per real second (the app's timer, ``fyp-tui play``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fyp_tui.engine.events import TIER_EVENTS, Event
from fyp_tui.live.views import AdvanceOutcome
from fyp_tui.memory import give_back_memory_now_and_then

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: Simulated minutes per real second, unless the person changes it.
DEFAULT_PACE = 10.0


def hours_of(seconds: float, pace: float) -> float:
    """Simulated hours that ``seconds`` real seconds make at ``pace``."""
    return pace * seconds / 60.0


class Clock:
    """Advances the one world; its tier events go to the next checkpoint and the charts."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live

    def advance(self, hours: float) -> AdvanceOutcome:
        """Run the simulation ``hours`` ahead (a worker thread), in the engine's step sizes."""
        from fyp_tui.engine.simulate import step, step_hours

        live = self.live
        w = live.world
        events: list[Event] = []
        with live.lock:
            n, dt = step_hours(w, live.params, float(hours))
        for _ in range(n):
            with live.lock:
                people = (live.feed_session.ledger,) if live.feed_session is not None else ()
                stepped = step(w, live.params, live.sim_rng, dt, people=people).events
                # under the lock: a capture swaps ``pending`` out under it, so an event
                # appended outside could land in the list just handed to the writer, or be lost
                live.checkpoints.pending.extend(e for e in stepped if isinstance(e, TIER_EVENTS))
            events.extend(stepped)
        live.history.log_tiers(events)
        live.history.sample()
        give_back_memory_now_and_then()  # (a fast pace frees large temporaries every tick)
        return AdvanceOutcome(clock=float(w.clock), items=live.strip_items(events))
