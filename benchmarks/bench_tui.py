"""Speed of the Textual app, measured inside the app (prints figures; asserts nothing).

    python benchmarks/bench_tui.py                 # seeds demo into a temp dir
    python benchmarks/bench_tui.py --db PATH       # an existing world (copied first)
    python benchmarks/bench_tui.py --scenario tiny --presses 100

1. Key press -> next card on screen: the app stamps each key event (``Message.time``)
   and, when the feed shows the new card, asks for a callback after the next
   screen refresh (``call_after_refresh``); the difference is the latency. The
   pilot's own settle time is not in it. Measured with the world running at the
   default pace (its ticks compete for the lock) and the animation on.
2. Idle CPU: process CPU seconds over wall seconds while the app sits on one
   card, with the world paused (animation + counters only) and running.
3. Launch to first card: a fresh ``python`` process that imports the app, opens
   the world, and exits when the first card has been refreshed on screen. Also
   its CPU seconds by then (user + system, all threads): steadier than the wall
   time on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seed(scenario: str, path: Path) -> None:
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario
    from fyp_tui.store.io import save_new_world

    sc = load_scenario(scenario)
    save_new_world(str(path), build_world(sc, sc.seed))


async def onboard(db: Path) -> None:
    """First run of the profile: skip onboarding so later runs open on a card."""
    from fyp_tui.tui import make_app

    app = make_app(str(db), "bench", frozen=True, seed=1)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if type(app.screen).__name__ == "OnboardingScreen":
            await pilot.press("escape")
        await pilot.pause()
        await app.action_quit()


async def latency(db: Path, presses: int, size: tuple[int, int], gap: float) -> list[float]:
    from fyp_tui.tui import make_app

    app = make_app(str(db), "bench", seed=2)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        while app.first_card_at is None:
            await pilot.pause()
        app.latencies.clear()
        for i in range(presses):
            await pilot.press("j" if i % 5 != 4 else "k")
            if gap:
                await asyncio.sleep(gap)  # a person swiping fast; 0 = as fast as the pilot can
        await pilot.pause()
        out = list(app.latencies)
        await app.action_quit()
    return out


async def idle_cpu(db: Path, seconds: float, paused: bool, size: tuple[int, int]) -> float:
    from fyp_tui.tui import make_app

    app = make_app(str(db), "bench", seed=3)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        while app.first_card_at is None:
            await pilot.pause()
        app.world_paused = paused
        await asyncio.sleep(1.0)  # settle
        c0, t0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        c1, t1 = time.process_time(), time.perf_counter()
        await app.action_quit()
    return (c1 - c0) / (t1 - t0)


LAUNCH = r"""
import os, time, sys
t0 = float(sys.argv[2])
from fyp_tui.tui import make_app
import asyncio
app = make_app(sys.argv[1], "bench")
async def pilot(p):
    while app.first_card_at is None:
        await asyncio.sleep(0.002)
    cpu = os.times()
    print(time.time() - t0, cpu.user + cpu.system)
    await app.action_quit()
app.run(headless=True, auto_pilot=pilot, size=(100, 32))
"""


def launch(db: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from process start to the first card on screen."""
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", LAUNCH, str(db), repr(t0)], capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="world to copy (default: seed --scenario into a temp dir)")
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--launches", type=int, default=3)
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--gap", type=float, default=0.25, help="seconds between presses (a fast swiper)")
    args = ap.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="fyp-bench-tui-"))
    try:
        db = tmp / "world.db"
        if args.db:
            shutil.copy(args.db, db)
            label = args.db
        else:
            t = time.perf_counter()
            seed(args.scenario, db)
            label = f"{args.scenario} (seeded in {time.perf_counter() - t:.1f} s)"
        asyncio.run(onboard(db))
        print(
            f"world: {label}; terminal {size[0]}x{size[1]}; {os.cpu_count()} cpus; load average {os.getloadavg()[0]:.1f}"
        )

        lat = asyncio.run(latency(db, args.presses, size, args.gap))
        ms = [x * 1000 for x in lat]
        print(
            f"key -> next card on screen (j, and k every 5th, {args.gap:g} s apart): n={len(ms)} median {statistics.median(ms):.1f} ms, "
            f"p90 {pct(ms, 0.9):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
            "  (targets: median < 16, p99 < 50)"
        )
        for paused in (True, False):
            cpu = asyncio.run(idle_cpu(db, args.idle_seconds, paused, size))
            what = "world paused: animation + counters" if paused else "world running at the default pace"
            print(f"idle CPU on a card, {what}: {cpu * 100:.1f}% of one core" + ("  (target < 15%)" if paused else ""))

        runs = [launch(db) for _ in range(args.launches)]
        times, cpus = [w for w, _c in runs], [c for _w, c in runs]
        print(
            f"launch to first card (new process, imports included): median {statistics.median(times):.2f} s, "
            f"best {min(times):.2f} s over {len(times)}; CPU by then median {statistics.median(cpus):.2f} s"
            "  (target < 1.5 s)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
