"""A class of bots against one host: next-card latency at the client, host CPU, reactions lost.

Starts ``fyp-tui host`` (a subprocess) on a copy of a demo world at 60 simulated
minutes per real second (1 h/s), then ``--clients`` bots (default 30) each
scroll one card a second for ``--seconds`` (default 180) through the protocol
client, liking about one card in five. Prints:

- next card p50/p95/p99 at the client (request sent -> card decoded), target p99 < 50 ms,
  once every bot has joined (the time the class took to join is printed apart);
- host CPU in cores (user + system time of the host process over the run), target < 1.5;
- reactions lost: the host is killed with SIGKILL at the end, then the likes in the
  database are counted against the likes the host acknowledged; target 0.

    PYTHONPATH=. python benchmarks/bench_host.py            # 30 bots, 3 minutes
    PYTHONPATH=. python benchmarks/bench_host.py --quick    # 30 bots, 30 seconds
    PYTHONPATH=. python benchmarks/bench_host.py --db postgresql+psycopg://me@host/demo_world
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fyp_tui.host.client import HostClient

REPO = Path(__file__).resolve().parents[1]


def demo_db(folder: Path) -> Path:
    """A demo world at ``folder`` (seeded once per machine into a cache, then copied)."""
    cache = Path(tempfile.gettempdir()) / "fyp-bench-host-demo.db"
    if not cache.is_file():
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        subprocess.run(
            [sys.executable, "-m", "fyp_tui", "seed", "--scenario", "demo", "--db", str(cache)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    target = folder / "demo.db"
    shutil.copy(cache, target)
    return target


def saved_likes(db: str) -> list[tuple[str, int]]:
    """(profile, video) of the bots' likes in the database."""
    sql = (
        "SELECT p.name, i.video_id FROM interaction i JOIN profile p ON p.id = i.profile_id "
        "WHERE i.kind = 'like' AND p.name LIKE 'bot%'"
    )
    if db.startswith("postgresql"):
        import psycopg

        with psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://")) as con:
            return [tuple(r) for r in con.execute(sql).fetchall()]
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bot(
    url: str, name: str, seconds: float, rng: random.Random, lat: list, liked: set, joined: asyncio.Barrier
) -> int:
    client = HostClient(url)
    hello = await client.connect(profile=name)
    if hello.get("needs_onboarding"):
        await client.call("onboard", topics=rng.sample(range(len(hello["topics"])), 3))
    card = await client.call("begin")
    await joined.wait()  # the class has joined: now everyone scrolls
    end = time.monotonic() + seconds
    acked = 0
    next_at = time.monotonic() + rng.random()  # the bots do not swipe in step
    while time.monotonic() < end:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += 1.0
        if card is not None and rng.random() < 0.2 and (name, card.video) not in liked:
            await client.call("react", video=card.video, kind="like")
            liked.add((name, card.video))
            acked += 1
        t = time.perf_counter()
        m0 = time.monotonic()
        leaving = [card.video, 1.0, 0] if card is not None else None
        card, _items = await client.call("next", leaving=leaving)
        lat.append((t, time.perf_counter() - t, name, m0, time.monotonic()))
    await client.close()
    return acked


async def run_bots(url: str, n: int, seconds: float) -> tuple[list[tuple], int, set]:
    lat: list[tuple] = []
    liked: set = set()
    joined = asyncio.Barrier(n + 1)
    t0 = time.monotonic()
    run = asyncio.gather(*(bot(url, f"bot{i:02d}", seconds, random.Random(i), lat, liked, joined) for i in range(n)))
    await joined.wait()
    print(f"{n} clients joined (hello, onboarding, first card) in {time.monotonic() - t0:.1f} s")
    acked = await run
    return lat, sum(acked), liked


