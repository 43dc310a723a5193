"""The engine's derived tables (``World.derived``) always equal what they stand for,
recomputed from scratch: through a run, and after writes made behind the engine's back."""

from __future__ import annotations

import numpy as np

from fyp_tui.engine import catalogue, simulate, trends, uploads
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import Status


def _normalised(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def _check_catalogue(w, p) -> None:
    cached = catalogue.catalogue_weights(w, p, w.clock)
    direct = catalogue._catalogue_weights_now(w, p, w.clock)
    assert cached is not None and cached.shape == direct.shape == (w.n_videos,)
    assert ((cached > 0) == (direct > 0)).all() and (direct > 0).any()
    assert np.allclose(_normalised(cached), _normalised(direct), rtol=1e-12, atol=0)


def test_catalogue_weights_follow_the_world(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    simulate.run(w, p, 1, 6.0)  # some videos stall
    rng = np.random.default_rng(1)
    for _ in range(6):  # steps of several lengths: stalls, promotions, re-ignitions, uploads, follows
        simulate.step(w, p, rng, float(rng.choice([1 / 12, 0.5, 1.0])))
        _check_catalogue(w, p)
    # writes behind the engine's back: statuses, a tier, followers (as the person's feed does)
    n = w.n_videos
    stalled = np.flatnonzero(w.video_status[:n] == Status.STALLED)
    live = np.flatnonzero(w.video_status[:n] != Status.STALLED)
    w.video_status[stalled[:3]] = Status.ACTIVE
    w.video_status[live[:2]] = Status.STALLED
    w.video_tier[stalled[5]] += 1
    w.creator_followers[w.video_creator[stalled[7]]] += 1_000_000
    _check_catalogue(w, p)
    # other params: the table is rebuilt for them
    q = p.__class__(**{**p.__dict__, "catalogue_tier_boost": 1.5, "half_life_hours": 7.0})
    _check_catalogue(w, q)
    _check_catalogue(w, p)


def test_catalogue_weights_of_a_copy_are_its_own(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    simulate.run(w, p, 2, 6.0)
    _check_catalogue(w, p)
    c = w.copy()
    c.video_status[: c.n_videos] = Status.STALLED
    _check_catalogue(c, p)
    _check_catalogue(w, p)


def test_upload_tables_follow_the_world(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    rng = np.random.default_rng(3)
    for _ in range(4):
        simulate.step(w, p, rng, 0.5)
        t = uploads._upload_tables(w)
        assert t.n == w.n_videos
        assert (t.usage == np.bincount(w.video_sound[: w.n_videos], minlength=w.n_sounds)[: w.n_sounds]).all()
        assert np.allclose(t.cum_rate, np.cumsum(w.creator_upload_rate.astype(np.float64)))
    w.creator_upload_rate[:] = 0.0
    w.creator_upload_rate[0] = 50.0
    ids = uploads.upload(w, p, rng, w.clock, w.clock + 1.0)
    assert len(ids) > 0 and (w.video_creator[ids] == 0).all()


def test_trending_lists_are_the_trending_lists(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    rng = np.random.default_rng(4)
    for _ in range(3):
        simulate.step(w, p, rng, 1 / 12)
        s, h = trends.trending_lists(w, p.trending_k)
        assert s.tolist() == trends.trending_sounds(w, p.trending_k).tolist()
        assert h.tolist() == trends.trending_hashtags(w, p.trending_k).tolist()
    # a person's reaction moves the trends between steps: the lists follow
    w.sound_trend[:] = 0.0
    w.sound_trend[5] = 1.0
    s, _ = trends.trending_lists(w, p.trending_k)
    assert s.tolist() == [5]


def test_per_video_tables_fed_a_blocks_uploads_equal_a_fresh_build(tiny_world):
    """Short steps append each step's uploads to the reaction and broad-share tables from
    rows computed once per block (``audience.video_rows``, ``pools.broad_values``): after
    a run, both tables equal ones computed afresh from the world's arrays."""
    from fyp_tui.engine import audience, pools

    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    n0 = w.n_videos
    simulate.run(w, p, 3, 3.0, step_minutes=5)
    assert w.n_videos > n0  # uploads arrived, step by step
    grown = audience._video_tables(w, audience._tables(w)).copy()
    shares = pools._broad_table(w, p).copy()
    audience.invalidate(w)
    w.derived.broad = None
    assert np.array_equal(grown, audience._video_tables(w, audience._tables(w)))
    assert np.array_equal(shares, pools._broad_rows(w, p, np.arange(w.n_videos)))
    # rows staged for videos the table is not current up to are left to the lazy path
    ahead = simulate._Ahead(w, p, np.random.default_rng(5), w.clock, 1 / 12, 12)
    if ahead.uploads is not None:
        audience.invalidate(w)
        assert ahead.add_due(w, None) == len(ahead.uploads.times)
        assert np.array_equal(
            audience._video_tables(w, audience._tables(w))[-len(ahead.uploads.times) :], ahead.rows[0]
        )


def test_engagement_columns_add_what_each_column_adds_alone(tiny_world):
    """``trends.add_engagement_columns`` (a block's catalogue engagement into the trends,
    their fatigue and a tally at once) adds exactly what ``add_engagement_values`` adds per
    column, a column without engagement nothing."""
    w = tiny_world
    rng = np.random.default_rng(6)
    videos = rng.integers(0, w.n_videos, 300)
    es = [rng.random(300) * (rng.random(300) < 0.3), np.zeros(300), rng.random(300)]
    one = [(np.zeros(w.n_sounds), np.zeros(w.n_hashtags)) for _ in es]
    for e, into in zip(es, one):
        trends.add_engagement_values(w, videos, e, into)
    together = [(np.zeros(w.n_sounds), np.zeros(w.n_hashtags)) for _ in es]
    trends.add_engagement_columns(w, videos, es, together)
    for (s1, h1), (s2, h2) in zip(one, together):
        assert np.array_equal(s1, s2) and np.array_equal(h1, h2)
    assert not together[1][0].any() and together[0][0].any() and together[2][1].any()
