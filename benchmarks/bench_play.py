"""Issue 10's figure for ``fyp-tui play``: a person whose reactions visibly decide videos' fates.

    python benchmarks/bench_play.py                    # demo, seed 9, a week, 400 cards, play seed 1
    python benchmarks/bench_play.py --play-seeds 1 2 3 # the spread over three plays of the same aged world
    python benchmarks/bench_play.py --keep /tmp/aged.db  # keep the aged world (reused by the next run)

What it runs, each a real ``fyp-tui`` command in a subprocess (printed as it goes):

1. ``fyp-tui seed --scenario demo --seed 9`` into a temp file, then
   ``fyp-tui simulate --hours 168``: a fresh demo world after a simulated week;
2. for each play seed, on a copy of that file:
   ``fyp-tui play --bot two-likes-one-share --cards 400 --json`` (the default pace,
   10 simulated minutes per real second; the bot likes two topics, shares a third
   and skims the rest, 3 s a card).

Figures and the issue's bars:

* the share of cards live in a tier pool (active or site-wide when shown), per
  window of 25 cards: at least 50 % in every window;
* first-viewer cards: 8-25 %;
* credited decisions (the bot's signal flipped them): at least one per 50 cards
  (overall, and the count in each window of 50 is printed).

Nothing is timed as a pass or fail; wall-clock seconds are printed for reference.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIVE_BAR = 0.5
FIRST_VIEWER_BAND = (0.08, 0.25)
TIPS_PER = 50


def fyp(*args: str) -> str:
    """Run ``fyp-tui ARGS`` from this checkout; its stdout (stderr passes through)."""
    cmd = [sys.executable, "-m", "fyp_tui", *args]
    print("$ fyp-tui " + " ".join(args), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1], check=False)
    if proc.returncode:
        raise SystemExit(f"fyp-tui {args[0]} failed with exit code {proc.returncode}")
    return proc.stdout


def aged_world(path: Path, args: argparse.Namespace) -> float:
    """Seed and simulate the world at ``path`` (unless it is there); seconds spent."""
    if path.is_file():
        print(f"(reusing the aged world at {path})")
        return 0.0
    t = time.perf_counter()
    fyp("seed", "--scenario", args.scenario, "--seed", str(args.seed), "--db", str(path), "-q")
    fyp("simulate", "--hours", f"{args.hours:g}", "--db", str(path), "-q")
    return time.perf_counter() - t


def report(d: dict, wall: float) -> dict:
    cards = d["cards"]
    live = d["live_share_by_window"]
    first = d["first_viewer_cards"] / cards if cards else 0.0
    per_window = [0] * -(-cards // TIPS_PER)
    for t in d["tips"]:
        per_window[(min(max(t["card"], 1), cards) - 1) // TIPS_PER] += 1
    rate = len(d["tips"]) * TIPS_PER / cards if cards else 0.0
    checks = {
        f"live share >= {LIVE_BAR:.0%} in every window of 25": min(live, default=0.0) >= LIVE_BAR,
        f"first-viewer cards in {FIRST_VIEWER_BAND[0]:.0%}-{FIRST_VIEWER_BAND[1]:.0%}": FIRST_VIEWER_BAND[0]
        <= first
        <= FIRST_VIEWER_BAND[1],
        f">= 1 credited decision per {TIPS_PER} cards": rate >= 1.0,
    }
    decided: dict[str, int] = {}
    for t in d["tips"]:
        key = f"{t['decision']} (tier {t['tier']}) by {t['reaction']}"
        decided[key] = decided.get(key, 0) + 1
    print(
        f"   {cards} cards, clock {d['clock_start']:.1f} -> {d['clock_end']:.1f} h, {wall:.1f} s of wall time; "
        f"reactions {d['reactions']}"
    )
    print(f"   cards live per 25:  {' '.join(f'{s:.0%}'.rjust(4) for s in live)}  (min {min(live, default=0):.0%})")
    print(f"   live videos per 25: {' '.join(str(n) for n in d['live_videos_by_window'])}")
    print(f"   first-viewer cards: {d['first_viewer_cards']} of {cards} = {first:.1%}")
    print(
        f"   credited decisions: {len(d['tips'])} = {rate:.2f} per {TIPS_PER} cards; per window of {TIPS_PER}: {per_window}"
    )
    if decided:
        print("     " + ", ".join(f"{k}: {v}" for k, v in sorted(decided.items(), key=lambda kv: -kv[1])))
    for name, ok in checks.items():
        print(f"   {'PASS' if ok else 'FAIL'}  {name}")
    return {"live_min": min(live, default=0.0), "first": first, "rate": rate, "checks": checks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--seed", type=int, default=9, help="the world's seed")
    ap.add_argument("--hours", type=float, default=168.0, help="simulated hours before the bot plays")
    ap.add_argument("--bot", default="two-likes-one-share")
    ap.add_argument("--cards", type=int, default=400)
    ap.add_argument("--pace", type=float, default=None, help="simulated minutes per real second [play's default]")
    ap.add_argument("--seconds-per-card", type=float, default=None, help="[the bot's watch_seconds]")
    ap.add_argument("--play-seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--keep", type=Path, default=None, help="where to keep (or find) the aged world")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-play-") as tmp:
        aged = args.keep if args.keep is not None else Path(tmp) / "aged.db"
        t_age = aged_world(aged, args)
        print(f"== {args.scenario} seed {args.seed} after {args.hours:g} simulated hours ({t_age:.1f} s)")
        results = []
        for s in args.play_seeds:
            db = Path(tmp) / f"play-{s}.db"
            shutil.copyfile(aged, db)
            extra = []
            if args.pace is not None:
                extra += ["--pace", f"{args.pace:g}"]
            if args.seconds_per_card is not None:
                extra += ["--seconds-per-card", f"{args.seconds_per_card:g}"]
            t = time.perf_counter()
            out = fyp(
                "play",
                "--db",
                str(db),
                "--bot",
                args.bot,
                "--cards",
                str(args.cards),
                "--seed",
                str(s),
                "--json",
                *extra,
            )
            wall = time.perf_counter() - t
            print(f"-- play seed {s}")
            results.append(report(json.loads(out), wall))
        if len(results) > 1:
            print(
                f"== over {len(results)} plays: min live share per 25 "
                f"{min(r['live_min'] for r in results):.0%}; first-viewer "
                f"{min(r['first'] for r in results):.1%}-{max(r['first'] for r in results):.1%}; "
                f"credited per {TIPS_PER} cards {min(r['rate'] for r in results):.2f}-{max(r['rate'] for r in results):.2f}; "
                f"all bars held in {sum(all(r['checks'].values()) for r in results)} of {len(results)}"
            )


if __name__ == "__main__":
    main()
