"""The simulated audience: calibration ranges and the response to interest match."""

from __future__ import annotations

import numpy as np

from fyp_tui.engine import audience
from fyp_tui.engine.audience import FOLLOW, NOT_INTERESTED, SHARE


def _matched_and_unmatched(w, rng, n=200_000):
    """Pairs (viewer, video) whose hidden interests match the video's main topic, and pairs that share no topic."""
    viewers = rng.integers(0, w.n_viewers, n).astype(np.int32)
    videos = rng.integers(0, w.n_videos, n)
    a = audience.affinity(w, viewers, videos)
    top = w.aud_topics[viewers, 0] == w.video_topics[videos, 0]
    return (viewers[top], videos[top]), (viewers[a == 0], videos[a == 0])


def _rates(r):
    return {
        "like": r.like.mean(),
        "share": (r.extra == SHARE).mean(),
        "follow": (r.extra == FOLLOW).mean(),
        "ni": (r.extra == NOT_INTERESTED).mean(),
        "complete": r.full.mean(),
        "skip": r.skip.mean(),
        "mean": r.ratio.mean(),
        "median": float(np.median(r.ratio)),
        "loops": (r.ratio >= 2).mean(),
    }


def test_calibration_for_viewers_whose_interests_match(tiny_world):
    """Matched viewers and the videos that draw most of the traffic (quality >= 0.3):
    the published figures are per impression, and impressions favour better videos."""
    rng = np.random.default_rng(0)
    (v, x), _ = _matched_and_unmatched(tiny_world, rng, 400_000)
    good = tiny_world.video_quality[x] >= 0.3
    v, x = v[good], x[good]
    m = _rates(audience.react(tiny_world, rng, v, x))
    assert 0.02 <= m["like"] <= 0.10  # per-view like rate 2-10 %
    assert m["like"] / 20 < m["share"] < m["like"] / 4  # about an order of magnitude rarer
    assert m["follow"] < m["share"]
    assert 0.15 < m["complete"] < 0.5  # completion is a minority of plays
    assert 0.7 < m["mean"] < 1.0 and 0.6 < m["median"] < 0.9 and m["mean"] > m["median"]
    assert m["loops"] > 0.005  # a tail past 1.0: loops


def test_engagement_falls_sharply_when_interests_do_not_match(tiny_world):
    rng = np.random.default_rng(1)
    (v1, x1), (v0, x0) = _matched_and_unmatched(tiny_world, rng)
    hit = _rates(audience.react(tiny_world, rng, v1, x1))
    miss = _rates(audience.react(tiny_world, rng, v0, x0))
    assert miss["like"] < hit["like"] / 3
    assert miss["complete"] < hit["complete"] / 2
    assert miss["skip"] > 2 * hit["skip"]
    assert miss["ni"] > hit["ni"]


def test_quality_raises_engagement_and_draws_are_seeded(tiny_world):
    w = tiny_world
    rng = np.random.default_rng(2)
    (v, x), _ = _matched_and_unmatched(w, rng)
    q = w.video_quality[x]
    r = audience.react(w, np.random.default_rng(3), v, x)
    hi, lo = q > np.quantile(q, 0.8), q < np.quantile(q, 0.2)
    assert r.like[hi].mean() > 1.5 * r.like[lo].mean()
    assert r.ratio[hi].mean() > r.ratio[lo].mean()
    again = audience.react(w, np.random.default_rng(3), v, x)
    assert (again.ratio == r.ratio).all() and (again.extra == r.extra).all()
    assert (r.watch_seconds >= 0).all() and (r.loops == np.floor(r.ratio)).all()


def test_impressions_follow_activity():
    rng = np.random.default_rng(4)
    rate = np.array([0.0, 1.0, 10.0])
    v = audience.PoissonCounts(rate * 100.0).impressions(rng)
    c = np.bincount(v, minlength=3)
    assert c[0] == 0 and 60 < c[1] < 140 and 900 < c[2] < 1_100


def test_fast_poisson_counts_match_the_poisson_law():
    """The tabulated sampler the simulation uses draws the same law as rng.poisson
    (including the heavy users past its table) and is seeded."""
    lam = np.repeat([0.05, 0.8, 3.0, 9.0, 40.0], 40_000)
    s = audience.PoissonCounts(lam)
    c = s.draw(np.random.default_rng(5)).reshape(5, -1)
    for row, m in zip(c, (0.05, 0.8, 3.0, 9.0, 40.0)):
        se = np.sqrt(m / row.size)
        assert abs(row.mean() - m) < 5 * se and abs(row.var() / m - 1) < 0.05
    assert abs((c[1] == 0).mean() - np.exp(-0.8)) < 0.01
    assert (s.draw(np.random.default_rng(5)).reshape(5, -1) == c).all()
    # the form the step uses (a viewer id per impression) is the same draw: the viewers
    # with a count of at least 1, then at least 2 ..., each level in viewer order
    v = s.impressions(np.random.default_rng(6))
    full = s.draw(np.random.default_rng(6))
    assert (np.bincount(v, minlength=len(lam)) == full).all()
    first = v[: np.count_nonzero(full)]
    assert (first == np.flatnonzero(full)).all()
    second = v[len(first) : len(first) + np.count_nonzero(full >= 2)]
    assert (second == np.flatnonzero(full >= 2)).all()


def test_video_tables_extended_as_videos_arrive_equal_a_fresh_build(tiny_world):
    from fyp_tui.engine import uploads
    from fyp_tui.engine.params import EngineParams

    w = tiny_world
    p = EngineParams.from_world(w)
    audience.prepare(w)
    rng = np.random.default_rng(2)
    for _ in range(3):  # uploads extend the tables in place
        uploads.upload(w, p, rng, w.clock, w.clock + 2.0)
        w.clock += 2.0
        audience.prepare(w)
    grown = audience._video_tables(w, audience._tables(w)).copy()
    audience.invalidate(w)
    fresh = audience._video_tables(w, audience._tables(w))
    assert fresh.shape == (w.n_videos, 6)
    assert np.array_equal(grown, fresh)
    # and react draws the same with or without the watch seconds
    viewers = np.sort(rng.integers(0, w.n_viewers, 5_000))
    videos = rng.integers(0, w.n_videos, 5_000)
    r1 = audience.react(w, np.random.default_rng(4), viewers, videos)
    r2 = audience.react(w, np.random.default_rng(4), viewers, videos, seconds=False)
    assert r2.watch_seconds is None and (r1.ratio == r2.ratio).all() and (r1.extra == r2.extra).all()


def test_normal_quantiles_match_the_stdlib():
    """The watch-time table's quantiles (vectorised) agree with statistics.NormalDist,
    in the middle, in both tails and at the switch between the two formulas."""
    import statistics

    nd = statistics.NormalDist()
    p = np.concatenate(
        [np.linspace(1e-4, 1 - 1e-4, 997), [1e-12, 1e-6, 0.02424, 0.02425, 0.02426, 0.5, 0.97575, 0.97576, 1 - 1e-6]]
    )
    z = audience.normal_quantiles(p)
    ref = np.array([nd.inv_cdf(float(x)) for x in p])
    assert np.all(np.abs(z - ref) <= 2e-9 * np.maximum(1.0, np.abs(ref)))
    assert (np.diff(audience.normal_quantiles(np.sort(p))) > 0).all()
