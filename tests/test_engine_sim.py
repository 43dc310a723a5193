"""The simulation step: hidden truth stays hidden, invariants hold, runs are reproducible."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fyp_tui.engine import audience, catalogue, ladder, pools, simulate, trends, uploads
from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import Signal, Status

HIDDEN = ("video_quality", "creator_skill", "aud_topics", "aud_topic_w", "aud_like_prop")


def test_recommender_never_reads_hidden_truth(tiny_world):
    """Pools, decisions, record, re-ignition and trends run with the hidden arrays removed."""
    w = tiny_world
    p = EngineParams.from_world(w)
    simulate.run(w, p, 3, 6)  # some history, counters and trends to work with
    for name in HIDDEN:
        setattr(w, name, None)  # any read now raises
    rng = np.random.default_rng(0)
    sh, hh = trends.sound_heat(w), trends.hashtag_heat(w)
    viewers = np.sort(rng.integers(0, w.n_viewers, 5_000)).astype(np.int32)
    al = pools.allocate(w, p, rng, w.clock, sh, hh, dt=1.0, n_targeted=8_000, n_control=200)
    cat = catalogue.catalogue_allocation(w, p, rng, w.clock, 1_000)
    slots = al.slot[: len(al.slot) - al.n_control]
    assert len(slots) > 0 and cat is not None
    pools.match_viewers(w, p, rng, viewers, al.ids[slots], al.topic[slots])
    live = np.flatnonzero(w.video_status[: w.n_videos] != Status.STALLED)
    ladder.decide(w, p, live, w.clock + 1)
    ladder.tier_score(w, p, live)
    ladder.reignite(w, p, rng, w.clock + 1, 1.0, np.ones(w.n_sounds), hh)
    ladder.record(w, p, int(live[0]), np.eye(1, len(Signal), Signal.VIEW, dtype=np.int64)[0], 3.0, w.clock)
    trends.trending_sounds(w, 5), trends.trending_hashtags(w, 5)


def test_decisions_do_not_change_when_hidden_truth_is_replaced(tiny_world, monkeypatch):
    """One step on the world, and on a copy whose hidden arrays are noise while the
    audience still reacts from the untouched truth: every decision is the same."""
    p = EngineParams.from_world(tiny_world)
    simulate.run(tiny_world, p, 5, 4)
    p = dataclasses.replace(p, upload_scale=0.0)  # (an upload draws its hidden quality: none here)
    truth = tiny_world.copy()
    scrambled = tiny_world.copy()
    audience.scramble_hidden(scrambled, np.random.default_rng(99))

    a = simulate.step(tiny_world, p, np.random.default_rng(11), 3.0)
    real_react = audience.react
    monkeypatch.setattr(audience, "react", lambda world, rng, v, x, **kw: real_react(truth, rng, v, x, **kw))
    b = simulate.step(scrambled, p, np.random.default_rng(11), 3.0)

    tier_events = lambda r: [e for e in r.events if isinstance(e, (Promoted, Stalled))]
    assert len(tier_events(a)) > 0
    assert tier_events(a) == tier_events(b)
    n = tiny_world.n_videos
    for name in ("video_tier", "video_status", "video_tier_counts", "video_counts"):
        assert (getattr(tiny_world, name)[:n] == getattr(scrambled, name)[:n]).all(), name


def _budget_ok(w, p):
    n = w.n_videos
    tier = w.video_tier[:n].astype(np.int64)
    bounded = tier < p.top_tier
    return (w.video_tier_counts[:n, Signal.VIEW][bounded] <= ladder.tier_budget(p, tier[bounded])).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.floats(0.05, 4.0), min_size=1, max_size=4),
    threads=st.sampled_from([1, 2, 3]),
)
def test_ladder_invariants(tiny_world, monkeypatch, seed, steps, threads):
    """The ladder's invariants, in one thread and served in viewer chunks on several."""
    monkeypatch.setattr(simulate, "PARALLEL_MIN", 200)  # tiny's steps are small: cut them anyway
    w = tiny_world.copy()
    p = dataclasses.replace(EngineParams.from_world(w), threads=threads)
    rng = np.random.default_rng(seed)
    for dt in steps:
        n0 = w.n_videos
        tier0 = w.video_tier[:n0].copy()
        counts0 = w.video_counts[:n0].copy()
        watch0 = w.video_watch_seconds[:n0].copy()
        r = simulate.step(w, p, rng, dt)
        n = w.n_videos
        assert _budget_ok(w, p), "a tier's impressions exceeded its budget"
        jump = w.video_tier[:n0].astype(int) - tier0
        assert ((jump == 0) | (jump == 1)).all(), "a video skipped a tier"
        assert (w.video_tier[n0:n] <= 1).all(), "a new upload skipped a tier"
        assert (w.video_counts[:n0] >= counts0).all(), "a counter decreased"
        assert (w.video_watch_seconds[:n0] >= watch0).all()
        assert r.impressions >= 0 and r.dropped >= 0
        for e in r.events:
            if isinstance(e, Promoted):
                assert e.to_tier == e.from_tier + 1 and e.impressions <= p.budgets()[e.from_tier]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), hours=st.floats(0.5, 6.0))
