"""What the feed does to scripted bots: echo chambers form, the knob breaks them,
country counts a little.

The ``tiny`` world is too small for these (it has 2 cooking videos, and its pools
run dry within hours), so this module builds a mid-size world in memory: 5,000
videos, 8,000 viewers, 12 topics, 3 countries, warmed up by 6 simulated hours.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from worlds import mid_world

from fyp_tui.audit import BotSpec, run_bot
from fyp_tui.engine.feed import FeedSession
from fyp_tui.engine.viewer import PersonState


@pytest.fixture(scope="module")
def mid():
    return mid_world(6.0)


def bot(mid, spec: BotSpec, seed: int = 1):
    world, params = mid
    return run_bot(world.copy(), params, spec, np.random.default_rng(seed))


def test_a_lingering_bot_falls_into_its_niche_while_the_control_does_not(mid):
    world, _ = mid
    lurker = bot(mid, BotSpec(name="lurker", videos=400, linger=("cooking",)))
    control = bot(mid, BotSpec(name="control", videos=300, watch_seconds=5.0))
    # 80 % of the niche at the published pace (WSJ 2021: ~93 % after ~224 videos;
    # issue 12: 100-300), not within a few dozen, and it stays there
    assert lurker.videos_to_80 is not None and 100 <= lurker.videos_to_80 <= 300
    assert np.mean(lurker.target_share_by_window[-4:]) >= 0.6
    cooking_share_control = control.topics_last_50.get("cooking", 0) / 50
    assert cooking_share_control < 0.25
    # the control's feed stays diverse: most of the entropy possible over 12 topics
    assert control.entropy_last_50 >= 0.8 * math.log2(world.n_topics)
    assert lurker.entropy_last_50 < control.entropy_last_50 - 1.0


def test_raising_the_knob_keeps_a_niche_bot_more_diverse(mid):
    low = bot(mid, BotSpec(name="low", videos=400, linger=("cooking",), knob=0.3))
    high = bot(mid, BotSpec(name="high", videos=400, linger=("cooking",), knob=0.9))
    assert high.entropy_last_50 >= low.entropy_last_50 + 0.7
    # once the low-knob bot has fallen into its niche (after ~200 videos, the published pace)
    assert np.mean(high.target_share_by_window[8:]) <= np.mean(low.target_share_by_window[8:]) - 0.2


def test_a_bot_in_another_country_sees_more_of_its_country(mid):
    world, _ = mid
    de = world.country_codes.index("DE")
    german = bot(mid, BotSpec(name="german", videos=200, country="DE", language="de", watch_seconds=5.0))
    control = bot(mid, BotSpec(name="control", videos=200, watch_seconds=5.0))
    share_german = np.mean(world.video_country[german.shown] == de)
    share_control = np.mean(world.video_country[control.shown] == de)
    assert share_german >= 1.5 * share_control and share_german - share_control >= 0.1
    assert german.countries_last_50.get("DE", 0) > control.countries_last_50.get("DE", 0)


@pytest.fixture(scope="module")
def aged():
    return mid_world(48.0)


def _after_one_like(world, params, seed: int, like: bool) -> tuple[float, PersonState]:
    """A fresh profile likes (or only watches) its first card, then skims 20 more at 3 s:
    the share of the first card's topic in those 20, and the person."""
    world = world.copy()
    person = PersonState.new(world)
    s = FeedSession(world, params, person, 1, np.random.default_rng(seed))
    v = s.next()
    topic = int(world.video_topics[v, 0])
    if like:
        s.react(v, "like")
    s.watched(v, float(world.video_duration[v]))
    hits = 0
    for _ in range(20):
        u = s.next()
        hits += int(world.video_topics[u, 0]) == topic
        s.watched(u, min(3.0, float(world.video_duration[u])))
    return hits / 20, person


@pytest.mark.parametrize("which", ["fresh", "aged"])
def test_one_like_does_not_flip_the_feed(mid, aged, which):
    world, params = mid if which == "fresh" else aged
    liked = [_after_one_like(world, params, seed, like=True) for seed in range(8)]
    plain = [_after_one_like(world, params, seed, like=False)[0] for seed in range(8)]
    # the like is learned (its topic is the person's top interest) ...
    assert all(p.interests.max() > 0.1 for _, p in liked)
    # ... but one like moves the next 20 cards a little, not to the liked topic (issue 12: <= 40 %)
    assert np.median([share for share, _ in liked]) <= 0.4
    assert np.median([share for share, _ in liked]) <= np.median(plain) + 0.25


def test_stronger_signals_personalise_faster(mid):
    """Boeker & Urman 2022: follow > like > view; issue 12: linger + like reaches 50 % at
    least 15 % sooner than linger alone, linger + follow no slower than linger + like."""
    to50 = {}
    for name, extra in (("linger", {}), ("like", {"like": ("cooking",)}), ("follow", {"follow": ("cooking",)})):
        runs = [
            bot(mid, BotSpec(name=name, videos=300, linger=("cooking",), watch_seconds=1.5, **extra), seed=s)
            for s in range(3)
        ]
        to50[name] = np.median([r.videos_to_50 if r.videos_to_50 is not None else 10_000 for r in runs])
    assert to50["like"] <= 0.85 * to50["linger"]
    assert to50["follow"] <= to50["like"]


