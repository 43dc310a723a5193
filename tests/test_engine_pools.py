"""The tier ladder: score, confidence bounds, decisions, budgets, record(), serving."""

from __future__ import annotations

import numpy as np
import pytest

from fyp_tui.engine import ladder, pools
from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import N_SIGNALS, Signal, Status
from fyp_tui.errors import UsageError


def counts(views, **kw):
    c = np.zeros(N_SIGNALS, np.int64)
    c[Signal.VIEW] = views
    names = {
        "full": Signal.FULL_WATCH,
        "like": Signal.LIKE,
        "share": Signal.SHARE,
        "skip": Signal.SKIP,
        "follow": Signal.FOLLOW,
        "comment": Signal.COMMENT,
        "fav": Signal.FAVOURITE,
        "ni": Signal.NOT_INTERESTED,
    }
    for k, v in kw.items():
        c[names[k]] = v
    return c


P = EngineParams(ladder=(100, 1000, 5000), bars=(0.3, 0.4, 0.5), bar_rate=0.0, min_sample=20)


def live_in_tier0(w, *videos):
    """Put seeded videos back in tier 0's pool (a warmed-up world has stalled most of them)."""
    for v in videos:
        w.video_tier[v] = 0
        w.video_status[v] = Status.ACTIVE
        w.video_tier_entered[v] = 0.0


# -- params ----------------------------------------------------------------------------------


def test_from_dict_rejects_unknown_and_bad_keys():
    with pytest.raises(UsageError, match="engine.nope"):
        EngineParams.from_dict({"nope": 1})
    with pytest.raises(UsageError, match="engine.ladder"):
        EngineParams.from_dict({"ladder": [300, 200]})
    with pytest.raises(UsageError, match="engine.weights.bogus"):
        EngineParams.from_dict({"weights": {"bogus": 1}})
    with pytest.raises(UsageError, match="engine.control_fraction"):
        EngineParams.from_dict({"control_fraction": 2})
    p = EngineParams.from_dict({"ladder": [10, 50, 200], "weights": {"share": 9}})
    assert p.ladder == (10, 50, 200) and len(p.bars) == 3 and p.weights["share"] == 9


def test_signal_weights_rank_share_over_comment_over_like():
    w = EngineParams().weights
    assert w["share"] > w["comment"] > w["like"] > 0


def test_for_world_scales_the_ladder_but_keeps_it_increasing(tiny_world):
    p = EngineParams().for_world(tiny_world)
    assert p.scaled and len(p.ladder) == 6
    assert p.ladder[0] >= p.min_budget
    assert all(b2 >= 2 * b1 for b1, b2 in zip(p.ladder, p.ladder[1:]))
    assert p.ladder[-1] < 2_000_000
    assert p.for_world(tiny_world) is p  # never scaled twice


# -- score and decisions --------------------------------------------------------------------


def test_confidence_bounds_bracket_the_score_and_narrow_with_samples():
    w = P.weight_vector()
    small = counts(40, full=16, like=4, share=1, skip=6)
    big = small * 50
    s1, l1, u1 = ladder.score_counts(small, w, P.z)
    s2, l2, u2 = ladder.score_counts(big, w, P.z)
    assert l1[0] < s1[0] < u1[0]
    assert s1[0] == pytest.approx(s2[0])
    assert (u2 - l2)[0] < (u1 - l1)[0] / 5
    s0, l0, u0 = ladder.score_counts(counts(0), w, P.z)
    assert l0[0] == -np.inf and u0[0] == np.inf


def _codes(views, c, tier=0, status=Status.ACTIVE, hot=1.0, params=P):
    _, lcb, ucb = ladder.score_counts(c, params.weight_vector(), params.z)
    return ladder.decide_codes(
        np.array([tier]), np.array([status]), np.array([views]), lcb, ucb, np.array([hot]), params
    )[0]


def test_a_lucky_handful_does_not_promote():
    # 5 views, all liked and shared: a huge point score, but the bound is wide and the sample tiny
    assert _codes(5, counts(5, full=5, like=5, share=5)) == ladder.KEEP


def test_promotes_early_when_the_lower_bound_clears_the_bar():
    c = counts(40, full=36, like=20, share=8, fav=6)
    assert _codes(40, c) == ladder.PROMOTE
    # same rates below the early threshold (min_sample 20 / 25 % of budget): no decision yet
    assert _codes(10, counts(10, full=9, like=5, share=2, fav=1)) == ladder.KEEP