def test_same_seed_same_world(tiny_world, assert_same_world, seed, hours):
    a, b = tiny_world.copy(), tiny_world.copy()
    p = EngineParams.from_world(a)
    ra = simulate.run(a, p, seed, hours)
    rb = simulate.run(b, p, seed, hours)
    assert_same_world(a, b)
    assert ra.deterministic() == rb.deterministic()
    assert a.extra.get(ladder.BARS_KEY) == b.extra.get(ladder.BARS_KEY)


def test_report_keys_and_funnel_consistency(tiny_world):
    p = EngineParams.from_world(tiny_world)
    r = simulate.run(tiny_world, p, 1, 12).to_dict()
    json.dumps(r)  # JSON-safe
    for key in ("impressions", "wall_seconds", "impressions_per_second", "funnel", "slices", "top_videos", "trending"):
        assert key in r
    assert len(r["funnel"]) == p.top_tier + 1 and r["funnel"][-1]["budget"] is None
    for f in r["funnel"]:
        assert set(f) == {"tier", "budget", "entered", "promoted", "stalled", "active"}
        assert f["entered"] == f["promoted"] + f["stalled"] + f["active"]
    for s in ("random", "targeted"):
        assert set(r["slices"][s]) == {
            "impressions",
            "completion_rate",
            "like_rate",
            "share_rate",
            "follow_rate",
            "mean_watch_ratio",
        }
    assert r["slices"]["random"]["impressions"] > 0 and r["slices"]["targeted"]["impressions"] > 0
    assert r["impressions"] >= r["slices"]["random"]["impressions"] + r["slices"]["targeted"]["impressions"]
    assert r["top_videos"][0]["views"] >= r["top_videos"][-1]["views"]
    assert tiny_world.clock == pytest.approx(12.0)


def test_creators_keep_uploading_and_post_video_enters_tier_0(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w)
    n0 = w.n_videos
    r = simulate.run(w, p, 2, 24)
    assert r.uploads > 0 and w.n_videos == n0 + r.uploads
    new = slice(n0, w.n_videos)
    assert (w.video_upload_time[new] > 0).all() and (w.video_upload_time[new] <= w.clock).all()
    tags = w.video_tags[new]
    assert ((tags >= 0).sum(axis=1) >= 1).all()
    assert np.allclose(w.video_topic_w[new].sum(axis=1), 1.0)
    vid = uploads.post_video(
        w,
        p,
        np.random.default_rng(1),
        profile=1,
        creator=0,
        sound=0,
        duration=15.0,
        topic=2,
        hashtags=[1, 2],
        caption="my first video",
        now=w.clock,
    )
    assert vid == w.n_videos - 1 and w.video_profile[vid] == 1 and w.video_tier[vid] == 0
    assert w.video_status[vid] == Status.ACTIVE and w.video_captions[vid] == "my first video"
    simulate.step(w, p, np.random.default_rng(0), 2.0)
    assert w.video_counts[vid, Signal.VIEW] > 0  # its test audience saw it at once


def test_trending_lists_exclude_generic_tags(tiny_world):
    p = EngineParams.from_world(tiny_world)
    simulate.run(tiny_world, p, 4, 12)
    tags = trends.trending_hashtags(tiny_world, 10)
    assert len(tags) > 0 and (tiny_world.hashtag_topic[tags] >= 0).all()
    s = trends.trending_sounds(tiny_world, 5)
    assert (np.diff(trends.sound_score(tiny_world)[s]) <= 0).all()  # by trending score, highest first


