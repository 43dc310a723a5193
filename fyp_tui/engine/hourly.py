"""The hour-by-hour record of a run: an observer of the simulation's steps.

:class:`Hourly` reads each :class:`~fyp_tui.engine.simulate.StepResult` and the
world after it, and never changes either (a metric observes a run, it does not
steer it). Each simulated hour of the run gives one row, ``simulate --json``'s
``hourly`` list:

``hour``
    hours since the run started (1 for the first hour);
``clock``
    the world's clock at the hour's end;
``impressions``, ``uploads``, ``promoted``, ``stalled``
    summed over the hour's steps;
``live``
    videos in a pool (active or site-wide) at the hour's end;
``bars``
    the promotion bar in force per bounded tier at the hour's end;
``promoted_by_tier``, ``stalled_by_tier``, ``live_by_tier``
    the same per tier (site-wide last).

A step belongs to the hour its end falls in; steps that do not divide an hour
are fine, the hour's row closes with the first step ending at or past it. A run
that ends within an hour closes that last, partial hour too (:meth:`Hourly.finish`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fyp_tui.engine import ladder
from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import World

if TYPE_CHECKING:
    from fyp_tui.engine.simulate import StepResult

_EPS = 1e-9


class Hourly:
    """Collects one row per simulated hour (see the module doc) in :attr:`rows`."""

    def __init__(self, world: World, params: EngineParams) -> None:
        self.params = params
        self.start = float(world.clock)
        self.rows: list[dict] = []
        self._open = self._zero()

    def _zero(self) -> dict:
        k = self.params.top_tier + 1
        return {"impressions": 0, "uploads": 0, "promoted": np.zeros(k, np.int64), "stalled": np.zeros(k, np.int64)}

    def observe(self, world: World, params: EngineParams, result: StepResult) -> None:
        acc = self._open
        acc["impressions"] += int(result.impressions)
        acc["uploads"] += int(result.uploads)
        k = params.top_tier + 1
        prom = [e.from_tier for e in result.events if type(e) is Promoted]
        stall = [e.tier for e in result.events if type(e) is Stalled]
        if prom:
            acc["promoted"] += np.bincount(np.minimum(prom, k - 1), minlength=k)[:k]
        if stall:
            acc["stalled"] += np.bincount(np.minimum(stall, k - 1), minlength=k)[:k]
        elapsed = float(world.clock) - self.start
        while elapsed + _EPS >= len(self.rows) + 1:
            self._close(world, params)

    def finish(self, world: World, params: EngineParams) -> None:
        """Close the last hour if the run ended within it (its row covers what there was)."""
        if float(world.clock) - self.start > len(self.rows) + _EPS:
            self._close(world, params)

    def _close(self, world: World, params: EngineParams) -> None:
        acc, self._open = self._open, self._zero()
        n = world.n_videos
        st = world.video_status[:n]
        live = (st == ladder.ACTIVE) | (st == ladder.TOP)
        tier = np.minimum(world.video_tier[:n][live].astype(np.int64), params.top_tier)
        by_tier = np.bincount(tier, minlength=params.top_tier + 1)
        self.rows.append(
            {
                "hour": len(self.rows) + 1,
                "clock": round(self.start + len(self.rows) + 1, 6),
                "impressions": acc["impressions"],
                "uploads": acc["uploads"],
                "promoted": int(acc["promoted"].sum()),
                "stalled": int(acc["stalled"].sum()),
                "live": int(live.sum()),
                "bars": [round(float(b), 4) for b in ladder.current_bars(world, params)],
                "promoted_by_tier": acc["promoted"].tolist(),
                "stalled_by_tier": acc["stalled"].tolist(),
                "live_by_tier": by_tier.tolist(),
            }
        )