def test_stalls_at_budget_end_below_the_bar_and_early_when_settled():
    dull = counts(100, full=5, like=1, skip=60, ni=3)
    assert _codes(100, dull) == ladder.STALL_BAR
    assert _codes(30, counts(30, full=1, skip=20, ni=2)) == ladder.STALL_SETTLED
    # a middling video mid-budget waits for more evidence
    assert _codes(30, counts(30, full=10, like=1, skip=6)) == ladder.KEEP


def test_faded_and_site_wide():
    c = counts(30, full=10, like=1, skip=6)
    assert _codes(30, c, hot=0.001) == ladder.STALL_FADED
    top = P.top_tier
    assert _codes(10**9, counts(10**9), tier=top, status=Status.TOP) == ladder.KEEP  # no budget at the top
    assert _codes(10, counts(10), tier=top, status=Status.TOP, hot=0.001) == ladder.STALL_FADED
    assert _codes(1000, counts(1000, full=900, like=600), status=Status.STALLED) == ladder.KEEP


def test_decide_applies_one_step_and_emits_events(tiny_world):
    w = tiny_world
    v = 3
    live_in_tier0(w, v)
    w.video_tier_counts[v] = counts(100, full=90, like=50, share=20, fav=10)
    w.video_tier_entered[v] = 0.0
    ev = ladder.decide(w, P, np.array([v, v]), now=1.0)
    assert len(ev) == 1 and isinstance(ev[0], Promoted)
    e = ev[0]
    assert (e.from_tier, e.to_tier, e.impressions, e.budget) == (0, 1, 100, 1000)
    assert e.score >= e.bar == pytest.approx(0.3)
    assert w.video_tier[v] == 1 and w.video_status[v] == Status.ACTIVE
    assert w.video_tier_counts[v].sum() == 0 and w.video_tier_entered[v] == 1.0
    # the next decision needs new evidence in the new tier
    assert ladder.decide(w, P, np.array([v]), now=1.0) == []


def test_decide_mixed_events_follow_video_order(tiny_world):
    w = tiny_world
    good, bad = [2, 5], [3, 7]
    live_in_tier0(w, 2, 3, 5, 7)
    for v in good:
        w.video_tier_counts[v] = counts(100, full=90, like=50, share=20, fav=10)
    for v in bad:
        w.video_tier_counts[v] = counts(30, full=0, like=0, skip=28)
    ev = ladder.decide(w, P, np.array([7, 2, 5, 3]), now=1.0)
    assert [e.video for e in ev] == [2, 3, 5, 7]
    assert [type(e) for e in ev] == [Promoted, Stalled, Promoted, Stalled]
    assert all(e.tipped_by is None and e.profile is None and type(e.video) is int for e in ev)
    assert "below bar" in ev[1].reason and ev[0].to_tier == ev[0].from_tier + 1


def _marginal_likes(person: np.ndarray, watch=None) -> int:
    """Likes (of 100 views, 40 full watches) at which the budget look promotes with the
    person's signals and stalls without them (``watch``: the video's watch term)."""
    for likes in range(0, 100):
        c = counts(100, full=40, like=likes) + person
        c[Signal.VIEW] = 100
        code = ladder.decide_codes(
            np.array([0]),
            np.array([0]),
            np.array([100]),
            *ladder.score_counts(c, P.weight_vector(), P.z, watch)[1:],
            np.ones(1),
            P,
        )[0]
        if code == ladder.PROMOTE:
            return likes
    raise AssertionError("no marginal video")


def test_a_decision_is_credited_only_when_the_persons_signals_flip_it(tiny_world):
    from fyp_tui.engine.ledger import Ledger

    w = tiny_world
    live_in_tier0(w, 21, 22)
    ledger = Ledger(profile=4)
    for v in (21, 22):
        delta, in_tier = ledger.change(w, v, on=1 << int(Signal.SHARE))
        assert in_tier and delta[Signal.VIEW] == 1 and delta[Signal.SHARE] == 1
    mine = counts(1, share=1)
    w.video_tier_counts[21] = counts(100)
    likes = _marginal_likes(mine, ladder.watch_term(w, P, np.array([21])))
    w.video_tier_counts[21] = counts(99, full=40, like=likes) + mine  # marginal: the share decides
    w.video_tier_counts[22] = counts(99, full=90, like=60) + mine  # clear: promoted with or without
    ev = ladder.decide(w, P, np.array([21, 22]), now=1.0, people=[ledger])
    assert [type(e) for e in ev] == [Promoted, Promoted]
    assert (ev[0].profile, ev[0].tipped_by, ev[0].instead) == (4, "share", "stalled")
    assert ev[1].tipped_by is None and ev[1].profile is None