def test_trends_rise_and_fall(tiny_world):
    """Issue 12: a steady favourite's score saturates (its fatigue catches up), a sudden
    rise outscores it within hours, and fades again over a day or two."""
    w = tiny_world
    p = EngineParams.from_world(w)
    w.sound_trend[:] = 0.0
    w.extra.pop(trends.SOUND_FATIGUE, None)
    w.sound_trend[0] = 100.0  # the steady favourite: its fatigue has caught up
    w.sound_trend[1:3] = 20.0
    trends.fatigue(w)
    riser = 5
    assert trends.trending_sounds(w, 1)[0] == 0
    for hour in range(72):
        keep = w.sound_trend[[0, 1, 2]].copy()
        if hour < 6:
            w.sound_trend[riser] += 60.0  # a burst of engagement for six hours
        trends.decay(w, p, 1.0)
        w.sound_trend[[0, 1, 2]] = keep  # the others hold steady
        if hour == 5:
            assert trends.trending_sounds(w, 1)[0] == riser, "a sudden rise trends within hours"
    assert trends.trending_sounds(w, 1)[0] == 0, "and fades within days"


def test_control_slice_is_a_poisson_share_of_each_viewers_rate(tiny_world):
    """The control impressions (each impression marked control with probability
    control_fraction: Poisson splitting) are about control_fraction of the traffic,
    sorted by viewer, picked by activity; the rest stay targeted, in their order."""
    w = tiny_world
    p = EngineParams.from_world(w)
    rate = simulate._rate(w, p)
    cut = [0, w.n_viewers // 3, w.n_viewers]
    parts = simulate._sampler(w, p, 200.0).impressions(np.random.default_rng(6), cut)
    targeted, v = simulate._mark_control(p, np.random.default_rng(7), parts)
    expected = p.control_fraction * rate.sum() * 200.0
    assert abs(len(v) - expected) < 5 * np.sqrt(expected)
    assert (np.diff(v) >= 0).all() and v.dtype == np.int32
    c = np.bincount(v, minlength=w.n_viewers)
    assert np.corrcoef(c, rate)[0, 1] > 0.8
    both = np.bincount(np.concatenate([*targeted, v]), minlength=w.n_viewers)
    assert (both == np.bincount(np.concatenate(parts), minlength=w.n_viewers)).all()
    for t, part, lo, hi in zip(targeted, parts, cut[:-1], cut[1:]):
        assert ((t >= lo) & (t < hi)).all() and np.isin(t, part).all()
    again = simulate._mark_control(p, np.random.default_rng(7), parts)[1]
    assert (again == v).all()


def test_learning_table_is_the_direct_float_update(tiny_world, monkeypatch):
    """aud_pref's update through the float16 lookup table equals the float32 arithmetic."""
    w = tiny_world
    p = EngineParams.from_world(w)
    rng = np.random.default_rng(8)
    viewers = np.sort(rng.integers(0, w.n_viewers, 20_000)).astype(np.int32)
    videos = rng.integers(0, w.n_videos, 20_000)
    # one impression per (viewer, topic) cell: which of two writes to one cell wins is
    # numpy's choice, and differs between its two scatters
    _, first = np.unique(viewers.astype(np.int64) * w.n_topics + w.video_topics[videos, 0], return_index=True)
    viewers, videos = viewers[np.sort(first)], videos[np.sort(first)]
    r = audience.react(w, rng, viewers, videos)
    topics = w.video_topics[videos, 0].astype(np.int32)
    a, b = w.copy(), w.copy()
    simulate._learn(a, p, viewers, topics, r)
    monkeypatch.setattr(simulate, "_learn_table", lambda lr, dtype: None)
    simulate._learn(b, p, viewers, topics, r)
    assert a.aud_pref.dtype == np.float16
    assert (a.aud_pref.view(np.uint16) == b.aud_pref.view(np.uint16)).all()
    assert not (a.aud_pref == w.aud_pref).all()
    # react's by-product cells (viewer * T + main topic) index the same entries
    c = w.copy()
    r._cell = None
    simulate._learn(c, p, viewers, lambda: topics, r)
    assert (c.aud_pref.view(np.uint16) == b.aud_pref.view(np.uint16)).all()


def test_trend_credit_is_the_same_for_one_video_and_in_bulk(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w)
    rng = np.random.default_rng(9)
    vids = rng.choice(w.n_videos, 40, replace=False)
    delta = rng.integers(0, 4, (40, w.video_counts.shape[1]))
    a, b = w.copy(), w.copy()
    trends.add_engagement(a, p, vids, delta)  # bulk (bincounts)
    for i in range(0, 40, 4):  # a few at a time (in place)
        trends.add_engagement(b, p, vids[i : i + 4], delta[i : i + 4])
    assert np.allclose(a.sound_trend, b.sound_trend) and np.allclose(a.hashtag_trend, b.hashtag_trend)
    assert a.sound_trend.sum() > w.sound_trend.sum()


def test_threaded_steps_are_deterministic_and_draw_like_one_thread(tiny_world, assert_same_world, monkeypatch):
    """``threads = 2`` (an ``[engine]`` setting) serves a step's audience in two viewer
    chunks, each dealt its share of the slots, on two threads: the same seed still gives
    the same world, and the audience is served and reacts as in one thread (other
    random streams; the same rates, within what one thread's runs vary by)."""
    monkeypatch.setattr(simulate, "PARALLEL_MIN", 200)  # tiny's steps are small: cut them anyway
    one = EngineParams.from_world(tiny_world)
    two = dataclasses.replace(one, threads=2)
    a, b, c = tiny_world.copy(), tiny_world.copy(), tiny_world.copy()
    ra, rb = simulate.run(a, two, 7, 24), simulate.run(b, two, 7, 24)
    assert_same_world(a, b)
    assert ra.deterministic() == rb.deterministic()
    rc = simulate.run(c, one, 7, 24)
    assert ra.deterministic() != rc.deterministic(), "the chunked path ran (its own streams)"
    assert ra.impressions == pytest.approx(rc.impressions, rel=0.03)
    views = lambda w: int(w.video_counts[: w.n_videos, Signal.VIEW].sum())
    assert views(a) - views(tiny_world) == ra.impressions, "every chunk's impressions are counted once"
    # each chunk serves (and learns about) its own viewers
    learned = lambda w: (w.aud_pref != tiny_world.aud_pref).any(axis=1)
    half = tiny_world.n_viewers // 2
    for part in (slice(None, half), slice(half, None)):
        assert learned(a)[part].mean() == pytest.approx(learned(c)[part].mean(), abs=0.05)
    # the control slice is control_fraction of what the pools serve, in either path
    # (how much the pools ask follows the world's own path: on tiny it varies by a
    # third from one seed to the next, in one thread too)
    for r in (ra, rc):
        pooled = r.impressions - r.catalogue_impressions
        assert r.slices["random"]["impressions"] == pytest.approx(one.control_fraction * pooled, rel=0.15)
    # the control slice: within 4 standard errors (binomial rates; a watch ratio's spread is below 0.7)
    s2, s1 = ra.slices["random"], rc.slices["random"]
    n2, n1 = s2["impressions"], s1["impressions"]
    for rate in ("like_rate", "completion_rate"):
        q = (s1[rate] + s2[rate]) / 2
        assert abs(s2[rate] - s1[rate]) < 4 * np.sqrt(q * (1 - q) * (1 / n1 + 1 / n2)), rate
    assert abs(s2["mean_watch_ratio"] - s1["mean_watch_ratio"]) < 4 * 0.7 * np.sqrt(1 / n1 + 1 / n2)
    # the targeted slice also follows the world's path (which videos are in the pools):
    # between one-thread runs with other seeds its rates differ by up to 7 % (likes),
    # 4 % (completions) and 2 % (watch ratio); twice that is allowed here
    t2, t1 = ra.slices["targeted"], rc.slices["targeted"]
    assert t2["like_rate"] == pytest.approx(t1["like_rate"], rel=0.14)
    assert t2["completion_rate"] == pytest.approx(t1["completion_rate"], rel=0.08)
    assert t2["mean_watch_ratio"] == pytest.approx(t1["mean_watch_ratio"], rel=0.04)


def test_a_step_with_no_impressions_still_steps(tiny_world):
    """A step too short for anyone to open the app (or an audience with no activity)
    serves nothing and still moves the clock."""
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    assert len(audience.PoissonCounts(np.zeros(50)).impressions(np.random.default_rng(1))) == 0
    r = simulate.step(w, p, np.random.default_rng(2), 1e-7)
    assert r.impressions == 0 and w.clock == pytest.approx(tiny_world.clock + 1e-7)


def test_impressions_cut_into_chunks_are_the_same_draw(tiny_world):
    """A step's chunks get the impressions of their own viewers, as the whole draw has them."""
    lam = simulate._rate(tiny_world, EngineParams.from_world(tiny_world)) * 3.0
    s = audience.PoissonCounts(lam)
    whole = s.impressions(np.random.default_rng(4))
    cut = [0, 700, 701, 1900, len(lam)]
    parts = s.impressions(np.random.default_rng(4), cut)
    assert len(parts) == 4
    for lo, hi, part in zip(cut[:-1], cut[1:], parts):
        assert ((part >= lo) & (part < hi)).all()
        assert part.tolist() == whole[(whole >= lo) & (whole < hi)].tolist()
    control = np.array([0, 3, 3, 700, 1899, 1900, 2400])
    assert [x.tolist() for x in simulate._split_sorted(control, cut)] == [[0, 3, 3], [700], [1899], [1900, 2400]]


def test_slots_are_dealt_in_proportion_and_add_up():
    """A step's chunks get shares of the slots in proportion to their impressions (never
    more slots than impressions), and the dealt parts add up to each entry's slots."""
    sizes = [1000, 3, 2500, 0]
    shares = simulate._shares(sizes, 2900)
    assert shares.sum() == 2900 and (shares <= np.array(sizes)).all()
    assert shares[2] > shares[0] > shares[1] >= 0 and shares[3] == 0
    per_entry = np.random.default_rng(1).integers(0, 40, 200)
    parts = simulate._deal(np.random.default_rng(2), per_entry, simulate._shares(sizes, int(per_entry.sum())))
    assert (np.sum(parts, axis=0) == per_entry).all() and all((x >= 0).all() for x in parts)
    assert [int(x.sum()) for x in parts] == simulate._shares(sizes, int(per_entry.sum())).tolist()


def test_catalogue_drawn_in_parts_keeps_entries_and_parts_aligned(tiny_world):
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    simulate.run(w, p, 3, 6.0)  # some videos stall
    cat = catalogue.catalogue_allocation(w, p, np.random.default_rng(4), w.clock, [700, 0, 300])
    assert cat is not None and len(cat.parts) == 3
    assert (np.sum(cat.parts, axis=0) == cat.per_entry).all() and (cat.per_entry > 0).all()
    assert [abs(int(x.sum()) - k) <= 1 for x, k in zip(cat.parts, (700, 0, 300))] == [True] * 3
    assert (w.video_status[cat.ids] == Status.STALLED).all() and len(np.unique(cat.ids)) == len(cat.ids)
    assert (cat.topic == w.video_topics[cat.ids, 0]).all()
    assert (np.repeat(np.arange(len(cat.ids)), cat.per_entry) == cat.slot).all()


@pytest.mark.slow
def test_the_world_does_not_depend_on_the_step_length():
    """The same mid-size world run 24 h in 10-minute and in 60-minute steps: the same
    live pools and tier-0 pass rate, within noise (the full figures, on demo over a
    week, come from benchmarks/bench_steps.py)."""
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import parse_scenario

    sc = parse_scenario(
        {
            "world": {
                "n_topics": 12,
                "n_creators": 400,
                "n_videos": 5000,
                "n_viewers": 20_000,
                "n_sounds": 150,
                "countries": ["US", "DE", "BR"],
                "history_days": 3.0,
                "warmup_hours": 24.0,
            }
        },
        label="mid",
    )
    figures = {}
    for minutes in (10, 60):
        w = build_world(sc, 5)
        p = EngineParams.from_world(w)
        rows = simulate.run(w, p, 5, 24.0, step_minutes=minutes).hourly
        live = np.mean([r["live"] for r in rows[6:]])
        prom = sum(r["promoted_by_tier"][0] for r in rows)
        decided = prom + sum(r["stalled_by_tier"][0] for r in rows)
        figures[minutes] = (live, prom / decided, rows)
        assert all(r["promoted_by_tier"][0] > 0 for r in rows), "tier-0 promotions in every hour"
    (live10, pass10, rows10), (live60, pass60, _) = figures[10], figures[60]
    assert live10 == pytest.approx(live60, rel=0.25), (live10, live60)
    assert pass10 == pytest.approx(pass60, rel=0.25), (pass10, pass60)
    bar24 = rows10[23]["bars"][0]
    assert all(abs(r["bars"][0] - bar24) < 0.25 for r in rows10[1:]), "the tier-0 bar swung"


def test_a_trend_revives_recent_videos_more_than_old_ones(tiny_world):
    """Re-ignition's rate halves with every ``reignite_age_half_life_hours`` of a video's
    age: stalled videos two half-lives old come back about a quarter as often."""
    p = dataclasses.replace(EngineParams.from_world(tiny_world), reignite_rate=0.5, reignite_age_half_life_hours=100.0)
    n = tiny_world.n_videos
    old = np.arange(n) % 2 == 1
    revived = np.zeros(2)
    for seed in range(20):
        w = tiny_world.copy()
        now = w.clock + 1_000.0
        w.video_status[:n] = Status.STALLED
        w.video_tier_entered[:n] = now - 100.0  # past the cooldown
        w.video_upload_time[:n] = np.where(old, now - 200.0, now)
        hot = np.ones(w.n_sounds)
        events = ladder.reignite(w, p, np.random.default_rng(seed), now, 1.0, hot, np.zeros(w.n_hashtags))
        v = np.array([e.video for e in events], dtype=np.int64)
        revived += [(~old[v]).sum(), old[v].sum()]
    # P(fresh) = 1 - e^-0.5 = 0.39; P(two half-lives) = 1 - e^-0.125 = 0.12: a ratio of 0.30
    ratio = revived[1] / revived[0]
    assert revived[0] > 0.3 * 20 * (n // 2)
    assert 0.22 < ratio < 0.38


def test_the_live_world_stays_steady_over_months(tiny_world):
    """A world run for two months keeps about as many live videos as in its first weeks
    (re-ignition once revived a share of every stalled video ever, so the live crowd
    grew with the world's age: 26 live at day 10, 142 at day 60)."""
    from fyp_tui.engine.hourly import Hourly

    p = EngineParams.from_world(tiny_world)
    hourly = Hourly(tiny_world, p)
    simulate.run(tiny_world, p, 3, 1_440, step_minutes=60, observers=[hourly])
    live = np.array([r["live"] for r in hourly.rows])
    early, late = live[100:340].mean(), live[1_200:].mean()
    assert 0.5 < late / early < 2.0, (early, late)


def test_a_block_of_short_steps_draws_each_steps_impressions_and_uploads_by_their_own_law(tiny_world):
    """``run`` draws a block of short steps' impressions at once, then deals each impression
    to one of the steps at random (Poisson splitting): each step's count per viewer is
    Poisson(rate x dt), independent of the other steps'; each step's uploads are the
    block's with upload times in that step."""
    w = tiny_world
    p = EngineParams.from_world(w)
    rate = simulate._rate(w, p)
    m, dt, blocks = 6, 0.5, 40
    rng = np.random.default_rng(3)
    counts = np.zeros((blocks, m, w.n_viewers))
    marked = [0, 0]  # control impressions, all impressions
    for b in range(blocks):
        ahead = simulate._Ahead(w, p, rng, w.clock, dt, m)
        for j in range(m):
            (targeted, control), last = ahead.take()
            assert last == (j == m - 1)
            assert (np.diff(control) >= 0).all()  # (the control slice's viewers, sorted)
            (imp,) = targeted  # (one chunk: the tiny world's steps are small)
            counts[b, j] = np.bincount(np.concatenate([imp, control]), minlength=w.n_viewers)
            marked[0] += len(control)
            marked[1] += len(imp) + len(control)
    per_step = counts.reshape(-1, w.n_viewers)
    mean, var = per_step.mean(axis=0), per_step.var(axis=0)
    heavy = rate * dt > 1.0
    assert heavy.sum() > 20
    # mean and variance both rate x dt (Poisson), viewer by viewer over the heavy ones
    assert np.median(mean[heavy] / (rate[heavy] * dt)) == pytest.approx(1.0, abs=0.05)
    assert np.median(var[heavy] / (rate[heavy] * dt)) == pytest.approx(1.0, abs=0.1)
    # two steps of a block are uncorrelated (a multinomial split of a fixed total would not be)
    a, c = counts[:, 0, heavy].reshape(-1), counts[:, 1, heavy].reshape(-1)
    lam = np.tile(rate[heavy] * dt, blocks)
    assert np.mean((a - lam) * (c - lam)) / lam.mean() == pytest.approx(0.0, abs=0.05)
    # each impression the control slice's with probability control_fraction
    cf = p.control_fraction
    assert marked[0] / marked[1] == pytest.approx(cf, abs=4 * (cf * (1 - cf) / marked[1]) ** 0.5)
    # uploads: the block's, each in the step its time falls in, in time order
    w2 = tiny_world.copy()
    p2 = dataclasses.replace(p, upload_scale=max(p.upload_scale, 1.0) * 50)
    t0, n0 = w2.clock, w2.n_videos
    ahead = simulate._Ahead(w2, p2, np.random.default_rng(4), t0, dt, m)
    assert ahead.uploads is not None and len(ahead.uploads.times) > 2 * m
    for j in range(m):
        drawn, last = ahead.take()
        before = w2.n_videos
        uploads.add_due(w2, ahead.uploads, None if last else t0 + (j + 1) * dt)
        got = w2.video_upload_time[before : w2.n_videos]
        assert ((got >= t0 + j * dt - 1e-9) & (got < t0 + (j + 1) * dt + 1e-9)).all()
    assert w2.n_videos - n0 == len(ahead.uploads.times)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), minutes=st.sampled_from([5.0, 10.0, 20.0]))
