"""Seeding speed: build (Faker vocabularies + numpy) and write (bulk inserts) per scenario.

    python benchmarks/bench_seed.py [demo large ...] [--repeat N]

Prints seconds per phase, rows/s per table, and the best total of N runs.
Targets (issue 2): demo < 3 s, large < 20 s, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario
from fyp_tui.store.io import save_new_world

TARGETS = {"demo": 3.0, "large": 20.0}


def bench(name: str, workdir: Path) -> dict:
    sc = load_scenario(name)
    t0 = time.perf_counter()
    world = build_world(sc, sc.seed)
    t_build = time.perf_counter() - t0

    tables: list[tuple[str, int, float]] = []
    last = [time.perf_counter(), 0]

    def progress(label: str, done: int, total: int) -> None:
        now = time.perf_counter()
        tables.append((label.removeprefix("writing "), done - last[1], now - last[0]))
        last[:] = [now, done]

    db = workdir / f"{name}.db"
    t1 = time.perf_counter()
    last[0] = t1
    save_new_world(str(db), world, force=True, progress=progress)
    t_write = time.perf_counter() - t1
    per_table: dict[str, list[float]] = {}
    for table, rows, secs in tables:
        agg = per_table.setdefault(table, [0, 0.0])
        agg[0] += rows
        agg[1] += secs
    return {
        "name": name,
        "build": t_build,
        "write": t_write,
        "total": t_build + t_write,
        "tables": per_table,
        "mb": db.stat().st_size / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*", default=["demo", "large"])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios:
            runs = [bench(name, Path(tmp)) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["total"])
            target = TARGETS.get(name)
            verdict = (
                "" if target is None else f"  (target < {target:g} s: {'OK' if best['total'] < target else 'MISSED'})"
            )
            print(
                f"seed {name}: total {best['total']:.2f} s = build {best['build']:.2f} s + write {best['write']:.2f} s"
                f", file {best['mb']:.0f} MB{verdict}"
            )
            if args.repeat > 1:
                totals = ", ".join(f"{r['total']:.2f}" for r in runs)
                print(f"  all runs: {totals} s")
            for table, (rows, secs) in best["tables"].items():
                rate = rows / secs if secs > 0 else float("inf")
                print(f"  {table:<16}{rows:>10,} rows {secs:>7.3f} s {rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