def test_bars_adapt_towards_the_target_share_at_a_rate_per_hour(tiny_world):
    p = EngineParams(ladder=(100, 1000, 5000), bars=(0.3, 0.4, 0.5), promote_share=0.25, bar_rate=0.2)
    w = tiny_world
    ladder._note_decisions(w, p, np.array([0, 0, 0, 0]), np.array([True, True, True, True]))
    ladder.adapt_bars(w, p, 0.5)
    up = ladder.current_bars(w, p)
    assert up[0] > 0.3 and up[1] == 0.4  # tier 0: all promoted, the bar rises; no evidence, no move
    ladder._note_decisions(w, p, np.array([1] * 10), np.zeros(10, bool))
    ladder.adapt_bars(w, p, 0.5)
    assert ladder.current_bars(w, p)[1] < 0.4
    assert ladder.promotion_bar(p, [0, 3], w)[0] == ladder.current_bars(w, p)[0]
    assert np.isinf(ladder.promotion_bar(p, [0, 3], w)[1])


def test_a_burst_of_decisions_moves_the_bars_no_faster_than_time_allows(tiny_world):
    # a new world's backlog decides thousands at once: the bar moves by at most rate * dt
    p = EngineParams(ladder=(100, 1000, 5000), bars=(0.3, 0.4, 0.5), promote_share=0.25, bar_rate=0.2)
    w = tiny_world
    ladder._note_decisions(w, p, np.zeros(50_000, np.int64), np.ones(50_000, bool))
    ladder.adapt_bars(w, p, 1.0)
    assert 0.3 < ladder.current_bars(w, p)[0] <= 0.3 + 0.2 * 0.75 + 1e-9


def test_one_hour_of_bar_adaptation_is_the_same_in_one_step_or_twelve(tiny_world):
    p = EngineParams(ladder=(100, 1000, 5000), bars=(0.3, 0.4, 0.5), promote_share=0.25, bar_rate=0.2)
    a, b = tiny_world.copy(), tiny_world.copy()
    ladder._note_decisions(a, p, np.zeros(12, np.int64), np.ones(12, bool))
    ladder.adapt_bars(a, p, 1.0)
    for _ in range(12):
        ladder._note_decisions(b, p, np.zeros(1, np.int64), np.ones(1, bool))
        ladder.adapt_bars(b, p, 1 / 12)
    # the same direction and a comparable distance (the window sees the decisions spread out)
    da, db = ladder.current_bars(a, p)[0] - 0.3, ladder.current_bars(b, p)[0] - 0.3
    assert da > 0 and db > 0 and 0.5 < da / db < 2


def test_looks_are_fixed_impression_counts_of_each_tier():
    looks = ladder.look_views(P)
    assert looks[0].tolist() == [25, 50, 75, 100]
    assert looks[2].tolist() == [1250, 2500, 3750, 5000]
    assert (looks[P.top_tier] == np.iinfo(np.int64).max).all()  # never a look site-wide
    small = ladder.look_views(EngineParams(ladder=(30, 100), bars=(0.3, 0.4), min_sample=20))
    never = np.iinfo(np.int64).max
    assert small[0].tolist() == [20, never, 23, 30]  # min_sample; a repeated count is one look


def test_a_video_is_looked_at_only_where_a_batch_crosses_a_look(tiny_world):
    w = tiny_world
    v = 11
    live_in_tier0(w, v)
    good = counts(40, full=38, like=25, share=9, fav=7)
    w.video_tier_counts[v] = good
    w.video_tier_entered[v] = 0.0
    # 30 -> 40 views crosses no look (25, 50, ...): no decision, however clear the numbers
    assert ladder.decide(w, P, np.array([v]), 1.0, served=(np.array([v]), counts(10, full=10, like=5))) == []
    # 20 -> 40 crosses 25: looked at on the counts at 25 impressions (a thinning of the batch)
    rng = np.random.default_rng(1)
    ev = ladder.decide(
        w, P, np.array([v]), 1.0, served=(np.array([v]), counts(20, full=20, like=15, share=5)), since=0.0, rng=rng
    )
    assert len(ev) == 1 and isinstance(ev[0], Promoted) and ev[0].impressions == 25
    # promoted where the look fell in the batch: a quarter of the way through it
    assert w.video_tier_entered[v] == pytest.approx(0.25)


