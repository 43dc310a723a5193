"""The person is one viewer (issue 10, item 4): whatever they press, in whatever order,
each video's counters hold at most one impression of theirs and at most one of each
signal on it, and every score and bound stays finite."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fyp_tui.engine import ladder
from fyp_tui.engine.feed import REACTIONS, FeedSession
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import N_SIGNALS, Signal, Status

ACTIONS = st.one_of(
    st.tuples(st.just("watch"), st.integers(0, 5), st.floats(0.0, 90.0), st.integers(0, 3)),
    st.tuples(
        st.just("react"), st.integers(0, 5), st.sampled_from([r for r in REACTIONS if r != "mute_hashtag"]), st.just(0)
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=60), seed=st.integers(0, 2**16))
def test_any_sequence_of_reactions_counts_one_viewer(tiny_world, actions, seed):
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    n = w.n_videos
    # six live tier-0 videos the person keeps coming back to (as back/forward in the app does)
    videos = np.flatnonzero(w.video_status[:n] == Status.ACTIVE)[:6].tolist()
    base_life = w.video_counts[videos].copy()
    base_tier = w.video_tier_counts[videos].copy()
    entered = w.video_tier_entered[videos].copy()
    s = FeedSession(w, p, PersonState.new(w), 1, np.random.default_rng(seed))
    for kind, i, arg, loops in actions:
        v = videos[i % len(videos)]
        if kind == "watch":
            s.watched(v, arg, loops)
        else:
            s.react(v, arg, text="nice" if arg == "comment" else None)
    for row, v in enumerate(videos):
        e = s.ledger.get(v)
        mine = e.vector() if e is not None else np.zeros(N_SIGNALS, np.int64)
        assert ((mine == 0) | (mine == 1)).all()
        assert mine[Signal.VIEW] == (e is not None)
        # lifetime counters: the audience's (none ran) plus exactly the person's bits
        assert (w.video_counts[v] - base_life[row] == mine).all(), (v, w.video_counts[v] - base_life[row], mine)
        # tier counters: the same while the video is in the tier it was counted in
        if w.video_tier_entered[v] == entered[row] and w.video_status[v] == Status.ACTIVE:
            assert (w.video_tier_counts[v] - base_tier[row] == mine).all()
        sc, lcb, ucb = ladder.score_counts(w.video_tier_counts[v], p.weight_vector(), p.z)
        views = w.video_tier_counts[v, Signal.VIEW]
        assert np.isfinite(sc).all() and (views == 0 or (np.isfinite(lcb).all() and np.isfinite(ucb).all()))
        assert (w.video_tier_counts[v] <= max(views, 0)).all() or views == 0


def test_many_shares_are_one_share(tiny_world):
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    v = int(np.flatnonzero(w.video_status[: w.n_videos] == Status.ACTIVE)[0])
    s = FeedSession(w, p, PersonState.new(w), 1, np.random.default_rng(0))
    before = w.video_counts[v].copy()
    for _ in range(30):
        s.react(v, "share")
        s.watched(v, 1.0)  # back and forth: a revisit, not a new impression
    gained = w.video_counts[v] - before
    assert gained[Signal.SHARE] == 1 and gained[Signal.VIEW] == 1 and gained[Signal.SKIP] == 1
    assert s.ledger.get(v).visits == 30 and s.ledger.get(v).seconds == 30.0
    # a rewatch to the end makes the one impression a full watch (and no longer a skip)
    s.watched(v, float(w.video_duration[v]), 1)
    gained = w.video_counts[v] - before
    assert gained[Signal.FULL_WATCH] == 1 and gained[Signal.SKIP] == 0 and gained[Signal.VIEW] == 1
    _s, lcb, ucb = ladder.tier_score(w, p, [v])
    assert np.isfinite(lcb).all() and np.isfinite(ucb).all()


def test_like_unlike_and_follow_unfollow_take_back_what_they_counted(tiny_world):
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    v = int(np.flatnonzero(w.video_status[: w.n_videos] == Status.ACTIVE)[3])
    s = FeedSession(w, p, PersonState.new(w), 1, np.random.default_rng(0))
    before = w.video_counts[v].copy()
    s.react(v, "like"), s.react(v, "follow"), s.react(v, "favourite")
    assert (w.video_counts[v] - before)[[Signal.LIKE, Signal.FOLLOW, Signal.FAVOURITE]].tolist() == [1, 1, 1]
    s.react(v, "unlike"), s.react(v, "unfollow"), s.react(v, "unfavourite")
    gained = w.video_counts[v] - before
    assert gained[[Signal.LIKE, Signal.FOLLOW, Signal.FAVOURITE]].tolist() == [0, 0, 0] and gained[Signal.VIEW] == 1


def test_the_ledger_survives_the_persons_saved_state(tiny_world):
    w = tiny_world.copy()
    p = EngineParams.from_world(w)
    v = int(np.flatnonzero(w.video_status[: w.n_videos] == Status.ACTIVE)[1])
    s = FeedSession(w, p, PersonState.new(w), 1, np.random.default_rng(0))
    s.react(v, "share")
    again = PersonState.from_dict(s.person.to_dict(seen=False), n_topics=w.n_topics)
    s2 = FeedSession(w, p, again, 1, np.random.default_rng(1))
    before = w.video_counts[v].copy()
    s2.react(v, "share")  # shared before the restart: nothing new to count
    assert (w.video_counts[v] == before).all()
    assert s2.has(v, Signal.SHARE)
