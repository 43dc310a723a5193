"""Behaviour of the demo world after 48 simulated hours (the one demo-sized test)."""

from __future__ import annotations

import numpy as np
import pytest


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank)."""
    order = np.argsort(x, kind="stable")
    sx = x[order]
    ranks = np.empty(len(x), np.float64)
    first = np.concatenate([[True], sx[1:] != sx[:-1]])
    starts = np.flatnonzero(first)
    ends = np.concatenate([starts[1:], [len(x)]])
    avg = (starts + ends - 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


@pytest.mark.slow
def test_demo_after_48_hours():
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.simulate import run
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario

    sc = load_scenario("demo")
    w = build_world(sc, sc.seed)
    p = EngineParams.from_world(w)
    r = run(w, p, sc.seed, 48.0).to_dict()

    entered = [f["entered"] for f in r["funnel"]]
    assert entered[p.top_tier - 1] > 0, f"the ladder was not climbed: {entered}"
    reached = [e for e in entered if e > 0]
    assert all(b < a for a, b in zip(reached, reached[1:])), f"the funnel does not narrow: {entered}"

    n = w.n_videos
    views = np.sort(w.video_counts[:n, 0])[::-1]
    top1 = views[: max(1, n // 100)].sum() / views.sum()
    assert top1 > 0.3, f"views are not heavy-tailed: top 1% hold {top1:.0%}"

    rho = spearman(w.video_quality[:n].astype(np.float64), w.video_tier[:n].astype(np.float64))
    assert rho > 0.25, f"quality and tier reached barely correlate: {rho:.2f}"

    rand, targ = r["slices"]["random"], r["slices"]["targeted"]
    assert targ["like_rate"] > 2 * rand["like_rate"]
    assert targ["mean_watch_ratio"] > rand["mean_watch_ratio"]
    assert 0.02 <= targ["like_rate"] <= 0.10
    assert r["dropped_impressions"] < 0.01 * r["impressions"]