def test_same_seed_same_world_in_short_steps(tiny_world, assert_same_world, seed, minutes):
    """Short steps (drawn by blocks) are as reproducible as any: same seed and step, same world."""
    a, b = tiny_world.copy(), tiny_world.copy()
    p = EngineParams.from_world(a)
    ra = simulate.run(a, p, seed, 2.5, step_minutes=minutes)
    rb = simulate.run(b, p, seed, 2.5, step_minutes=minutes)
    assert_same_world(a, b)
    assert ra.deterministic() == rb.deterministic()


def test_a_blocks_catalogue_in_viewer_chunks_serves_each_waiting_impression_once(
    tiny_world, assert_same_world, monkeypatch
):
    """A block's catalogue big enough for two threads is served in two chunks of viewers
    (each touching only its viewers' rows of ``aud_pref``): every impression the block's
    pools left over is served or dropped exactly once, in the chunk of its viewer, and
    the world comes out the same run after run, whatever the threads' timing."""
    w = tiny_world
    p = EngineParams.from_world(w)
    simulate.run(w, p, 1, 6.0)  # (some videos stalled: a catalogue)
    # ten times the impressions: more than the pools absorb
    p = dataclasses.replace(p, threads=2, impressions_per_viewer_hour=10 * float(w.aud_activity.mean()))
    per_step = simulate._rate_and_total(w, p)[1] / 12
    # a 5-minute step stays in one chunk (its catalogue waits), an hour's leftovers split in two
    monkeypatch.setattr(simulate, "PARALLEL_MIN", int(per_step * 1.5))
    seen = []
    real = simulate._block_catalogue

    def spy(world, params, rng, mid, ahead):
        waiting = np.concatenate(ahead.left)
        ids, served, dropped = real(world, params, rng, mid, ahead)
        assert dropped == 0 and len(served) == 2
        # each chunk served or dropped the waiting impressions of its half of the viewers
        half = int((waiting < simulate._cut(world.n_viewers, 2)[1]).sum())
        assert [s.impressions + s.dropped for s in served] == [half, len(waiting) - half]
        seen.append(sum(s.impressions for s in served))
        return ids, served, dropped

    monkeypatch.setattr(simulate, "_block_catalogue", spy)
    a, b = w.copy(), w.copy()
    ra = simulate.run(a, p, 7, 3.0, step_minutes=5)
    simulate.run(b, p, 7, 3.0, step_minutes=5)
    assert_same_world(a, b)
    assert len(seen) == 6  # (two runs of three blocks)
    assert ra.catalogue_impressions == sum(seen[:3]) > 0


