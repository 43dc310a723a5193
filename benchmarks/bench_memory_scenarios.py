"""Peak memory of ``fyp-tui seed`` and ``fyp-tui simulate`` per scenario size, beside
the size guard's estimate (fyp_tui/seeding/size.py) for the same world.

    python benchmarks/bench_memory_scenarios.py [--hours H] [--quick]

Each command runs in a fresh process; its peak resident set comes from wait4's
rusage (Linux: kilobytes). Prints one line per world: measured seed and simulate
peaks, the estimates, and measured / estimated (the guard multiplies its estimate
by size.MARGIN before comparing it with the memory available). Re-fit size.py's
coefficients from these lines when the engine's memory changes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fyp_tui.seeding.scenario import load_scenario
from fyp_tui.seeding.size import MARGIN, estimate

MB = 1 << 20

#: name -> [world] keys (over the defaults), or a built-in scenario's name
WORLDS: dict[str, dict | str] = {
    "tiny": "tiny",
    "demo": "demo",
    "large": "large",
    "500k viewers": {"n_viewers": 500_000},
    "2M viewers": {"n_viewers": 2_000_000},
    "2M viewers, 40 topics": {"n_viewers": 2_000_000, "n_topics": 40},
    "500k videos": {"n_videos": 500_000, "history_days": 14.0},
    "2M videos": {"n_videos": 2_000_000, "n_creators": 20_000, "history_days": 14.0},
    "500k creators": {"n_creators": 500_000},
}
QUICK = ("tiny", "demo", "500k viewers", "500k videos")


def peak_rss(argv: list[str], env: dict) -> int:
    """Run ``python -m fyp_tui argv``; its peak RSS in bytes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fyp_tui", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"fyp-tui {' '.join(argv)} failed: {proc.stderr.read().decode().strip()}")
    return usage.ru_maxrss * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0, help="simulated hours for the simulate run")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    args = ap.parse_args()
    print(f"{'world':<24}{'seed MB':>9}{'est.':>7}{'ratio':>7}{'simulate MB':>13}{'est.':>7}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FYP_TUI_DATA_DIR": str(Path(tmp) / "data")}
        env.pop("FYP_TUI_DB", None)
        for i, (label, spec) in enumerate(WORLDS.items()):
            if args.quick and label not in QUICK:
                continue
            if isinstance(spec, str):
                scenario, world = spec, load_scenario(spec).world
            else:
                path = Path(tmp) / f"w{i}.toml"
                path.write_text(f'name = "w{i}"\n[world]\n' + "".join(f"{k} = {v!r}\n" for k, v in spec.items()))
                scenario, world = str(path), load_scenario(str(path)).world
            db = str(Path(tmp) / f"w{i}.db")
            seed = peak_rss(["seed", "-q", "--scenario", scenario, "--db", db], env)
            sim = peak_rss(["simulate", "-q", "--hours", str(args.hours), "--db", db], env)
            est = estimate(world)
            print(
                f"{label:<24}{seed / MB:>9,.0f}{est.seed / MB:>7,.0f}{seed / est.seed:>7.2f}"
                f"{sim / MB:>13,.0f}{est.simulate / MB:>7,.0f}{sim / est.simulate:>7.2f}"
            )
            for p in Path(tmp).glob(f"w{i}.db*"):
                p.unlink()
    print(f"(the guard refuses a world when max(seed, simulate) estimate x {MARGIN} exceeds the memory available)")


if __name__ == "__main__":
    main()