# -- record: the person's reactions ----------------------------------------------------------


def test_record_counts_like_the_audience_and_decides_at_a_look(tiny_world):
    w = tiny_world
    v = 7
    live_in_tier0(w, v)
    w.video_tier_counts[v] = counts(99, full=80, like=40, share=15, fav=8)
    w.video_counts[v] = w.video_tier_counts[v]
    w.video_tier_entered[v] = 0.0
    before = w.video_counts[v].copy()
    d = counts(1, full=1, like=1)
    ev = ladder.record(w, P, v, d, 12.5, now=0.5)
    assert (w.video_counts[v] == before + d).all()
    assert len(ev) == 1 and isinstance(ev[0], Promoted)
    assert ev[0].impressions == 100  # the budget, never more
    assert ev[0].tipped_by is None  # one impression among 100 does not flip it: no credit
    # a later share: a delta with VIEW=0; "unlike" is clipped at zero
    ladder.record(w, P, v, counts(0, share=1), 0.0, now=0.6)
    assert w.video_counts[v, Signal.SHARE] == before[Signal.SHARE] + 1
    ladder.record(w, P, v, -counts(0, like=10**6), 0.0, now=0.6)
    assert w.video_counts[v, Signal.LIKE] == 0 and w.video_tier_counts[v, Signal.LIKE] == 0


def test_record_without_a_view_takes_no_decision(tiny_world):
    w = tiny_world
    v = 8
    live_in_tier0(w, v)
    w.video_tier_counts[v] = counts(60, full=58, like=40, share=12)
    w.video_tier_entered[v] = 0.0
    assert ladder.record(w, P, v, counts(0, share=1), 0.0, now=0.5) == []
    assert w.video_status[v] == Status.ACTIVE


def test_record_never_exceeds_a_budget(tiny_world):
    w = tiny_world
    v = 9
    live_in_tier0(w, v)
    w.video_tier_counts[v] = counts(100, full=50)  # at its budget (e.g. loaded like that)
    life = int(w.video_counts[v, Signal.VIEW])
    ev = ladder.record(w, P, v, counts(1), 1.0, now=0.0)
    assert w.video_tier_counts[v, Signal.VIEW] == P.ladder[int(w.video_tier[v])]
    assert w.video_counts[v, Signal.VIEW] == life + 1  # counted in lifetime only
    assert ev == []


def test_milestones_fire_once_per_power_of_ten():
    ev = ladder.milestones(P, np.array([1, 2, 3]), np.array([990, 5, 9_999]), np.array([1_001, 6, 120_000]), 1.0)
    assert [(e.video, e.views) for e in ev] == [(1, 1_000), (3, 100_000)]


# -- serving ------------------------------------------------------------------------------


def test_waterfill_serves_lower_tiers_first_and_caps_spare_supply():
    tier = np.array([0, 0, 1, 2])
    want = np.array([10.0, 10.0, 50.0, 100.0])
    short = pools.waterfill(tier, want, 40.0, 3)
    assert short[:2].tolist() == [10.0, 10.0] and short[2] == 20.0 and short[3] == 0.0
    cap = np.array([12.0, 10.0, 60.0, np.inf])
    spare = pools.waterfill(tier, want, 500.0, 3, cap)
    assert spare.sum() == pytest.approx(500.0)
    assert (spare[:3] <= cap[:3] + 1e-9).all() and (spare >= want).all()


# -- video-centric serving (what the step uses) ------------------------------------------------


