"""The person's feed session on the tiny world: ranking rules, learning, reactions
in the pools, going back, cold start, Refresh, explanations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fyp_tui.engine import candidates, ranking
from fyp_tui.engine.events import Promoted
from fyp_tui.engine.feed import REACTIONS, FeedSession
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.viewer import REACTION_STRENGTH, SKIP_SECONDS, PersonState, watch_strength
from fyp_tui.engine.world import Signal, Status
from fyp_tui.errors import UsageError


class Live(tuple):
    """(world, params) with a short repr (hypothesis prints the arguments of a failure)."""

    def __repr__(self) -> str:
        return "<live tiny world>"


@pytest.fixture(scope="module")
def _live_tiny():
    """The tiny world after 8 simulated hours: tiers, counters and trends exist."""
    from fyp_tui.engine import simulate
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario

    sc = load_scenario("tiny")
    world = build_world(sc, sc.seed)
    params = EngineParams.from_world(world)
    simulate.run(world, params, 1, 8.0)
    return Live((world, params))


@pytest.fixture
def live(_live_tiny):
    world, params = _live_tiny
    return world.copy(), params


def session(world, params, person=None, seed=0, journal=None) -> FeedSession:
    person = person or PersonState.new(world)
    return FeedSession(world, params, person, 1, np.random.default_rng(seed), journal)


# -- the person's state ------------------------------------------------------------------------


def test_person_state_round_trips_through_json(live):
    world, params = live
    s = session(world, params)
    for _ in range(15):
        v = s.next()
        s.watched(v, 3.0)
    v = s.current()
    for kind in ("like", "favourite", "follow", "not_interested_sound", "mute_hashtag"):
        s.react(v, kind)
    d = json.loads(json.dumps(s.person.to_dict()))
    back = PersonState.from_dict(d, n_topics=world.n_topics)
    assert back.to_dict() == s.person.to_dict()
    assert back.seen == s.person.seen and back.history == s.person.history
    # the per-reaction form leaves out `seen` only
    small = s.person.to_dict(seen=False)
    assert "seen" not in small and set(small) == set(d) - {"seen"}


def test_signal_strengths_are_ordered_as_the_platform_describes():
    skip = watch_strength(SKIP_SECONDS / 2, 30.0)
    partial = watch_strength(10.0, 30.0)
    short_done = watch_strength(10.0, 10.0)
    long_done = watch_strength(90.0, 90.0)
    looped = watch_strength(180.0, 90.0, loops=1)
    assert skip < 0 < short_done < long_done < looped
    assert skip < partial < short_done
    # a like, share or follow is stronger than watch time alone; not interested is strongest
    for kind in ("like", "share", "follow"):
        assert REACTION_STRENGTH[kind] >= 1.0 > short_done
    strongest = max(abs(v) for v in REACTION_STRENGTH.values())
    assert abs(REACTION_STRENGTH["not_interested_video"]) == strongest
    assert REACTION_STRENGTH["not_interested_video"] < 0


def test_learning_moves_the_video_topics(live):
    world, params = live
    s = session(world, params)
    v = s.next()
    main = int(world.video_topics[v, 0])
    before = s.person.interests.copy()
    s.watched(v, 2 * float(world.video_duration[v]), loops=1)
    after_watch = s.person.interests.copy()
    assert after_watch[main] > before[main]
    s.react(v, "like")
    assert s.person.interests[main] - after_watch[main] > after_watch[main] - before[main]
    s.react(v, "not_interested_video")
    assert s.person.interests[main] < before[main]


# -- ranking rules -------------------------------------------------------------------------------

actions = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=3.0),  # seconds watched, as a fraction of the duration
        st.sampled_from(
            ["none"] * 12
            + [
                "like",
                "share",
                "follow",
                "not_interested_video",
                "not_interested_creator",
                "not_interested_sound",
                "mute_hashtag",
            ]
        ),
    ),
    min_size=120,
    max_size=200,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions, knob=st.floats(min_value=0.0, max_value=1.0), seed=st.integers(0, 2**16))
def test_rules_hold_over_long_sessions(_live_tiny, steps, knob, seed):
    world, params = _live_tiny
    world = world.copy()
    person = PersonState.new(world, knob=knob)
    s = session(world, params, person, seed=seed)
    shown: list[int] = []
    banned_v, banned_c, banned_s, banned_h = set(), set(), set(), set()
    for frac, kind in steps:
        try:
            v = s.next()
        except UsageError:
            # the tiny world can run dry under heavy filtering: then truly nothing is left
            assert not candidates.allowed(world, s.rs, np.arange(world.n_videos)).any()
            break
        c, snd = int(world.video_creator[v]), int(world.video_sound[v])
        tags = {int(t) for t in world.video_tags[v] if t >= 0}
        # nothing seen twice, nothing marked not interested comes back
        assert v not in shown
        assert v not in banned_v and c not in banned_c and snd not in banned_s and not tags & banned_h
        # never the same creator or sound twice in a row, unless every allowed video
        # left shares one of them (the last resort: the sound rule gives way first)
        if shown:
            prev_c, prev_s = int(world.video_creator[shown[-1]]), int(world.video_sound[shown[-1]])
            if c == prev_c or snd == prev_s:
                left = np.flatnonzero(candidates.allowed(world, s.rs, np.arange(world.n_videos)))
                left = left[left != v]
                other_c = world.video_creator[left] != prev_c
                assert not (other_c & (world.video_sound[left] != prev_s)).any()
                if c == prev_c:
                    assert not other_c.any()
        shown.append(v)
        if kind != "none":
            s.react(v, kind)
            if kind == "not_interested_video":
                banned_v.add(v)
            elif kind == "not_interested_creator":
                banned_c.add(c)
            elif kind == "not_interested_sound":
                banned_s.add(snd)
            elif kind == "mute_hashtag":
                banned_h |= s.person.muted_hashtags
        s.watched(v, frac * float(world.video_duration[v]))
    assert s.person.history == shown


def test_diversity_floor_caps_a_topic_in_the_window(live):
    world, params = live
    person = PersonState.new(world, knob=1.0)
    person.interests[:] = -1.0
    person.interests[1] = 3.0  # an extreme taste for one topic
    s = session(world, params, person)
    topics = []
    for _ in range(60):
        v = s.next()
        topics.append(int(world.video_topics[v, 0]))
        s.watched(v, 2 * float(world.video_duration[v]), loops=1)
    window = s.ranking.window
    limit = ranking.topic_limit(1.0, window)
    assert limit == 4
    for i in range(1, len(topics) + 1):
        assert topics[max(0, i - window) : i].count(1) <= limit


def test_ranking_never_reads_hidden_truth(live):
    world, params = live
    other = world.copy()
    rng = np.random.default_rng(5)
    other.video_quality[:] = rng.random(len(other.video_quality))
    other.creator_skill[:] = rng.random(other.n_creators)
    other.aud_topics[:] = rng.integers(0, other.n_topics, other.aud_topics.shape)
    other.aud_topic_w[:] = rng.random(other.aud_topic_w.shape)
    other.aud_like_prop[:] = 10 * rng.random(other.n_viewers)
    a, b = session(world, params, seed=3), session(other, params, seed=3)
    for i in range(80):
        va, vb = a.next(), b.next()
        assert va == vb
        kind = ("like", "share", "follow", "none")[i % 4]
        for s, v in ((a, va), (b, vb)):
            if kind != "none":
                s.react(v, kind)
            s.watched(v, 4.0)
    assert a.explain(va).to_dict() == b.explain(vb).to_dict()


def test_rank_is_batch_first(live):
    world, params = live
    s = session(world, params)
    ids, scores, picks, scored, flags = ranking.rank(world, s.rs, s.person, world.clock, np.random.default_rng(0), k=5)
    assert len(ids) == len(scores) == 5 and len(set(ids.tolist())) == 5
    assert len(scored.ids) == len(flags) == len(scored.total)
    # the named parts add up to the score of every candidate
    assert np.allclose(np.sum(list(scored.parts.values()), axis=0), scored.total)


@given(seed=st.integers(0, 10_000), ks=st.lists(st.integers(0, 40), min_size=1, max_size=6))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sources_filtered_together_equal_one_at_a_time(_live_tiny, seed, ks):
    """The one-pass filter of the sampled sources keeps, for each source, exactly what
    drawing and filtering that source alone would keep (same rng stream)."""
    world, params = _live_tiny
    s = session(world, params)
    n = world.n_videos
    rs = s.rs
    marks = np.random.default_rng(seed).integers(0, n, size=n // 4)
    rs.seen[marks[: len(marks) // 2]] = True
    rs.ni_video[marks[len(marks) // 2 :]] = True
    topic_mask = np.zeros(world.n_topics, bool)
    topic_mask[: world.n_topics // 3] = True
    rules = [candidates._ANY, candidates._LOCAL, candidates._OUTSIDE]
    specs = [(np.arange(i, n, len(ks) + 1), k, 1 + i % 3, i % 2 == 1, rules[i % 3]) for i, k in enumerate(ks)]

    draws = candidates._Draws(np.random.default_rng(seed))
    for pool, k, over, vetted, rule in specs:
        draws.take(pool, k, 1, over=over, vetted=vetted, rule=rule)
    together = draws.filter(world, rs, s.person, topic_mask)

    rng = np.random.default_rng(seed)
    for (pool, k, over, vetted, rule), got in zip(specs, together, strict=True):
        sel = candidates._sample(pool, k * over, rng)
        sel = sel[~rs.seen[sel] & ~rs.ni_video[sel] & (world.video_status[sel] != Status.STALLED)]
        if vetted:
            sel = sel[world.video_tier[sel] >= 1]
        if rule == candidates._LOCAL:
            sel = sel[world.video_country[sel] == s.person.country]
        if rule == candidates._OUTSIDE:
            sel = sel[~topic_mask[world.video_topics[sel, 0]]]
        assert np.array_equal(got, sel[:k])


# -- navigation -----------------------------------------------------------------------------------


def test_previous_reshows_history_without_a_new_recommendation(live):
    world, params = live
    s = session(world, params)
    assert s.current() is None and s.previous() is None
    first = [s.next() for _ in range(4)]
    assert s.current() == first[-1]
    assert s.previous() == first[2]
    assert s.previous() == first[1]
    assert s.current() == first[1] and not s.at_latest
    assert s.next() == first[2] and s.next() == first[3]
    assert len(s.person.history) == 4 and s.at_latest
    new = s.next()
    assert new not in first and len(s.person.history) == 5
    for _ in range(10):
        s.previous()
    assert s.current() == first[0] and s.previous() is None


# -- the person in the pools ------------------------------------------------------------------------


def test_impressions_and_reactions_count_in_the_pools(live):
    world, params = live
    s = session(world, params)
    v = s.next()
    before = world.video_counts[v].copy()
    s.watched(v, float(world.video_duration[v]))
    after = world.video_counts[v]
    assert after[Signal.VIEW] == before[Signal.VIEW] + 1
    assert after[Signal.FULL_WATCH] == before[Signal.FULL_WATCH] + 1
    s.react(v, "like")
    assert s.react(v, "like") == []  # a second like changes nothing
    assert world.video_counts[v, Signal.LIKE] == before[Signal.LIKE] + 1
    s.react(v, "unlike")
    assert world.video_counts[v, Signal.LIKE] == before[Signal.LIKE]
    v2 = s.next()
    s.watched(v2, SKIP_SECONDS / 4)
    assert world.video_counts[v2, Signal.SKIP] >= 1


def test_a_share_that_tips_a_promotion_says_so(live):
    from fyp_tui.engine import ladder

    world, params = live
    # a test-pool video one impression short of its budget, half its views skipped
    n = world.n_videos
    v = int(np.flatnonzero((world.video_tier[:n] == 0) & (world.video_status[:n] == Status.ACTIVE))[0])
    budget = params.ladder[0]
    counts = np.zeros(len(Signal), np.int64)
    counts[Signal.VIEW] = budget - 1
    counts[Signal.SKIP] = budget // 2
    world.video_tier_counts[v] = counts
    world.video_counts[v] = counts
    bar = float(ladder.promotion_bar(params, [0], world)[0])

    def lcb_with(extra_share: int) -> float:
        c = world.video_tier_counts[v].copy()
        c[Signal.VIEW] += 1
        c[Signal.SHARE] += extra_share
        saved = world.video_tier_counts[v].copy()
        world.video_tier_counts[v] = c  # (the watch term as the decision will see it)
        watch = ladder.watch_term(world, params, np.array([v]))
        world.video_tier_counts[v] = saved
        return float(ladder.score_counts(c, params.weight_vector(), params.z, watch)[1][0])

    # the audience's shares: as many as leave the budget's look just under the bar
    while lcb_with(1) < bar:
        world.video_tier_counts[v, Signal.SHARE] += 1
    assert lcb_with(0) < bar <= lcb_with(1)
    s = session(world, params)
    # the person's share opens their impression: the last view of the budget, with a share
    events = s.react(v, "share")
    promoted = [e for e in events if isinstance(e, Promoted)]
    assert promoted and promoted[0].tipped_by == "share" and promoted[0].profile == 1
    assert promoted[0].instead == "stalled"
    assert world.video_tier[v] == 1
    # a second share is journaled but not counted again
    shares = int(world.video_counts[v, Signal.SHARE])
    assert s.react(v, "share") == [] and int(world.video_counts[v, Signal.SHARE]) == shares


def test_is_first_viewer_marks_test_pool_videos(live):
    world, params = live
    s = session(world, params)
    n = world.n_videos
    fresh = np.flatnonzero(
        (world.video_tier[:n] == 0)
        & (world.video_status[:n] == Status.ACTIVE)
        & (world.video_tier_counts[:n, Signal.VIEW] < s.ranking.first_viewer_views)
    )
    vetted = np.flatnonzero(world.video_tier[:n] >= 1)
    assert len(fresh) and len(vetted)
    assert s.is_first_viewer(int(fresh[0]))
    assert not s.is_first_viewer(int(vetted[0]))


def test_follow_and_unfollow_change_followers(live):
    world, params = live
    s = session(world, params)
    v = s.next()
    c = int(world.video_creator[v])
    f0 = int(world.creator_followers[c])
    s.react(v, "follow")
    assert c in s.person.follows and world.creator_followers[c] == f0 + 1
    s.react(v, "unfollow")
    assert c not in s.person.follows and world.creator_followers[c] == f0


def test_unknown_reaction_and_video_are_usage_errors(live):
    world, params = live
    s = session(world, params)
    v = s.next()
    with pytest.raises(UsageError):
        s.react(v, "dislike")
    with pytest.raises(UsageError):
        s.watched(world.n_videos + 5, 1.0)
    assert set(REACTIONS) >= {"like", "share", "mute_hashtag"}


# -- cold start, onboarding, Refresh ----------------------------------------------------------------


def _midrank_percentile(values: np.ndarray, picked: list[int]) -> float:
    """Mean percentile of ``values[picked]`` among all ``values``, ties counted half
    (so a picked value shared by many videos sits in the middle of its tie, not above it)."""
    return float(
        np.mean([((values < values[v]).sum() + 0.5 * (values == values[v]).sum()) / len(values) for v in picked])
    )


def test_cold_start_begins_with_popular_vetted_videos(live):
    world, params = live
    n = world.n_videos
    s = session(world, params)
    first = [s.next() for _ in range(10)]
    # vetted: passed their test pool (tier >= 1), far above the world's share of such videos
    base = float((world.video_tier[:n] >= 1).mean())
    assert base < 0.5  # otherwise "mostly vetted" would say nothing on this world
    assert (world.video_tier[first] >= 1).mean() >= 0.7
    # drawn from the cold-start sources (the popular list, vetted videos of the person's
    # country, what trends), not from interests; the test-pool slot keeps its 1 card in 8
    # (an open broad slot leaves out what only the local source brought, issue 12)
    sources = [set(s.explain(v).to_dict()["sources"]) for v in first]
    assert all(src & {"popular", "local", "trending"} or "test pool" in src for src in sources), sources
    assert not any("interest" in src for src in sources)
    assert sum(bool(src & {"popular", "local"}) for src in sources) >= 6
    assert sum("popular" in src for src in sources) >= 5
    # popular = well received: their observed engagement per view (likes, shares, full
    # watches) is in the top quarter of the world's. (Raw view counts cannot say it on
    # a young world: they sit at the tier budgets, so most videos tie.)
    c = world.video_counts[:n].astype(np.float64)
    engagement = (c[:, Signal.LIKE] + c[:, Signal.SHARE] + c[:, Signal.FULL_WATCH]) / np.maximum(c[:, Signal.VIEW], 1)
    assert _midrank_percentile(engagement, first) >= 0.75


def test_onboarding_topics_lead_the_first_videos(live):
    world, params = live
    counts = np.bincount(world.video_topics[: world.n_videos, 0], minlength=world.n_topics)
    picked = [int(t) for t in np.argsort(-counts)[:2]]
    person = PersonState.new(world, topics=picked)
    s = session(world, params, person)
    first = [s.next() for _ in range(10)]
    share = np.isin(world.video_topics[first, 0], picked).mean()
    assert share >= 0.6


def test_refresh_resets_interests_but_keeps_follows_and_filters(live):
    world, params = live
    s = session(world, params)
    v = s.next()
    s.watched(v, 3 * float(world.video_duration[v]), loops=2)
    s.react(v, "follow")
    v2 = s.next()
    s.react(v2, "not_interested_creator")
    assert np.abs(s.person.interests).sum() > 0
    s.refresh()
    assert np.abs(s.person.interests).sum() == 0
    assert int(world.video_creator[v]) in s.person.follows
    assert int(world.video_creator[v2]) in s.person.ni_creators
    assert v in s.person.seen
    shown = [s.next() for _ in range(30)]
    assert not np.isin(world.video_creator[shown], [int(world.video_creator[v2])]).any()


def test_knob_and_onboarding_validate(live):
    world, params = live
    s = session(world, params)
    with pytest.raises(UsageError):
        s.set_knob(1.5)
    with pytest.raises(UsageError):
        s.onboard([world.n_topics])
    s.set_knob(0.8)
    assert s.person.knob == 0.8


# -- why this video ---------------------------------------------------------------------------------


def test_explanation_names_its_contributions_and_tier(live):
    world, params = live
    person = PersonState.new(world, topics=[0])
    s = session(world, params, person)
    v = s.next()
    s.watched(v, 5.0)
    e = s.explain(v)
    d = json.loads(json.dumps(e.to_dict()))
    names = [c["name"] for c in d["contributions"]]
    assert "observed engagement" in names and "diversity adjustment" in names
    assert any(n.startswith("interest: ") for n in names)
    assert abs(sum(c["value"] for c in d["contributions"]) - d["score"]) < 1e-9
    assert d["tier"] == int(world.video_tier[v]) and d["views"] == int(world.video_counts[v, Signal.VIEW])
    if d["budget"] is not None:
        assert d["budget_progress"] == pytest.approx(d["impressions_in_tier"] / d["budget"])
        if d["tier_lcb"] is None:  # no bound yet (too few views in the tier): nothing to measure
            assert d["distance_to_bar"] is None
        else:
            assert d["distance_to_bar"] == pytest.approx(d["bar"] - d["tier_lcb"])
    assert d["sources"]  # it was recommended: the sources that proposed it are known
    for key in ("like", "comment", "share", "follow", "finish", "watch_fraction", "skip"):
        assert 0 <= d["predicted"][key] <= 1.5


def test_explained_exploration_slot_shows_its_lift(live):
    world, params = live
    person = PersonState.new(world, knob=1.0)
    s = session(world, params, person, seed=11)
    for _ in range(40):
        v = s.next()
        s.watched(v, 3.0)
        if s._picked[v][1] is not None:
            e = s.explain(v)
            slot = [c for c in e.contributions if c.name == "exploration slot"]
            assert e.explored and slot and slot[0].value >= 0
            assert "exploration" in e.sources
            return
    pytest.fail("knob 1 never used the exploration slot in 40 videos")


def test_videos_found_early_are_those_seen_in_their_test_pool_that_climbed(live):
    world, params = live
    s = session(world, params)
    n = world.n_videos
    early = [
        int(v) for v in np.flatnonzero((world.video_tier[:n] == 0) & (world.video_status[:n] == Status.ACTIVE))[:2]
    ]
    world.video_tier_counts[early] = 0  # still in their test pool: no views yet
    assert all(s.is_first_viewer(v) for v in early)
    vetted = int(np.flatnonzero(world.video_tier[:n] >= 1)[0])
    assert len(early) == 2
    for v in (*early, vetted):
        s.watched(v, 3.0)
    assert s.person.found_early == early  # only the ones still in their test pool when watched
    assert s.found_early() == []  # nothing has climbed yet
    world.video_tier[early[1]] = 2  # it climbs later (with or without the person)
    assert s.found_early() == [(early[1], 2)]
    again = PersonState.from_dict(s.person.to_dict(seen=False), n_topics=world.n_topics)
    assert again.found_early == early


def test_a_broad_pick_says_so(live):
    """A fresh profile's cards come mostly from broad slots (ranked without learned
    interests, issue 12); explain says which, and a personalised pick does not."""
    world, params = live
    s = session(world, params)
    broad = personal = None
    for _ in range(30):
        v = s.next()
        s.watched(v, 3.0)
        flags, boost, was_broad = s._picked[v]
        if was_broad and broad is None:
            broad = v
        if not was_broad and boost is None and not flags & candidates.PICKED_BY_TEST_SLOT and personal is None:
            personal = v
    assert broad is not None
    assert any("broad slot" in n for n in s.explain(broad).notes)
    if personal is not None:
        assert not any("broad slot" in n for n in s.explain(personal).notes)
