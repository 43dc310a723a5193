"""Trends that rise and fall (issue 12, item 5): how long sounds and hashtags stay in
the trending lists over a long run.

    python benchmarks/bench_trends.py                 # demo seed 9, 11 simulated days
    python benchmarks/bench_trends.py --days 5

Every 6 simulated hours it reads the top-10 trending sounds and hashtags
(``trends.trending_sounds`` / ``trending_hashtags``); it prints, per day, the top 3
sounds, how many of the day's top 10 were in day 1's, and then the median and
longest time an item stayed in the top 10 in one run. On the platform a trend rises
over hours and fades over days: the day-1 leaders should not still lead on day 11.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics

from fyp_tui.engine import simulate, trends
from fyp_tui.engine.params import EngineParams
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario

EVERY = 6.0


def stays(snaps: list[list[int]]) -> list[float]:
    """Hours each run of an item in the lists lasted (a run cut by the end counts as is)."""
    runs: list[float] = []
    current: dict[int, int] = {}
    for snap in snaps:
        now = set(snap)
        for item in list(current):
            if item not in now:
                runs.append(current.pop(item) * EVERY)
        for item in now:
            current[item] = current.get(item, 0) + 1
    runs.extend(n * EVERY for n in current.values())
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--days", type=int, default=11)
    a = ap.parse_args()
    world = build_world(load_scenario(a.scenario), a.seed)
    params = EngineParams.from_world(world)
    sounds: list[list[int]] = []
    tags: list[list[int]] = []
    steps = int(a.days * 24 / EVERY)
    for _ in range(steps):
        simulate.run(world, params, a.seed, EVERY)
        sounds.append([int(x) for x in trends.trending_sounds(world, 10)])
        tags.append([int(x) for x in trends.trending_hashtags(world, 10)])
    per_day = int(24 / EVERY)
    first_s, first_h = set(sounds[per_day - 1]), set(tags[per_day - 1])
    print(f"{a.scenario} seed {a.seed}, {a.days} simulated days, top 10 read every {EVERY:g} h")
    print(f"  {'day':>3}  {'sounds in day 1 top 10':>22}  {'tags in day 1 top 10':>20}  top 3 sounds")
    for d in range(a.days):
        s, h = sounds[(d + 1) * per_day - 1], tags[(d + 1) * per_day - 1]
        top3 = ", ".join(world.sound_titles[x][:18] for x in s[:3])
        print(f"  {d + 1:>3}  {len(first_s & set(s)):>22}  {len(first_h & set(h)):>20}  {top3}")
    for label, snaps in (("sounds", sounds), ("hashtags", tags)):
        runs = stays(snaps)
        print(
            f"  {label}: {len(runs)} runs in the top 10; hours in it: median {statistics.median(runs):g}, "
            f"longest {max(runs):g}"
        )


if __name__ == "__main__":
    main()
