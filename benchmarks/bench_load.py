"""Loading a world into engine arrays, and checkpointing it.

    python benchmarks/bench_load.py [demo large ...] [--repeat N]

Seeds each scenario into a temporary file first (not timed), then prints the best
of N loads (columnar mirror, the normal path), one load from the rows alone (the
fallback when the mirror is stale), and a checkpoint after a burst of changes
(5 % of videos changed, 1 % new). Targets (issue 2): load demo < 0.5 s, large < 3 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario
from fyp_tui.store.io import WorldStore, save_new_world

TARGETS = {"demo": 0.5, "large": 3.0}


def churn(world, rng: np.random.Generator) -> None:
    n = world.n_videos
    ids = rng.choice(n, size=max(1, n // 20), replace=False)
    world.video_counts[ids, 0] += rng.integers(1, 50, len(ids))
    world.video_tier_counts[ids, 0] += 1
    world.video_dirty[ids] = True
    k = max(1, n // 100)
    src = rng.choice(n, size=k)
    world.add_videos(
        creator=world.video_creator[src],
        sound=world.video_sound[src],
        duration=world.video_duration[src],
        topics=world.video_topics[src],
        topic_w=world.video_topic_w[src],
        language=world.video_language[src],
        country=world.video_country[src],
        upload_time=np.full(k, world.clock),
        quality=world.video_quality[src],
        tags=world.video_tags[src],
        captions=[world.video_captions[i] for i in src],
    )
    world.sound_trend[:] = rng.random(world.n_sounds)
    world.clock += 1.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*", default=["demo", "large"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios:
            sc = load_scenario(name)
            db = str(Path(tmp) / f"{name}.db")
            save_new_world(db, build_world(sc, sc.seed))
            with WorldStore.open(db) as store:
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    world = store.load()
                    times.append(time.perf_counter() - t)
                assert store.loaded_from == {"video": "mirror", "audience": "mirror"}
                t = time.perf_counter()
                store.load(use_mirror=False)
                t_rows = time.perf_counter() - t
                churn(world, rng)
                store.engine  # noqa: B018  (made, and SQLAlchemy imported, on first use: not the write's time)
                t = time.perf_counter()
                snap = store.capture(world)
                t_capture = time.perf_counter() - t
                t = time.perf_counter()
                store.write(snap)
                t_write = time.perf_counter() - t
            target = TARGETS.get(name)
            verdict = (
                "" if target is None else f"  (target < {target:g} s: {'OK' if min(times) < target else 'MISSED'})"
            )
            print(
                f"load {name}: {min(times):.3f} s best of {len(times)} ({', '.join(f'{x:.3f}' for x in times)}){verdict}"
            )
            print(f"  from rows only (stale-mirror fallback): {t_rows:.3f} s")
            print(
                f"  checkpoint after a burst (5% videos changed, 1% new): capture {t_capture:.3f} s"
                f" + write {t_write:.3f} s = {t_capture + t_write:.3f} s"
            )


if __name__ == "__main__":
    main()