def test_allocate_never_exceeds_a_budget_or_the_supply(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w)
    sh, hh = np.zeros(w.n_sounds), np.zeros(w.n_hashtags)
    for supply, ctrl in ((50, 5), (5_000, 200), (10**6, 30_000)):
        rng = np.random.default_rng(supply)
        al = pools.allocate(w, p, rng, 0.0, sh, hh, dt=1.0, n_targeted=supply, n_control=ctrl)
        nt = len(al.slot) - al.n_control
        assert nt <= supply and al.n_control + al.dropped_control == ctrl
        got = np.bincount(al.slot, minlength=len(al.ids))
        tier = w.video_tier[al.ids].astype(np.int64)
        bounded = tier < p.top_tier
        left = ladder.tier_budget(p, tier) - w.video_tier_counts[al.ids, Signal.VIEW]
        assert (got[bounded] <= left[bounded]).all()
        # targeted slots come out grouped by (topic, language), as match_viewers' slot_group_counts expect
        key = al.topic[al.slot[:nt]].astype(np.int64) * len(w.language_codes) + w.video_language[al.ids[al.slot[:nt]]]
        assert (np.diff(key) >= 0).all()


def test_systematic_counts_keep_the_mean_and_the_total():
    rng = np.random.default_rng(3)
    x = rng.random(1_000) * 3
    c = pools.systematic_counts(x, rng)
    assert ((c == np.floor(x)) | (c == np.ceil(x))).all()
    assert abs(c.sum() - x.sum()) <= 1
    mean = np.mean([pools.systematic_counts(x, np.random.default_rng(i)) for i in range(400)], axis=0)
    assert np.abs(mean - x).max() < 0.15


def test_match_viewers_uses_each_slot_once_and_targets_learned_topics(tiny_world):
    w = tiny_world
    p = EngineParams.from_world(w)
    rng = np.random.default_rng(4)
    for n, S in ((4_000, 4_000), (4_000, 2_500), (2_500, 4_000), (1, 1), (5, 0)):
        viewers = np.sort(rng.integers(0, w.n_viewers, n)).astype(np.int32)
        vids = rng.integers(0, w.n_videos, S)
        topic = w.video_topics[vids, 0].astype(np.int32)
        pick = pools.match_viewers(w, p, rng, viewers, vids, topic)
        used = pick[pick >= 0]
        assert len(used) == min(n, S) and len(np.unique(used)) == len(used)
    # the pairs beat a random pairing on the platform's learned preference and language
    pref = w.aud_pref.astype(np.float32)
    viewers = np.sort(rng.integers(0, w.n_viewers, 20_000)).astype(np.int32)
    vids = rng.integers(0, w.n_videos, 20_000)
    topic = w.video_topics[vids, 0].astype(np.int32)
    pick = pools.match_viewers(w, p, rng, viewers, vids, topic)
    ok = pick >= 0
    matched = pref[viewers[ok], topic[pick[ok]]].mean()
    shuffled = pref[viewers, rng.permutation(topic)].mean()
    assert matched > 1.5 * shuffled
    same_lang = (w.aud_language[viewers[ok]] == w.video_language[vids[pick[ok]]]).mean()
    assert same_lang > (w.aud_language[viewers] == w.video_language[rng.permutation(vids)]).mean()


def test_match_viewers_with_group_counts_pairs_like_with_group_keys(tiny_world):
    # slots already in group order: the per-group counts give the very same pairs as the
    # per-slot group keys (and the same draws)
    w = tiny_world
    p = EngineParams.from_world(w)
    rng = np.random.default_rng(8)
    sh, hh = np.zeros(w.n_sounds), np.zeros(w.n_hashtags)
    al = pools.allocate(w, p, rng, 0.0, sh, hh, dt=1.0, n_targeted=3_000, n_control=0)
    slots = al.slot
    viewers = np.sort(rng.integers(0, w.n_viewers, 3_500)).astype(np.int32)
    # (the slots are in group order: sorting them by their keys leaves them in place)
    by_key = pools.match_viewers(w, p, np.random.default_rng(3), viewers, al.ids[slots], al.topic[slots])
    counts = pools.group_counts(w, pools.entry_groups(w, al.ids, al.topic), al.per_entry)
    by_count = pools.match_viewers(w, p, np.random.default_rng(3), viewers, slots, slots, slot_group_counts=counts)
    assert (by_key == by_count).all()
    with pytest.raises(ValueError):
        pools.match_viewers(w, p, rng, viewers, slots, slots, slot_group_counts=counts * 2)


