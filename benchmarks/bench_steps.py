"""Step-size invariance: the same world, cut into 5-minute and 60-minute steps.

    python benchmarks/bench_steps.py                  # demo seed 9, 168 h, 5 and 60 min
    python benchmarks/bench_steps.py --hours 48 --minutes 1 5 60

For each step length it prints, per simulated hour of interest, the live videos
(active or site-wide), the tier-0 pass rate (promoted / decided in tier 0) and the
tier-0 bar in force, then the ratios of every figure to the longest step's, and the
simulated hours per wall second. The world's statistics must not depend on how the
clock is cut (../shared/ARCHITECTURE.md, "Time"): the ratios should sit near 1.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fyp_tui.engine import ladder, simulate
from fyp_tui.engine.hourly import Hourly
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import Status
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario


def run(scenario: str, seed: int, hours: float, minutes: float) -> tuple[list[dict], float, float]:
    """The hourly rows, the wall time, and the spread (sd) of the tier scores of the
    videos live in tier 0 at the end: the scale the tier-0 bar's moves are read on."""
    sc = load_scenario(scenario)
    world = build_world(sc, seed)
    params = EngineParams.from_world(world)
    hourly = Hourly(world, params)
    wall = time.perf_counter()
    simulate.run(world, params, seed, hours, step_minutes=minutes, observers=[hourly])
    wall = time.perf_counter() - wall
    n = world.n_videos
    t0 = np.flatnonzero((world.video_tier[:n] == 0) & (world.video_status[:n] == Status.ACTIVE))
    score = ladder.tier_score(world, params, t0)[0]
    return hourly.rows, wall, float(np.std(score[np.isfinite(score)]))


def pass_rate(rows: list[dict], lo: int, hi: int) -> float:
    prom = sum(r["promoted_by_tier"][0] for r in rows[lo:hi])
    dec = prom + sum(r["stalled_by_tier"][0] for r in rows[lo:hi])
    return prom / dec if dec else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--hours", type=float, default=168.0)
    ap.add_argument("--minutes", type=float, nargs="+", default=[5.0, 60.0])
    a = ap.parse_args()
    marks = [h for h in (1, 2, 6, 12, 24, 48, 96, 168) if h <= a.hours]
    results, speed = {}, {}
    for m in a.minutes:
        rows, wall, score_sd = run(a.scenario, a.seed, a.hours, m)
        results[m] = rows
        speed[m] = a.hours / wall
        print(
            f"\n{a.scenario} seed {a.seed}, {m:g}-minute steps: {a.hours / wall:.1f} simulated h per wall s ({wall:.1f} s)"
        )
        print(f"  {'hour':>5} {'live':>6} {'tier0 live':>10} {'t0 promoted':>11} {'t0 stalled':>10} {'bar0':>7}")
        for h in marks:
            r = rows[h - 1]
            print(
                f"  {h:>5} {r['live']:>6} {r['live_by_tier'][0]:>10} {r['promoted_by_tier'][0]:>11}"
                f" {r['stalled_by_tier'][0]:>10} {r['bars'][0]:>7.3f}"
            )
        first_day = [r["promoted_by_tier"][0] for r in rows[:24]]
        print(f"  tier-0 promotions per hour, first 24 h: min {min(first_day)}, max {max(first_day)}")
        ref = rows[min(23, len(rows) - 1)]["bars"][0]
        later = [r["bars"][0] / ref for r in rows[1:] if ref]
        if later:
            print(f"  tier-0 bar from hour 2 on / its hour-24 value: {min(later):.2f} .. {max(later):.2f}")
        # a ratio to a bar near 0 reads noise as swings: also the bar's moves on the
        # scale of the scores it sorts (sd of the tier-0 live videos' scores at the end)
        bars = [r["bars"][0] for r in rows[1:]]
        print(
            f"  tier-0 bar from hour 2 on: {min(bars):.3f} .. {max(bars):.3f} (hour 24: {ref:.3f});"
            f" largest distance from hour 24: {max(abs(x - ref) for x in bars) / score_sd:.2f} sd of tier-0 scores"
            f" (sd {score_sd:.3f})"
        )
        mean_live = sum(rows[h - 1]["live"] for h in marks if h >= 24) / max(1, sum(1 for h in marks if h >= 24))
        if mean_live:
            dev = max(abs(rows[h - 1]["live"] / mean_live - 1) for h in marks if h >= 24)
            print(f"  live at hours >= 24: mean {mean_live:.0f}, largest deviation {dev:.0%}")
        print(f"  tier-0 pass rate over the run: {pass_rate(rows, 0, len(rows)):.3f}")
    base = max(a.minutes)
    for m in a.minutes:
        if m == base:
            continue
        r, b = results[m], results[base]
        print(f"\n{m:g} min / {base:g} min:")
        print(f"  live at the end: {r[-1]['live'] / max(b[-1]['live'], 1):.2f}")
        print(f"  tier-0 pass rate: {pass_rate(r, 0, len(r)) / pass_rate(b, 0, len(b)):.2f}")
        print(f"  tier-0 bar at the end: {r[-1]['bars'][0]:.3f} vs {b[-1]['bars'][0]:.3f}")
        print(f"  simulated h per wall s: {speed[m]:.1f} vs {speed[base]:.1f} (ratio {speed[m] / speed[base]:.2f})")


if __name__ == "__main__":
    main()
