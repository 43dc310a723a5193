"""How often a person meets the test pool: the share of cards where the person is
among the video's first viewers (issue 10, item 6: about 1 card in 8 by default;
acceptance band 8-25 % for a bot playing 400 cards on demo after a simulated week).

    python benchmarks/bench_first_viewer.py                       # demo, seed 9, 168 h, 400 cards
    python benchmarks/bench_first_viewer.py --hours 24 --cards 200
    python benchmarks/bench_first_viewer.py --share 0             # the slot off (before/after)

The world is built in memory, simulated ``--hours`` ahead, then a bot plays
``--cards`` cards with a :class:`FeedSession`: it likes two topics, shares a
third (each watched to the end first) and skims the rest for
``--seconds-per-card`` (``--bot skim``: skims everything, engages with
nothing). Between two cards the world advances ``pace x seconds-per-card``
simulated minutes (the app's default pace is 10 simulated minutes per real
second), in the engine's own step sizes. A card counts as a
first-viewer card when ``FeedSession.is_first_viewer`` holds as it is shown.

Besides the share it prints how many tier-0 videos are live (the test pool the
feed can draw on: a draining world, a known separate bug, shrinks it) and the
share of cards in the bot's topics and in its language, so a gain in first-viewer
cards can be checked not to spoil the rest of the feed.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from fyp_tui.engine import simulate
from fyp_tui.engine.feed import FeedSession
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import Signal, Status
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario

WINDOW = 50  # cards per window of the per-window shares


def pool_sizes(world, first_viewer_views: int) -> tuple[int, int, int]:
    """(live videos, live tier-0 videos, test-pool videos) in the world now."""
    n = world.n_videos
    status, tier = world.video_status[:n], world.video_tier[:n]
    live = status != Status.STALLED
    t0 = (tier == 0) & (status == Status.ACTIVE)
    test = t0 & (world.video_tier_counts[:n, Signal.VIEW] < first_viewer_views)
    return int(live.sum()), int(t0.sum()), int(test.sum())


def advance(world, params, rng: np.random.Generator, hours: float) -> None:
    n, dt = simulate.step_hours(world, params, hours)
    for _ in range(n):
        simulate.step(world, params, rng, dt)


def play(args: argparse.Namespace) -> dict:
    sc = load_scenario(args.scenario)
    world = build_world(sc, sc.seed)
    params = EngineParams.from_world(world).for_world(world)
    t0 = time.perf_counter()
    simulate.run(world, params, args.seed, args.hours)
    t_sim = time.perf_counter() - t0
    streams = np.random.SeedSequence(args.seed).spawn(2)
    feed_rng, sim_rng = (np.random.default_rng(s) for s in streams)

    # the bot: likes the world's two most common main topics, shares the third
    n = world.n_videos
    per_topic = np.bincount(world.video_topics[:n, 0].astype(np.int64), minlength=world.n_topics)
    by_count = np.argsort(-per_topic, kind="stable")
    like, share = {int(by_count[0]), int(by_count[1])}, {int(by_count[2])}
    if args.bot == "skim":
        like, share = set(), set()
    person = PersonState.new(world)
    fs = FeedSession(world, params, person, 1, feed_rng)
    if args.share is not None:
        rp = dataclasses.replace(fs.ranking, test_pool_share=args.share)
        fs = FeedSession(world, params, person, 1, feed_rng, ranking=rp)
    first_views = fs.ranking.first_viewer_views
    before = pool_sizes(world, first_views)

    dt_card = args.pace * args.seconds_per_card / 60.0  # simulated hours per card
    first: list[bool] = []
    live: list[bool] = []
    target: list[bool] = []
    same_lang: list[bool] = []
    tier0_live: list[int] = []
    t_next: list[float] = []
    cpu_next: list[float] = []
    t_play = time.perf_counter()
    for i in range(args.cards):
        a, c = time.perf_counter(), time.thread_time()
        v = fs.next()
        t_next.append(time.perf_counter() - a)
        cpu_next.append(time.thread_time() - c)
        first.append(fs.is_first_viewer(v))
        live.append(int(world.video_status[v]) != int(Status.STALLED))
        topic = int(world.video_topics[v, 0])
        target.append(topic in like | share)
        same_lang.append(int(world.video_language[v]) == person.language)
        d = float(world.video_duration[v])
        if topic in like | share:
            fs.watched(v, d, 0)
            fs.react(v, "like" if topic in like else "share")
        else:
            fs.watched(v, min(args.seconds_per_card, d), 0)
        advance(world, params, sim_rng, dt_card)
        if i % WINDOW == WINDOW - 1:
            tier0_live.append(pool_sizes(world, first_views)[1])
    t_play = time.perf_counter() - t_play
    after = pool_sizes(world, first_views)
    f = np.asarray(first, float)
    return {
        "scenario": args.scenario,
        "videos": int(world.n_videos),
        "test_pool_share": getattr(fs.ranking, "test_pool_share", None),
        "first_viewer_views": int(first_views),
        "cards": len(first),
        "first_viewer_cards": int(f.sum()),
        "first_viewer_share": float(f.mean()),
        "first_viewer_share_by_window": [round(float(f[i : i + WINDOW].mean()), 3) for i in range(0, len(f), WINDOW)],
        "live_share_by_window": [round(float(np.mean(live[i : i + WINDOW])), 3) for i in range(0, len(live), WINDOW)],
        "target_topic_share": float(np.mean(target)),
        "same_language_share": float(np.mean(same_lang)),
        "live_before": before,
        "live_after": after,
        "tier0_live_by_window": tier0_live,
        "next_p50_ms": float(np.percentile(t_next, 50) * 1e3),
        "next_p99_ms": float(np.percentile(t_next, 99) * 1e3),
        "next_cpu_p50_ms": float(np.percentile(cpu_next, 50) * 1e3),
        "next_cpu_p99_ms": float(np.percentile(cpu_next, 99) * 1e3),
        "sim_seconds": t_sim,
        "play_seconds": t_play,
        "clock_end": float(world.clock),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="demo")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--hours", type=float, default=168.0, help="simulated hours before the bot plays")
    ap.add_argument("--cards", type=int, default=400)
    ap.add_argument("--pace", type=float, default=10.0, help="simulated minutes per real second (app default: 10)")
    ap.add_argument("--seconds-per-card", type=float, default=3.0)
    ap.add_argument(
        "--bot",
        choices=("likes", "skim"),
        default="likes",
        help="likes: likes two topics, shares a third; skim: engages with nothing",
    )
    ap.add_argument("--share", type=float, default=None, help="override RankingParams.test_pool_share")
    args = ap.parse_args()
    r = play(args)
    lb, la = r["live_before"], r["live_after"]
    print(
        f"== {r['scenario']} seed {args.seed}, bot {args.bot}: {args.hours:g} h simulated "
        f"({r['sim_seconds']:.1f} s), "
        f"then {r['cards']} cards at {args.pace:g} sim min/s x {args.seconds_per_card:g} s a card "
        f"(clock {r['clock_end']:.1f} h at the end, {r['play_seconds']:.1f} s)"
    )
    print(
        f"   test_pool_share {r['test_pool_share']}, first viewer = tier 0, active, "
        f"< {r['first_viewer_views']} tier views"
    )
    print(
        f"   live videos {lb[0]:,} -> {la[0]:,}; tier-0 live {lb[1]:,} -> {la[1]:,}; test pool {lb[2]:,} -> {la[2]:,}"
    )
    print(f"   tier-0 live per {WINDOW} cards: {r['tier0_live_by_window']}")
    print(
        f"   first-viewer cards: {r['first_viewer_cards']} of {r['cards']} = {r['first_viewer_share']:.1%}"
        f"  (target about 12.5 %, band 8-25 %)"
    )
    print(f"   per {WINDOW} cards: {r['first_viewer_share_by_window']}")
    print(f"   cards live in a tier pool per {WINDOW} cards: {r['live_share_by_window']}")
    print(
        f"   cards in the bot's 3 topics {r['target_topic_share']:.1%}, in its language {r['same_language_share']:.1%}"
    )
    print(
        f"   next(): p50 {r['next_p50_ms']:.2f} ms, p99 {r['next_p99_ms']:.2f} ms; its CPU time p50 "
        f"{r['next_cpu_p50_ms']:.2f} ms, p99 {r['next_cpu_p99_ms']:.2f} ms"
    )
    print(
        "   (ranking only, no journal; the world grows fast here, so the p99 includes the session's index "
        "rebuilds: benchmarks/bench_feed.py is the latency figure)"
    )


if __name__ == "__main__":
    main()