def test_a_blocks_waiting_engagement_reaches_the_trends_as_step_by_step(tiny_world):
    """The engagement of an impression that waited for its block's catalogue goes into the
    trends and their fatigue with the factors the block's later steps' decays would have
    given it (``_Ahead.trend_weights``): checked against those decays, step by step."""
    w = tiny_world
    p = EngineParams.from_world(w)
    m, dt = 6, 1.0 / 6.0
    ahead = simulate._Ahead(w, p, np.random.default_rng(1), w.clock, dt, m)
    for j in range(m - 1):  # one impression waits at each step but the last
        ahead.take()
        ahead.wait(np.array([j]))
    ahead.take()
    assert ahead.last
    wt, wf = ahead.trend_weights()
    assert len(wt) == len(wf) == m - 1
    for j in range(m - 1):
        ww = w.copy()
        ww.sound_trend[:] = 0.0
        fs, _ = trends.fatigue(ww)
        fs[:] = 0.0
        ww.sound_trend[0] = 1.0  # credited at step j (after its decay) ...
        for _ in range(j + 1, m):  # ... then each later step decays first
            trends.decay(ww, p, dt)
        assert ww.sound_trend[0] == pytest.approx(wt[j], rel=1e-12)
        assert trends.fatigue(ww)[0][0] == pytest.approx(wf[j], rel=1e-12)
    assert wt[-1] < 1.0 and wf[0] > wf[-1] > 0.0


