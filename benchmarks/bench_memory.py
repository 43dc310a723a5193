"""The live session's memory over a long run at the fastest pace (issue 13).

    python benchmarks/bench_memory.py                  # demo, 300 s of wall time at 240 min/s
    python benchmarks/bench_memory.py --seconds 60 --db /tmp/w.db

Opens a fresh demo world (seeded into a temp file unless ``--db``) in a
:class:`~fyp_tui.live.session.LiveSession`, as the app does, and runs its clock
at the app's fastest pace (the app's ticks: every 0.25 s, the real time since
the last one times the pace, in simulated minutes), scrolling a card every 3 s and
checkpointing every minute of wall time, or sooner when many tier events wait
(``Checkpoints.due``), as the app does. It prints the process's
resident memory (RSS) at the start and every 30 s, and the ratio of the last to
the same world freshly opened (the issue's bar: within 1.5x). Textual is not
loaded: this measures what the live layer and the engine keep, the part that
grows. Prints figures; asserts nothing.

"Freshly opened" is the app a second after it opened a world: the world loaded,
the first card shown, the journal made (the app's warm-up, right after the first
card) and one tick of the clock run (the engine's modules and the tables it keeps
from step to step). It is measured twice: on the world as it was at the start, and
on the world as the run left it, reopened in a new process: the run adds some
hundred thousand videos, so the second is "the same world freshly opened" of the
issue, and its ratio is the one held to 1.5x. Both are printed, with the RSS right
after the first card (the figure this benchmark used to divide by) for comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def heap_line() -> str:
    """glibc's malloc statistics (all arenas): what the C heap holds, in use and free
    (free: fragmentation the process keeps), and what is mapped apart; "" elsewhere."""
    try:
        import ctypes

        class MallInfo2(ctypes.Structure):
            _fields_ = [
                (n, ctypes.c_size_t)
                for n in (
                    "arena",
                    "ordblks",
                    "smblks",
                    "hblks",
                    "hblkhd",
                    "usmblks",
                    "fsmblks",
                    "uordblks",
                    "fordblks",
                    "keepcost",
                )
            ]

        fn = ctypes.CDLL("libc.so.6").mallinfo2
        fn.restype = MallInfo2
        m, mb = fn(), 1 << 20
    except (OSError, AttributeError):
        return ""
    return f", heap {m.arena / mb:.0f} MB (in use {m.uordblks / mb:.0f}, free {m.fordblks / mb:.0f}), mapped {m.hblkhd / mb:.0f} MB"


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def open_as_the_app(live: object, tick_hours: float) -> tuple[float, float]:
    """Open ``live`` (a LiveSession) as the app does in its first second: the world and
    the first card, then the journal (the warm-up) and one tick of the clock. Returns
    the RSS after the first card and after the tick (MB)."""
    from fyp_tui.live.session import LiveSession

    assert isinstance(live, LiveSession)
    live.open()
    live.feed.submit(live.feed.begin).result()
    first_card = rss_mb()
    live.warm_up()
    live.clock.advance(tick_hours)
    return first_card, rss_mb()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument(
        "--pace", type=float, default=240.0, help="simulated minutes per real second (the app's fastest: 240)"
    )
    ap.add_argument("--db", default=None)
    a = ap.parse_args()
    from fyp_tui.live.clock import hours_of
    from fyp_tui.live.session import LiveSession

    tmp = None
    db = a.db
    if db is None:
        tmp = tempfile.TemporaryDirectory()
        db = os.path.join(tmp.name, "demo.db")
        subprocess.run([sys.executable, "-m", "fyp_tui", "seed", "-q", "--scenario", "demo", "--db", db], check=True)
    live = LiveSession(db, "bench-memory", seed=1)
    tick = 0.25  # the app's timer
    first_card, fresh = open_as_the_app(live, hours_of(tick, a.pace))
    print(
        f"freshly opened: RSS {fresh:.0f} MB (after the first card: {first_card:.0f} MB), "
        f"clock {live.world.clock:.1f} h, {live.world.n_videos:,} videos"
    )
    t0 = last_card = last_save = last_print = last_tick = time.monotonic()
    while (now := time.monotonic()) - t0 < a.seconds:
        if now - last_tick < tick:
            time.sleep(tick - (now - last_tick))
            continue
        live.clock.advance(hours_of(now - last_tick, a.pace))  # real time x pace, as the app's tick
        last_tick = now
        if now - last_card >= 3.0:
            card = live.feed.take_ahead()
            live.feed.submit(live.feed.forward, None if card is None else (card.video, 3.0, 0)).result()
            last_card = now
        if now - last_save >= 60.0 or live.checkpoints.due:  # (as the app: a timer, or early)
            # (the snapshot is not kept here once handed to the writer: the app keeps none)
            live.checkpoints.submit_write(live.feed.submit(live.checkpoints.capture).result())
            last_save = now
        if now - last_print >= 30.0:
            print(
                f"  {now - t0:5.0f} s: RSS {rss_mb():.0f} MB ({rss_mb() / fresh:.2f}x){heap_line()}, clock {live.world.clock:.0f} h, {live.world.n_videos:,} videos"
            )
            last_print = now
    end = rss_mb()
    print(
        f"after {a.seconds:.0f} s at {a.pace:g} min/s: RSS {end:.0f} MB = {end / fresh:.2f}x the world freshly opened "
        f"at the start ({end / first_card:.2f}x its RSS after the first card), {live.world.n_videos:,} videos"
    )
    live.checkpoints.final_save()
    live.close()
    # the same world (now aged) opened afresh, as the app opens it
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[3]); from bench_memory import open_as_the_app; "
            "from fyp_tui.live.session import LiveSession; "
            "l = LiveSession(sys.argv[1], 'bench-memory', seed=1); "
            "print(*open_as_the_app(l, float(sys.argv[2]))); print(l.world.n_videos); l.close()",
            db,
            repr(hours_of(tick, a.pace)),
            os.path.dirname(os.path.abspath(__file__)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = again.stdout.strip().splitlines()
    first_again, reopened = (float(x) for x in lines[-2].split())
    print(
        f"the aged world ({int(lines[-1]):,} videos) freshly opened: RSS {reopened:.0f} MB "
        f"(after the first card: {first_again:.0f} MB); long run / reopened = {end / reopened:.2f}x (the bar: 1.5x)"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