def explain(trace_file: Path, lat: list[tuple]) -> None:
    """Where the slow next cards waited, from the host's trace (``--trace``; see fyp_tui.host.trace)."""
    import json

    recs = [json.loads(line) for line in trace_file.read_text().splitlines() if line.strip()]
    reqs: dict[str, list[dict]] = {}
    for r in recs:
        if r["k"] == "req" and r["op"] == "next":
            reqs.setdefault(r["who"], []).append(r)
    locks = [r for r in recs if r["k"] == "lock"]
    spans = [r for r in recs if r["k"] == "span"]
    lags = [r for r in recs if r["k"] == "lag"]

    def kind(th: str) -> str:
        return "clock" if "clock" in th else "feed" if "feed" in th else "ckpt" if "checkpoint" in th else th[:12]

    def pct(xs: list[float], q: float) -> float:
        return float(np.percentile(xs, q)) * 1000 if xs else 0.0

    print("host trace: world lock, by thread (ms)")
    by: dict[str, tuple[list[float], list[float]]] = {}
    for r in locks:
        w, h = by.setdefault(kind(r["th"]), ([], []))
        w.append(r["t1"] - r["t0"])
        h.append(r["t2"] - r["t1"])
    for k, (w, h) in sorted(by.items()):
        print(
            f"  {k:12s} n={len(w):6d} wait p50 {pct(w, 50):6.1f} p99 {pct(w, 99):6.1f} max {pct(w, 100):6.1f}"
            f"   hold p50 {pct(h, 50):6.1f} p99 {pct(h, 99):6.1f} max {pct(h, 100):6.1f}"
        )
    print("host trace: parts (ms)")
    sp: dict[str, list[float]] = {}
    for r in spans:
        sp.setdefault(r["name"], []).append(r["t1"] - r["t0"])
    for k, d in sorted(sp.items()):
        print(f"  {k:12s} n={len(d):6d} p50 {pct(d, 50):6.1f} p99 {pct(d, 99):6.1f} max {pct(d, 100):6.1f}")
    full = [r for r in spans if r["name"] == "gc2"]
    if full:
        print(
            "  full collections (ms/objects): "
            + " ".join(f"{1000 * (r['t1'] - r['t0']):.0f}/{r.get('objects', 0)}" for r in full)
        )
    print(f"  event loop late > 2 ms: {len(lags)} times, max {max((r['lag'] for r in lags), default=0) * 1000:.1f} ms")
    slow = sorted(lat, key=lambda x: -x[1])[: max(1, len(lat) // 100)]
    print(f"the slowest 1% of next cards ({len(slow)}): client ms = in (client sent -> host loop took it)")
    print("  + host (took -> reply sent) + out (sent -> client decoded); what overlapped them")
    rows = []
    for _t, d, who, m0, m1 in slow:
        r = next((r for r in reqs.get(who, []) if m0 - 0.001 <= r["t0"] <= m1), None)
        if r is None:
            rows.append(f"  {d * 1000:6.1f} ms  (no host record)")
            continue
        lag = max((x["lag"] for x in lags if m0 - 0.05 <= x["t0"] <= m1), default=0.0)
        held = [x for x in locks if x["t1"] < m1 and x["t2"] > m0 - 0.05]
        top = max(held, key=lambda x: x["t2"] - x["t1"], default=None)
        near = sorted(
            {f"{x['name']}" for x in spans if x["t0"] < m1 and x["t1"] > m0 - 0.05 and x["t1"] - x["t0"] > 0.02}
        )
        what = f"lock {kind(top['th'])} {1000 * (top['t2'] - top['t1']):.0f}" if top else ""
        rows.append(
            f"  {d * 1000:6.1f} = in {1000 * (r['t0'] - m0):6.1f} + host {1000 * (r['t1'] - r['t0']):6.1f}"
            f" + out {1000 * (m1 - r['t1']):6.1f}  {r['path']:5s} loop lag {lag * 1000:5.1f}  {what}  {' '.join(near)}"
        )
    print("\n".join(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--quick", action="store_true", help="30 seconds instead of 3 minutes")
    ap.add_argument("--pace", type=float, default=60.0, help="simulated minutes per real second")
    ap.add_argument(
        "--db",
        default=None,
        help="a world to host instead of a fresh demo copy (e.g. a postgresql+psycopg:// URL seeded with demo)",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="trace the host (FYP_HOST_TRACE) and show where the slowest next cards waited",
    )
    args = ap.parse_args()
    seconds = 30.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(demo_db(Path(tmp)))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        trace_file = Path(tmp) / "host-trace.jsonl"
        if args.trace:
            env["FYP_HOST_TRACE"] = str(trace_file)
        host = subprocess.Popen(
            [sys.executable, "-m", "fyp_tui", "host", "--db", str(db), "--port", "0", "--pace", str(args.pace)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            url = ""
            assert host.stdout is not None
            for line in host.stdout:
                if line.startswith("join:"):
                    url = line.split()[3]
                    break
            if not url:
                raise SystemExit(f"the host did not start: {host.stderr.read() if host.stderr else ''}")
            cpu0, t0 = cpu_seconds(host.pid), time.monotonic()
            lat, acked, liked = asyncio.run(run_bots(url, args.clients, seconds))
            cpu1, t1 = cpu_seconds(host.pid), time.monotonic()
            if args.trace:
                time.sleep(1.0)  # the trace's last records reach the file
            host.send_signal(signal.SIGKILL)
            host.wait(timeout=30)
        finally:
            if host.poll() is None:
                host.kill()
        rows = saved_likes(db)
        if args.trace:
            explain(trace_file, lat)
    saved = set(rows)
    lost = len(liked - saved)
    ms = np.array([d for _t, d, *_ in lat]) * 1000
    start = min(t for t, *_ in lat)
    steady = np.array([d for t, d, *_ in lat if t - start >= 10.0]) * 1000  # after the class has joined
    cores = (cpu1 - cpu0) / (t1 - t0)
    print(
        f"{args.clients} clients x {seconds:g} s at {args.pace:g} simulated min/s (1 card/s each; loaded 2-core machine)"
    )
    print(
        f"next card at the client: n={ms.size} p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms   (target p99 < 50 ms)"
    )
    if steady.size:
        print(f"  after the first 10 s: p99 {np.percentile(steady, 99):.1f} ms, max {steady.max():.1f} ms")
    windows = []
    for w0 in range(0, int(seconds), 15):
        part = np.array([d for t, d, *_ in lat if w0 <= t - start < w0 + 15]) * 1000
        if part.size:
            windows.append(f"{np.percentile(part, 99):.0f}")
    print(f"  p99 per 15 s window (ms): {' '.join(windows)}   (the host checkpoints every 60 s)")
    print(f"host CPU: {cores:.2f} cores   (target < 1.5)")
    print(f"likes acknowledged {acked}, in the database after kill -9 {len(saved & liked)}, lost {lost}   (target 0)")


if __name__ == "__main__":
    main()