class _Steps:
    def __init__(self):
        self.rows: list[simulate.StepResult] = []

    def observe(self, world, params, result):
        self.rows.append(result)


@pytest.mark.parametrize("hours", [1.0, 2.5])
def test_short_steps_serve_the_catalogue_once_per_block_and_count_every_impression_once(tiny_world, hours):
    """In short steps (blocks of about an hour, a last partial block included), only a
    block's last step serves the catalogue (what the pools left over in its earlier steps
    waits for it); every impression served lands in the lifetime counters exactly once,
    each follow in its creator's followers, and nothing waiting is lost."""
    w = tiny_world
    p = EngineParams.from_world(w)
    simulate.run(w, p, 6, 24.0)  # (stalled videos: a catalogue)
    n0 = w.n_videos
    views0 = int(w.video_counts[:n0, Signal.VIEW].sum())
    follows0 = int(w.video_counts[:n0, Signal.FOLLOW].sum())
    followers0 = int(w.creator_followers.sum())
    steps = _Steps()
    r = simulate.run(w, p, 7, hours, step_minutes=10, observers=[steps])
    assert r.catalogue_impressions > 0 and r.impressions > r.catalogue_impressions
    cat = [s.catalogue for s in steps.rows]
    last = {i for i in range(len(cat)) if i % 6 == 5} | {len(cat) - 1}  # (blocks of 6 ten-minute steps)
    assert all(c == 0 for i, c in enumerate(cat) if i not in last), cat
    assert all(cat[i] > 0 for i in last), cat
    n = w.n_videos
    assert int(w.video_counts[:n, Signal.VIEW].sum()) - views0 == r.impressions
    assert int(w.creator_followers.sum()) - followers0 == int(w.video_counts[:n, Signal.FOLLOW].sum()) - follows0
    assert (w.video_counts[:n, Signal.VIEW] >= w.video_tier_counts[:n, Signal.VIEW]).all()
    # what the audience drew is served or dropped, at each step or at its block's end
    assert r.dropped_impressions == 0


