"""Engine speed: simulated impressions per second, and how the cost grows.

    python benchmarks/bench_engine.py            # demo + step lengths + record latency + large + scaling + checkpoint
    python benchmarks/bench_engine.py --quick    # demo only, shorter runs

Prints figures; asserts nothing (tests never time anything). Worlds are built in
memory with ``build_world`` (no database), warmed up for a few simulated hours so
the pools hold videos at every tier, then timed with ``simulate.run``: best of
``--repeats`` runs, as simulated impressions per CPU second (``time.process_time``,
the figure to compare one thread's cost on a shared machine) and per wall second
(what ``fyp-tui simulate`` reports; with two threads, CPU time counts both cores,
so the wall rate is the one to read).
"""

from __future__ import annotations

import argparse
import contextlib
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


def measure(
    w, hours: float, warmup: float, threads: int | None = None, repeats: int = 3
) -> tuple[float, float, int, float, float]:
    """Best of ``repeats`` timed runs of ``hours`` simulated hours each (the world goes
    on between runs): ``(CPU rate, wall rate, impressions, wall s, cpu s)`` of the run
    with the best CPU rate. The CPU rate (``time.process_time``) is the figure to
    compare on a shared machine: it leaves out time spent waiting for a core."""
    p = EngineParams.from_world(w)
    if threads is not None:
        p = dataclasses.replace(p, threads=threads)
    if warmup:
        simulate.run(w, p, 1, warmup)
    best = None
    for i in range(repeats):
        c = time.process_time()
        r = simulate.run(w, p, 2 + i, hours)
        cpu = time.process_time() - c
        row = (r.impressions / cpu if cpu > 0 else 0.0, r.impressions_per_second, r.impressions, r.wall_seconds, cpu)
        if best is None or row[0] > best[0]:
            best = row
    return best


def step_speed(w, hours: float, minutes: float, repeats: int = 3, threads: int | None = None) -> tuple[float, float]:
    """Simulated hours per wall second and per CPU second of ``simulate.run`` at steps of
    ``minutes``, best of ``repeats`` runs, each on a copy of ``w`` (warmed up already), so
    every step length runs through the same simulated hours of the same world.
    ``threads``: the engine's threads (default: the scenario's)."""
    p = EngineParams.from_world(w)
    if threads is not None:
        p = dataclasses.replace(p, threads=threads)
    best_wall = best_cpu = 0.0
    for i in range(repeats):
        ww = w.copy()
        c, t = time.process_time(), time.perf_counter()
        simulate.run(ww, p, 2 + i, hours, step_minutes=minutes)
        cpu, wall = time.process_time() - c, time.perf_counter() - t
        best_wall = max(best_wall, hours / wall if wall > 0 else 0.0)
        best_cpu = max(best_cpu, hours / cpu if cpu > 0 else 0.0)
    return best_wall, best_cpu


@contextlib.contextmanager
def core_only(w):
    """The step with its side work left out: trend decay, engagement, heats and lists,
    trend events, re-ignition, milestones, bar adaptation, follower counts and slice sums
    (heats and lists frozen at ``w``'s). What is left is the core every step must do:
    allocate the pools, match viewers, react, count, learn and decide. The world this
    runs is not a valid one: it only bounds what cutting the side work could give."""
    from fyp_tui.engine import ladder, trends

    p = EngineParams.from_world(w)
    heats = trends.heats_and_lists(w.copy(), p.trending_k)
    stubs = [
        (trends, "heats_and_lists", lambda world, k: heats),
        (trends, "trending_lists", lambda world, k: heats[2:]),
        (trends, "decay", lambda *a: None),
        (trends, "trend_events", lambda *a: []),
        (trends, "add_engagement", lambda *a: None),
        (ladder, "reignite", lambda *a: []),
        (ladder, "milestones", lambda *a: []),
        (ladder, "adapt_bars", lambda *a: None),
        (simulate, "_followers", lambda *a: None),
        (simulate, "_slices", lambda *a: (simulate.SliceCounts(), simulate.SliceCounts())),
    ]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in stubs]
    try:
        for mod, name, fn in stubs:
            setattr(mod, name, fn)
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


def step_lengths(w, hours: float, repeats: int) -> None:
    """The same world at 5- and 60-minute steps: simulated hours per second and their ratio
    (the step length must not cost much: issue 10 asks for at least 0.6), with the
    scenario's threads and with one; then 5-minute steps with only the step's core
    (:func:`core_only`), against the 60-minute steps as they are."""
    w = w.copy()
    simulate.run(w, EngineParams.from_world(w), 1, 12.0)  # the warm-up every figure here has
    print(f"\nstep length (demo, {hours:g} h after a 12 h warm-up, best of {repeats}; simulated h per second)")
    per_threads = {}
    for threads in (None, 1):
        fast_wall, fast_cpu = step_speed(w, hours, 5.0, repeats, threads)
        slow_wall, slow_cpu = step_speed(w, hours, 60.0, repeats, threads)
        per_threads[threads] = slow_wall
        label = "scenario's threads" if threads is None else "1 thread"
        print(
            f"  {label:<18}  5-minute steps {fast_wall:6.1f} wall {fast_cpu:6.1f} cpu;"
            f" 60-minute steps {slow_wall:6.1f} wall {slow_cpu:6.1f} cpu;"
            f" ratio 5/60 {fast_wall / slow_wall:.2f} wall {fast_cpu / slow_cpu:.2f} cpu"
        )
    with core_only(w):
        core_wall, _ = step_speed(w, hours, 5.0, repeats)
    slow_wall = per_threads[None]
    print(
        f"  core alone          5-minute steps {core_wall:6.1f} wall ({1e3 / core_wall:.1f} ms per simulated hour,"
        f" against {1e3 / slow_wall:.1f} at 60 minutes): ratio 5/60 {core_wall / slow_wall:.2f} wall"
    )
    print(
        "  (core alone: the step without its trends, re-ignition, milestones, bars and slice sums; not a valid world)"
    )