def test_top_two_topics_are_two_rounds_of_argmax():
    rng = np.random.default_rng(1)
    blocks = (
        rng.random((3_000, 28)),
        rng.integers(0, 3, (3_000, 28)),  # many ties: the lower topic first
        np.zeros((50, 28)),
        rng.normal(size=(2_000, 40)),  # negative values too
        rng.random((10, 2)),
    )
    for block in blocks:
        pref = block.astype(np.float16)
        key = pref.astype(np.float32)
        first = key.argmax(axis=1)
        key[np.arange(len(key)), first] = -np.inf
        out = np.zeros((len(pref), 2), np.int16)
        pools._top2_f16(pref, out)
        assert (out[:, 0] == first).all() and (out[:, 1] == key.argmax(axis=1)).all()


def test_pair_counts_take_a_cyclic_window_per_group_and_leave_the_rest():
    rng = np.random.default_rng(3)
    cv = np.array([5, 0, 3, 7, 1])
    cs = np.array([2, 4, 3, 9, 0])
    tv, ts, lv, ls, m = pools._pair_counts(cv, cs, rng)
    assert (m == np.minimum(cv, cs)).all()
    for count, taken, left in ((cv, tv, lv), (cs, ts, ls)):
        start = np.cumsum(count) - count
        # each side's positions: taken and left split it exactly, group by group
        assert sorted(np.concatenate([taken, left]).tolist()) == list(range(int(count.sum())))
        group = np.searchsorted(start + count, taken, side="right")
        assert (np.bincount(group, minlength=len(count)) == m).all()
        for g in np.flatnonzero(m):  # a window: consecutive (cyclic) within its group
            local = taken[group == g] - start[g]
            assert ((np.diff(local) - 1) % count[g] == 0).all()
        assert (np.diff(np.searchsorted(start + count, left, side="right")) >= 0).all()


def test_sorted_counts_are_the_bincount():
    rng = np.random.default_rng(4)
    for n, k, dt in (
        (0, 4, np.int16),
        (1, 1, np.int16),
        (5_000, 168, np.int16),
        (300, 32_767, np.int16),
        (50, 3, np.int32),
    ):
        keys = np.sort(rng.integers(0, k, n)).astype(dt)
        assert (pools._sorted_counts(keys, k) == np.bincount(keys, minlength=k)).all()


def test_loops_and_watch_time_count_in_the_tier_score(tiny_world):
    """Issue 12: a full watch and a full watch plus 3 loops no longer score the same."""
    w = tiny_world
    live_in_tier0(w, 21, 22)
    d = float(w.video_duration[21])
    w.video_duration[22] = d
    for v in (21, 22):
        w.video_tier_counts[v] = counts(1, full=1)
    w.video_tier_watch_seconds[21] = d  # watched to the end
    w.video_tier_watch_seconds[22] = 4 * d  # and three loops
    score, _lcb, _ucb = ladder.tier_score(w, P, np.array([21, 22]))
    assert score[1] > score[0] + 0.5
    w.video_tier_watch_seconds[22] = 0.3 * d  # a third of it watched
    assert ladder.tier_score(w, P, np.array([22]))[0][0] < score[0]


def test_followers_count_in_the_tier_score(tiny_world):
    """Issue 12: creator weight is measurable: at equal counters, an established
    creator's video scores higher (weights.creator x log10(1 + followers) / 7) from
    tier 1 on; the test pool (tier 0) judges the video on its own reactions, followers
    or not (issue 11: a new account's first post is not marked down for having none)."""
    w = tiny_world
    live_in_tier0(w, 21, 22)
    w.video_duration[22] = w.video_duration[21]
    for v in (21, 22):
        w.video_tier_counts[v] = counts(50, full=20, like=5)
        w.video_tier_watch_seconds[v] = 40 * float(w.video_duration[21])
    big, small = int(w.video_creator[21]), int(w.video_creator[22])
    assert big != small
    w.creator_followers[big], w.creator_followers[small] = 5_000_000, 0
    score, _lcb, _ucb = ladder.tier_score(w, P, np.array([21, 22]))
    assert score[0] == pytest.approx(score[1]), "tier 0: followers or not"
    w.video_tier[[21, 22]] = 1
    w.creator_followers[small] = 100
    score, _lcb, _ucb = ladder.tier_score(w, P, np.array([21, 22]))
    expected = P.weights["creator"] * (np.log10(5_000_001) - np.log10(101)) / 7
    assert score[0] - score[1] == pytest.approx(expected)
    assert expected > 0.05