def test_onboarding_and_the_knob_work_on_an_aged_world(aged):
    world, params = aged
    counts = np.bincount(world.video_topics[: world.n_videos, 0], minlength=world.n_topics)
    picked = [int(t) for t in np.argsort(-counts)[3:5]]  # not the two biggest topics
    w = world.copy()
    s = FeedSession(w, params, PersonState.new(w, topics=picked), 1, np.random.default_rng(0))
    first = [s.next() for _ in range(20)]
    assert np.isin(w.video_topics[first, 0], picked).mean() >= 0.5
    low = bot(aged, BotSpec(name="low", videos=400, linger=("cooking",), knob=0.3))
    high = bot(aged, BotSpec(name="high", videos=400, linger=("cooking",), knob=0.9))
    assert high.entropy_last_50 >= low.entropy_last_50 + 0.7


def test_followed_creators_come_in_proportion(aged):
    """Issue 12, item 4: at most about 1 card in 5 from followed creators, never the
    same creator within 5 cards."""
    world, params = aged
    w = world.copy()
    n = w.n_videos
    recent = w.video_upload_time[:n] > w.clock - 72.0
    busy = np.argsort(-np.bincount(w.video_creator[:n][recent], minlength=w.n_creators), kind="stable")[:5]
    s = FeedSession(w, params, PersonState.new(w), 1, np.random.default_rng(2))
    shown = []
    for i in range(100):
        v = s.next()
        if i == 0:
            s.react(v, "follow")  # the first card's creator, then the busiest uploaders
            s.person.follows.update(int(c) for c in busy)
            s.rs.sync(w, s.person)
        shown.append(v)
        s.watched(v, min(4.0, float(w.video_duration[v])))
    creators = w.video_creator[shown[1:]]
    followed = np.isin(creators, sorted(s.person.follows))
    assert followed.any()  # the follows do bring their creators' videos
    assert followed.mean() <= 0.22
    last: dict[int, int] = {}
    for i, c in enumerate(creators.tolist()):
        assert c not in last or i - last[c] > 5
        last[c] = i


@pytest.fixture(scope="module")
def demo9():
    """The issue's world: demo seed 9, fresh and after 48 simulated hours."""
    from fyp_tui.engine import simulate
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario

    world = build_world(load_scenario("demo"), 9)
    params = EngineParams.from_world(world)
    aged = world.copy()
    simulate.run(aged, params, 9, 48.0)
    return {"fresh": (world, params), "aged": (aged, params)}


@pytest.mark.parametrize("which", ["fresh", "aged"])
def test_local_but_not_walled_in(demo9, which):
    """Issue 12, item 2 (on the issue's world, demo seed 9): a bot with no topic signal
    from the world's first or second country sees 50-90 % of its last 50 from its own
    country, at least 1.3x the other bot's share of that country; a control keeps
    >= 2.5 bits of topic entropy."""
    m = demo9[which]
    world, _ = m
    a, b = world.country_codes[:2]
    shares: dict[tuple[str, str], float] = {}
    for home in (a, b):
        runs = [bot(m, BotSpec(name=home, videos=150, country=home, watch_seconds=4.0), seed=s) for s in range(3)]
        for code in (a, b):
            shares[home, code] = float(np.median([r.countries_last_50.get(code, 0) / 50 for r in runs]))
    for home, other in ((a, b), (b, a)):
        assert 0.5 <= shares[home, home] <= 0.9, shares
        assert shares[home, home] >= 1.3 * shares[other, home], shares
    control = bot(m, BotSpec(name="control", videos=150, watch_seconds=5.0))
    assert control.entropy_last_50 >= 2.5


def test_caption_keywords_count_as_video_information(mid):
    """Issue 12, item 3: a caption naming a topic the person likes lifts the video's
    score for them, as its topics would."""
    from fyp_tui.engine.ranking import RankState, score

    world, params = mid
    w = world.copy()
    cooking = w.topic_names.index("cooking")
    person = PersonState.new(w)
    person.interests[cooking] = 2.0
    s = FeedSession(w, params, person, 1, np.random.default_rng(0))
    n = w.n_videos
    plain = np.flatnonzero((w.video_topics[:n] != cooking).all(axis=1))[:200]
    plain = plain[s.rs.caption_topics(w, plain) == -1][:50]  # captions that name no topic yet
    s.rs.refresh(w, force=True)
    before = score(w, s.rs, person, plain).total
    for v in plain.tolist():
        w.video_captions[v] = "Sunday lunch, my way #cooking"
    after = score(w, RankState(w, person, s.ranking), person, plain).total
    assert (after > before + 0.1).all()
