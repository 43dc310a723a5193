"""Do a person's choices in the Studio matter? Good posts against poor ones (issue 11).

    python benchmarks/bench_studio.py                      # demo, 24 h, 40 profiles, 12 h more
    python benchmarks/bench_studio.py --scenario demo --seed 42 --posts 40 --after 12 --step-minutes 60

Seeds the scenario into a temporary file and simulates it ``--before`` hours
(``fyp-tui simulate``'s path). Then ``--posts`` profiles each post once, through
the same path as the app's Studio and ``fyp-tui post`` (a LiveSession per
profile: its own creator account, committed with the post): half "good" posts
(a trending sound, three in-topic hashtags, 18 s, one of the three topics with
the most views), half "poor" posts (a sound with no trend, no hashtags, 150 s,
one of the three topics with the fewest views). The world then runs ``--after``
hours more. Prints, for each half, how many passed tier 0 (promoted out of it),
stalled in it or are still in it, the distinct creators of the posts, and the
issue's figures: good pass >= 25 %, >= 2x the poor posts' rate, 40 distinct
creators. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--seed", type=int, default=None, help="world seed [default: the scenario's]")
    ap.add_argument("--before", type=float, default=24.0, help="simulated hours before the posts")
    ap.add_argument("--after", type=float, default=12.0, help="simulated hours after the posts")
    ap.add_argument("--posts", type=int, default=40)
    ap.add_argument("--step-minutes", type=float, default=None)
    a = ap.parse_args()

    from fyp_tui.cli.sim import simulate_world
    from fyp_tui.engine.trends import trending_sounds
    from fyp_tui.engine.world import Signal, Status
    from fyp_tui.live.session import LiveSession
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario
    from fyp_tui.store.io import WorldStore, save_new_world

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "world.db")
        wall = time.perf_counter()
        sc = load_scenario(a.scenario)
        save_new_world(db, build_world(sc, sc.seed if a.seed is None else a.seed))
        simulate_world(db=db, hours=a.before, seed=None, step_minutes=a.step_minutes)
        print(f"{a.scenario}: seeded and simulated {a.before:g} h in {time.perf_counter() - wall:.1f} s")

        with WorldStore.open(db, lock=False) as store:
            w = store.load()
        n = w.n_videos
        views_by_topic = np.bincount(
            w.video_topics[:n, 0], weights=w.video_counts[:n, Signal.VIEW], minlength=w.n_topics
        )
        order = np.argsort(-views_by_topic, kind="stable")
        top3, bottom3 = order[:3].tolist(), order[-3:].tolist()
        hot = trending_sounds(w, 5).tolist()
        cold = np.flatnonzero(w.sound_trend == 0).tolist() or np.argsort(w.sound_trend)[:5].tolist()
        print("  top topics   ", ", ".join(f"{w.topic_names[t]} ({views_by_topic[t]:,.0f} views)" for t in top3))
        print("  bottom topics", ", ".join(f"{w.topic_names[t]} ({views_by_topic[t]:,.0f} views)" for t in bottom3))
        print("  trending sounds", hot, f"; sounds with no trend: {len(cold)}")

        def in_topic_tags(topic: int) -> list[str]:
            ids = np.flatnonzero(w.hashtag_topic == topic)
            ids = ids[np.argsort(-w.hashtag_trend[ids], kind="stable")][:3]
            return [w.hashtag_names[h] for h in ids]

        posts: list[tuple[str, int]] = []
        wall = time.perf_counter()
        for i in range(a.posts):
            good = i % 2 == 0
            k = i // 2
            live = LiveSession(db, f"poster {i:02d}", seed=1000 + i)
            try:
                live.open()
                if good:
                    topic = top3[k % 3]
                    video, _ = live.studio.post_video(
                        caption=f"my take on {w.topic_names[topic]} in 18 seconds",
                        hashtags=in_topic_tags(topic),
                        sound=hot[k % len(hot)],
                        duration=18.0,
                        topic=topic,
                    )
                else:
                    topic = bottom3[k % 3]
                    video, _ = live.studio.post_video(
                        caption=f"a long look at {w.topic_names[topic]}",
                        hashtags=[],
                        sound=cold[k % len(cold)],
                        duration=150.0,
                        topic=topic,
                    )
                live.checkpoints.final_save()
            finally:
                live.close()
            posts.append(("good" if good else "poor", int(video)))
        print(f"  {a.posts} profiles posted in {time.perf_counter() - wall:.1f} s (a LiveSession each)")

        wall = time.perf_counter()
        simulate_world(db=db, hours=a.after, seed=None, step_minutes=a.step_minutes)
        print(f"  simulated {a.after:g} h more in {time.perf_counter() - wall:.1f} s")
        with WorldStore.open(db, lock=False) as store:
            w = store.load()

    ids = np.array([v for _k, v in posts])
    creators = w.video_creator[ids]
    rates = {}
    for kind in ("good", "poor"):
        v = np.array([v for k, v in posts if k == kind])
        passed = int(np.count_nonzero(w.video_tier[v] > 0))
        stalled0 = int(np.count_nonzero((w.video_tier[v] == 0) & (w.video_status[v] == Status.STALLED)))
        waiting = len(v) - passed - stalled0
        rates[kind] = passed / len(v)
        tiers = np.bincount(w.video_tier[v], minlength=1)
        print(
            f"  {kind}: {passed}/{len(v)} passed tier 0 ({rates[kind]:.0%}), {stalled0} stalled in it, "
            f"{waiting} still in it; views median {np.median(w.video_counts[v, Signal.VIEW]):.0f}; "
            f"by tier {tiers.tolist()}"
        )
    ratio = rates["good"] / rates["poor"] if rates["poor"] else float("inf")
    print(f"  distinct creators: {len(set(creators.tolist()))} of {len(ids)}")
    print(
        f"figures: good pass {rates['good']:.0%} (want >= 25%), good/poor {ratio:.2f}x (want >= 2), "
        f"distinct creators {len(set(creators.tolist()))} (want {len(ids)})"
    )


if __name__ == "__main__":
    main()