def line(label: str, cpu_rate: float, wall_rate: float, n: int, wall: float, cpu: float) -> None:
    print(
        f"  {label:<38} {cpu_rate / 1e6:6.2f} M/s cpu  {wall_rate / 1e6:6.2f} M/s wall"
        f"  ({n:,} impressions, {cpu:.2f} s cpu, {wall:.2f} s wall)"
    )


def record_latency(w) -> None:
    """``ladder.record`` per call (the person's impression or like, as the feed sends them),
    on a copy of the demo world after a 12 h warm-up: median of one call on each of
    up to 300 live videos still short of a decision, best of 3 rounds."""
    import statistics

    import numpy as np

    from fyp_tui.engine import ladder
    from fyp_tui.engine.world import N_SIGNALS, Signal, Status

    w = w.copy()
    p = EngineParams.from_world(w).for_world(w)
    simulate.run(w, p, 1, 12.0)
    n = w.n_videos
    live = np.flatnonzero(w.video_status[:n] == Status.ACTIVE)
    few = live[w.video_tier_counts[live, Signal.VIEW] < p.min_sample // 2][:300].tolist()
    stalled = np.flatnonzero(w.video_status[:n] == Status.STALLED)[:300].tolist()
    print("\nladder.record per call (demo, median over videos, best of 3)")
    for label, vids, col in (
        ("view, live video", few, Signal.VIEW),
        ("like, live video", few, Signal.LIKE),
        ("view, stalled video", stalled, Signal.VIEW),
    ):
        d = np.zeros(N_SIGNALS, np.int64)
        d[col] = 1
        best = float("inf")
        for _ in range(3):
            ww = w.copy()
            times = []
            for v in vids:
                t = time.perf_counter()
                ladder.record(ww, p, v, d, 3.0, ww.clock)
                times.append(time.perf_counter() - t)
            if times:
                best = min(best, statistics.median(times))
        print(f"  {label:<38} {best * 1e6:7.1f} us  ({len(vids)} videos)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="demo only, short runs")
    ap.add_argument(
        "--hours", type=float, default=None, help="simulated hours timed per world (default 24; 6 with --quick)"
    )
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per figure (the best is printed)")
    args = ap.parse_args()
    hours = args.hours if args.hours is not None else (6.0 if args.quick else 24.0)
    print(f"cores: {os.cpu_count()}   (figures vary with other load on the machine)")

    print("\nthroughput (after a 12 h warm-up)")
    w, b = world_for("demo")
    print(f"  demo: {w.n_viewers:,} viewers, {w.n_videos:,} videos (built in {b:.1f} s)")
    default = EngineParams.from_world(w).threads
    for th in (1, 2):
        mark = " (scenario's)" if th == default else ""
        line(f"demo, {th} thread(s){mark}, {hours:g} h", *measure(w.copy(), hours, 12.0, th, args.repeats))
    step_lengths(w, hours, args.repeats)
    record_latency(w)
    if args.quick:
        return
    wl, b = world_for("large")
    print(f"  large: {wl.n_viewers:,} viewers, {wl.n_videos:,} videos (built in {b:.1f} s)")
    default = EngineParams.from_world(wl).threads
    for th in (1, 2):  # (the last run goes on in wl itself: the checkpoint below starts from there)
        mark = " (scenario's)" if th == default else ""
        line(
            f"large, {th} thread(s){mark}, {hours / 4:g} h",
            *measure(wl.copy() if th == 1 else wl, hours / 4, 6.0, th, args.repeats),
        )

    print("\ncost vs audience size (demo, 1 thread, 20k seeded videos, 6 h; CPU ns per impression on the right)")
    for n in (25_000, 100_000, 400_000):
        w, _ = world_for("demo", n_viewers=n)
        m = measure(w, 6.0, 6.0, 1, args.repeats)
        line(f"{n:>9,} viewers ({1e9 / m[0]:.0f} ns/imp)", *m)
    print("\ncost vs video count (demo, 1 thread, 100k viewers, 6 h)")
    for v in (5_000, 20_000, 80_000):
        w, _ = world_for("demo", n_videos=v)
        m = measure(w, 6.0, 6.0, 1, args.repeats)
        line(f"{v:>9,} seeded videos ({1e9 / m[0]:.0f} ns/imp)", *m)

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
