"""Engine speed: simulated impressions per second, and how the cost grows.

    python benchmarks/bench_engine.py            # demo + large + scaling + large checkpoint
    python benchmarks/bench_engine.py --quick    # demo only, shorter runs

Prints figures; asserts nothing (tests never time anything). Worlds are built in
memory with ``build_world`` (no database), warmed up for a few simulated hours so
the pools hold videos at every tier, then timed with ``simulate.run``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

from fyp_tui.engine import simulate
from fyp_tui.engine.params import EngineParams
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario, parse_scenario


def world_for(name: str, **overrides):
    sc = load_scenario(name)
    if overrides:
        data = {"name": sc.name, "seed": sc.seed, "world": {**sc.world, **overrides}, "engine": sc.engine}
        sc = parse_scenario(data, label=f"{name}+{overrides}")
    t = time.perf_counter()
    w = build_world(sc, sc.seed)
    return w, time.perf_counter() - t


def measure(w, hours: float, warmup: float, threads: int | None = None) -> tuple[float, int, float, float]:
    p = EngineParams.from_world(w)
    if threads is not None:
        p = dataclasses.replace(p, threads=threads)
    if warmup:
        simulate.run(w, p, 1, warmup)
    c = time.process_time()
    r = simulate.run(w, p, 2, hours)
    cpu = time.process_time() - c
    return r.impressions_per_second, r.impressions, r.wall_seconds, cpu


def line(label: str, ips: float, n: int, wall: float, cpu: float) -> None:
    # CPU seconds of this process too: on a shared machine the wall figure includes
    # time spent waiting for a core (with 1 thread, cpu ~ wall on an idle machine)
    print(f"  {label:<38} {ips / 1e6:6.2f} M impressions/s  ({n:,} in {wall:.2f} s wall, {cpu:.2f} s cpu)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="demo only, short runs")
    ap.add_argument("--hours", type=float, default=24.0, help="simulated hours timed per world")
    args = ap.parse_args()
    hours = 6.0 if args.quick else args.hours
    print(f"cores: {os.cpu_count()}   (figures vary with other load on the machine)")

    print("\nthroughput (after a 12 h warm-up)")
    w, b = world_for("demo")
    print(f"  demo: {w.n_viewers:,} viewers, {w.n_videos:,} videos (built in {b:.1f} s)")
    for th in (1, 2):
        line(f"demo, {th} thread(s), {hours:g} h", *measure(w.copy(), hours, 12.0, th))
    if args.quick:
        return
    wl, b = world_for("large")
    print(f"  large: {wl.n_viewers:,} viewers, {wl.n_videos:,} videos (built in {b:.1f} s)")
    line(f"large, default threads, {hours / 4:g} h", *measure(wl, hours / 4, 3.0))

    print("\ncost vs audience size (demo, 20k videos, 6 h)")
    for n in (25_000, 100_000, 400_000):
        w, _ = world_for("demo", n_viewers=n)
        line(f"{n:>9,} viewers", *measure(w, 6.0, 6.0))
    print("\ncost vs video count (demo, 100k viewers, 6 h)")
    for v in (5_000, 20_000, 80_000):
        w, _ = world_for("demo", n_videos=v)
        line(f"{v:>9,} seeded videos", *measure(w, 6.0, 6.0))

    print("\ncheckpoint of the large world (after 1 simulated hour)")
    try:
        from fyp_tui.store.io import WorldStore, save_new_world
    except ImportError:
        print("  (store not available)")
        return
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{d}/large.db"
        t = time.perf_counter()
        save_new_world(url, wl, force=True)
        print(f"  save_new_world: {time.perf_counter() - t:.2f} s")
        with WorldStore.open(url) as store:
            events: list = []
            simulate.run(wl, EngineParams.from_world(wl), 3, 1.0, on_events=events.extend)
            dirty = int(wl.video_dirty[: wl.n_videos].sum())
            t = time.perf_counter()
            store.checkpoint(wl, [e for e in events if type(e).__name__ in ("Promoted", "Stalled", "Reignited")])
            print(f"  checkpoint: {time.perf_counter() - t:.2f} s ({dirty:,} dirty videos, {len(events):,} events)")


if __name__ == "__main__":
    main()