def test_a_blocks_stand_in_catalogue_engagement_is_taken_back_out_at_its_end(tiny_world):
    """While a block's catalogue waits, the block before's catalogue engagement per step
    stands in for it in the trends (``_Ahead.stand_in``); the block's end takes the
    stand-ins back out, decayed as they were, so the trends and their fatigue end as if
    they had never been added (here with no catalogue engagement of the block's own)."""
    w = tiny_world
    p = EngineParams.from_world(w)
    m, dt = 6, 1.0 / 6.0
    rate = (np.full(w.n_sounds, 5.0), np.full(w.n_hashtags, 3.0))
    ahead = simulate._Ahead(w, p, np.random.default_rng(2), w.clock, dt, m, rate)
    ref = w.copy()
    for _ in range(m):
        ahead.take()
        for x in (w, ref):
            trends.decay(x, p, dt)
        ahead.stand_in(w)
        if not ahead.last:
            assert (w.sound_trend > ref.sound_trend).all()  # (standing in)
    np.testing.assert_allclose(w.sound_trend, ref.sound_trend, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(w.hashtag_trend, ref.hashtag_trend, rtol=1e-9, atol=1e-9)
    for a, b in zip(trends.fatigue(w), trends.fatigue(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    assert ahead.next_rate is None  # (no catalogue engagement drawn: nothing stands in next)


def test_decide_crossed_takes_the_decisions_decide_takes(tiny_world):
    """A step hands the pool videos whose looks it crossed straight to
    ``ladder.decide_crossed``: the same events, draws and world as ``ladder.decide`` finding
    them among every live video from the same batch."""
    w = tiny_world
    p = EngineParams.from_world(w).for_world(w)
    simulate.run(w, p, 4, 2.0)
    n = w.n_videos
    live = np.flatnonzero(w.video_status[:n] == Status.ACTIVE)
    live = live[ladder.heat(w, p, live, w.clock + 0.1) >= p.fade_floor]  # (none fading: the step's case)
    rng = np.random.default_rng(8)
    # a batch of views and likes that carries many of them across a look
    delta = np.zeros((len(live), w.video_tier_counts.shape[1]), np.int64)
    delta[:, Signal.VIEW] = rng.integers(0, 3 * p.min_sample, len(live))
    delta[:, Signal.LIKE] = rng.binomial(delta[:, Signal.VIEW], 0.3)
    w.video_tier_counts[live] += delta
    a, b = w.copy(), w.copy()
    now = w.clock + 0.1
    ea = ladder.decide(a, p, live, now, served=(live, delta), since=w.clock, rng=np.random.default_rng(1))
    tier = np.minimum(b.video_tier[live].astype(np.int64), p.top_tier)
    looks = ladder.look_views(p)[tier]
    after = b.video_tier_counts[live, Signal.VIEW]
    cross = (looks > (after - delta[:, Signal.VIEW])[:, None]) & (looks <= after[:, None])
    at = np.flatnonzero(cross.any(axis=1))
    assert len(at) > 5
    eb = ladder.decide_crossed(
        b,
        p,
        live[at],
        tier[at],
        looks[at],
        after[at],
        delta[at],
        cross[at],
        now,
        since=w.clock,
        rng=np.random.default_rng(1),
    )
    assert ea == eb and any(isinstance(e, Promoted) for e in ea) and any(isinstance(e, Stalled) for e in ea)
    for name in ("video_status", "video_tier", "video_tier_counts", "video_tier_entered"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
