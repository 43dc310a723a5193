"""Fidelity to published audits (issue 12): how fast a bot's feed personalises, how
local it is, how diverse a control stays, on a fresh world and an aged one.

    python benchmarks/bench_fidelity.py                    # demo seed 9, 5 audit seeds
    python benchmarks/bench_fidelity.py --audit-seeds 3 --hours 48

Builds the scenario's world (``--seed``), and the same world after ``--hours``
simulated hours (as ``fyp-tui simulate --hours 48`` would leave it). On each, the
bots below run ``--audit-seeds`` times (each on its own copy, as ``fyp-tui audit``
runs them) and the medians are printed beside the issue's targets:

* ``linger``: lingers on one niche topic (to the end and once more), 1.5 s on
  everything else (the WSJ 2021 bots); videos to 80 % of its niche: 100-300, and
  on the aged world at most 1.25x the fresh figure.
* ``linger+like``, ``linger+share``, ``linger+follow``: the same plus that reaction;
  videos to 50 %: like at least 15 % sooner than linger alone, follow no slower
  than like (Boeker & Urman 2022: follow > like > view).
* ``nosignal-<country>``: 4 s on everything, from the world's first and second
  country; share of its last 50 from its own country: 50-90 %, and at least 1.3x
  the other bot's share of that country.
* ``control``: 5 s on everything; topic entropy of its last 50 >= 2.5 bits.
* creator weight: videos uploaded during the aged run, top-10 % vs bottom-50 %
  creators by followers, at equal (hidden) quality: mean tier reached and views,
  with the tier score's creator weight at 0 and at its default.
* one like: a fresh profile likes its first card; the liked topic's share of the
  next 20 cards (20 trials) should stay <= 40 %.
* followed creators: a profile that follows 5 creators (its first card's and the 4
  busiest uploaders'), 4 s on everything: share of the next 100 cards from followed
  creators (target about 1 in 5 at most), smallest gap between two cards of one
  creator (target >= 5).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from fyp_tui.audit import BotSpec, resolve_bots, run_bot
from fyp_tui.engine import simulate
from fyp_tui.engine.feed import FeedSession
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.viewer import PersonState
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import load_scenario


def bots(world, niche: str) -> list[BotSpec]:
    c0, c1 = world.country_codes[0], world.country_codes[1]
    return [
        BotSpec("linger", videos=400, linger=(niche,), watch_seconds=1.5),
        BotSpec("linger+like", videos=300, linger=(niche,), like=(niche,), watch_seconds=1.5),
        BotSpec("linger+share", videos=300, linger=(niche,), share=(niche,), watch_seconds=1.5),
        BotSpec("linger+follow", videos=300, linger=(niche,), follow=(niche,), watch_seconds=1.5),
        BotSpec(f"nosignal-{c0}", videos=200, country=c0, watch_seconds=4.0),
        BotSpec(f"nosignal-{c1}", videos=200, country=c1, watch_seconds=4.0),
        BotSpec("control", videos=200, watch_seconds=5.0),
    ]


def med(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def follow_some(world, params, seeds: int, cards: int = 100) -> list[tuple[float, int | None]]:
    """A fresh profile follows the creator of its first card and the four creators with
    the most uploads in the last 72 h, then watches every card 4 s: the share of the
    next ``cards`` from followed creators, and the smallest gap between two cards of
    one creator (None: no creator twice)."""
    out = []
    n = world.n_videos
    recent = world.video_upload_time[:n] > world.clock - 72.0
    busy = np.argsort(-np.bincount(world.video_creator[:n][recent], minlength=world.n_creators), kind="stable")[:4]
    for seed in range(seeds):
        w = world.copy()
        s = FeedSession(w, params, PersonState.new(w), -1, np.random.default_rng([seed, 4]))
        v = s.next()
        s.react(v, "follow")
        s.watched(v, float(w.video_duration[v]))
        for c in busy.tolist():
            s.person.follows.add(int(c))
        s.rs.sync(w, s.person)
        last: dict[int, int] = {}
        hits, gap = 0, None
        for i in range(cards):
            u = s.next()
            c = int(w.video_creator[u])
            hits += c in s.person.follows
            if c in last:
                gap = i - last[c] if gap is None else min(gap, i - last[c])
            last[c] = i
            s.watched(u, min(4.0, float(w.video_duration[u])))
        out.append((hits / cards, gap))
    return out


def one_like(world, params, trials: int, seed: int) -> float:
    """Median share of the liked topic in the 20 cards after one like on a fresh profile."""
    shares = []
    for t in range(trials):
        w = world.copy()
        person = PersonState.new(w)
        s = FeedSession(w, params, person, -1, np.random.default_rng([seed, t]))
        v = s.next()
        topic = int(w.video_topics[v, 0])
        s.react(v, "like")
        s.watched(v, float(w.video_duration[v]))
        hit = 0
        for _ in range(20):
            u = s.next()
            hit += int(w.video_topics[u, 0]) == topic
            s.watched(u, min(3.0, float(w.video_duration[u])))
        shares.append(hit / 20)
    return statistics.median(shares)


def measure(world, params, niche: str, seeds: int) -> dict:
    specs = resolve_bots(world, bots(world, niche))
    out: dict[str, dict[str, list]] = {}
    for r in specs:
        rows = out.setdefault(r.spec.name, {"to50": [], "to80": [], "own": [], "countries": [], "ent": [], "fol": []})
        for s in range(seeds):
            res = run_bot(world.copy(), params, r, np.random.default_rng([s, 12]))
            rows["to50"].append(res.videos_to_50)
            rows["to80"].append(res.videos_to_80)
            rows["ent"].append(res.entropy_last_50)
            rows["countries"].append(res.countries_last_50)
    out["follow-some"] = {"fol": follow_some(world, params, seeds)}
    # onboarding: two topics picked (not the two biggest); their share of the first 20 cards
    counts = np.bincount(world.video_topics[: world.n_videos, 0], minlength=world.n_topics)
    picked = [int(t) for t in np.argsort(-counts)[3:5]]
    shares = []
    for s in range(seeds):
        w = world.copy()
        fs = FeedSession(w, params, PersonState.new(w, topics=picked), -1, np.random.default_rng([s, 5]))
        first = []
        for _ in range(20):
            v = fs.next()
            first.append(v)
            fs.watched(v, min(4.0, float(w.video_duration[v])))
        shares.append(float(np.isin(w.video_topics[first, 0], picked).mean()))
    out["onboarding"] = {"share": shares}
    # the knob: the lingering bot at knob 0.9 against the default 0.3 (entropy of its last 50)
    high = resolve_bots(world, [BotSpec("knob-0.9", videos=400, linger=(niche,), watch_seconds=1.5, knob=0.9)])[0]
    out["knob"] = {
        "ent": [
            run_bot(world.copy(), params, high, np.random.default_rng([s, 12])).entropy_last_50 for s in range(seeds)
        ]
    }
    return out


def creator_outcomes(world) -> tuple[float, float, float, float]:
    """Videos uploaded since t=0, by the creator's followers: the mean tier reached by
    top-10 % and bottom-50 % creators' videos and their mean views, each averaged over
    quartiles of the (hidden) quality, so the comparison is at equal quality."""
    n = world.n_videos
    new = np.flatnonzero(world.video_upload_time[:n] > 0)
    fol = world.creator_followers[world.video_creator[new]]
    q = world.video_quality[new]
    top = fol >= np.percentile(world.creator_followers, 90)
    low = fol <= np.percentile(world.creator_followers, 50)
    edges = np.percentile(q, [25, 50, 75])
    band = np.searchsorted(edges, q)
    tiers = world.video_tier[new].astype(np.float64)
    views = world.video_counts[new, 0].astype(np.float64)
    out = []
    for values in (tiers, views):
        for group in (top, low):
            means = [values[group & (band == b)].mean() for b in range(4) if (group & (band == b)).any()]
            out.append(float(np.mean(means)) if means else float("nan"))
    return out[0], out[1], out[2], out[3]


def share_of(countries: list[dict], code: str) -> float:
    return statistics.median([c.get(code, 0) / max(sum(c.values()), 1) for c in countries])


def report(label: str, world, m: dict, like_share: float) -> dict:
    c0, c1 = world.country_codes[0], world.country_codes[1]
    print(f"\n== {label}")
    for name in ("linger", "linger+like", "linger+share", "linger+follow"):
        r = m[name]
        print(f"  {name:14} to 50 % {r['to50']} median {med(r['to50'])};  to 80 % {r['to80']} median {med(r['to80'])}")
    lin, like, fol = med(m["linger"]["to50"]), med(m["linger+like"]["to50"]), med(m["linger+follow"]["to50"])
    if lin and like:
        print(f"  like vs linger, to 50 %: {like / lin:.2f}x (target <= 0.85)")
    if like and fol:
        print(f"  follow vs like, to 50 %: {fol / like:.2f}x (target <= 1.0)")
    fs = m["follow-some"]["fol"]
    if fs:
        gaps = [g for _, g in fs if g is not None]
        print(
            f"  follows 5 creators: median share {med([f for f, _ in fs]):.0%} of cards (target <= ~20 %), "
            f"smallest gap {min(gaps) if gaps else '-'} (target >= 5)"
        )
    own = {}
    for code, other in ((c0, c1), (c1, c0)):
        mine = share_of(m[f"nosignal-{code}"]["countries"], code)
        theirs = share_of(m[f"nosignal-{other}"]["countries"], code)
        own[code] = mine
        ratio = mine / theirs if theirs else float("inf")
        print(
            f"  nosignal-{code}: {mine:.0%} of last 50 from {code} (target 50-90 %); "
            f"nosignal-{other}: {theirs:.0%}; ratio {ratio:.2f} (target >= 1.3)"
        )
    print(
        f"  onboarding (2 topics picked): their share of the first 20 cards, median {med(m['onboarding']['share']):.0%}"
    )
    print(
        f"  knob: lingering bot's entropy of its last 50, knob 0.3 {med(m['linger']['ent']):.2f} bits, "
        f"knob 0.9 {med(m['knob']['ent']):.2f} bits"
    )
    ent = med(m["control"]["ent"])
    print(f"  control: topic entropy of last 50 {ent:.2f} bits (target >= 2.5)")
    print(f"  one like: liked topic's share of the next 20 cards, median {like_share:.0%} (target <= 40 %)")
    return {"to80": med(m["linger"]["to80"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--audit-seeds", type=int, default=5)
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--niche", default="cooking")
    ap.add_argument("--like-trials", type=int, default=20)
    ap.add_argument("--only", choices=["fresh", "aged"], default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    sc = load_scenario(a.scenario)
    world = build_world(sc, a.seed)
    params = EngineParams.from_world(world)
    results = {}
    if a.only != "aged":
        results["fresh"] = report(
            f"{a.scenario} seed {a.seed}, fresh",
            world,
            measure(world, params, a.niche, a.audit_seeds),
            one_like(world, params, a.like_trials, a.seed),
        )
    if a.only != "fresh":
        aged = world.copy()
        simulate.run(aged, params, a.seed, a.hours)
        results["aged"] = report(
            f"{a.scenario} seed {a.seed}, after {a.hours:g} h",
            aged,
            measure(aged, params, a.niche, a.audit_seeds),
            one_like(aged, params, a.like_trials, a.seed),
        )
    if a.only != "fresh":
        import dataclasses

        runs = [("default", None)]
        if "creator" in params.weights:  # (an engine from before issue 12 has no creator weight)
            runs.insert(0, ("creator weight 0", {**params.weights, "creator": 0.0}))
        for label, weights in runs:
            p = params if weights is None else dataclasses.replace(params, weights=weights)
            w = world.copy()
            simulate.run(w, p, a.seed, a.hours)
            t_top, t_low, v_top, v_low = creator_outcomes(w)
            print(
                f"creators, {label}: mean tier reached top-10 % {t_top:.2f} vs bottom-50 % {t_low:.2f}; "
                f"mean views {v_top:,.0f} vs {v_low:,.0f} (uploads of the {a.hours:g} h, at equal quality)"
            )
    if "fresh" in results and "aged" in results and results["fresh"]["to80"] and results["aged"]["to80"]:
        print(
            f"\naged / fresh, linger to 80 %: {results['aged']['to80'] / results['fresh']['to80']:.2f}x (target <= 1.25)"
        )
    print(f"({time.perf_counter() - t0:.0f} s wall on a shared machine)")


if __name__ == "__main__":
    main()
