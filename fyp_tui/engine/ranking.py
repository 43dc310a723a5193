"""One person's For You ranking: candidates -> value model -> diversity re-rank.

Everything here reads only what the platform can observe: video metadata
(creator, sound, topics, hashtags, country, language, duration, upload time),
counters (lifetime and per tier), tiers and status, sound and hashtag trends, and
the person's own state. Hidden truth (``video_quality``, ``creator_skill``,
``aud_topics`` ...) is never touched; a test swaps it out and checks the ranking
does not move.

1. **Candidates** (:func:`~fyp_tui.engine.candidates.candidates`): a few hundred
   videos from several sources, the union carrying a bit per source.
2. **Value model** (:func:`score`): predicted like, comment, share, follow and
   finish probabilities and expected watch fraction, each times a value weight,
   minus predicted skip (the published ``sum P(action) x value(action)`` form).
   A prediction is the video's observed rate (counters smoothed toward the
   world's mean rate) lifted by ``exp(x)``, ``x`` = the person's learned interest
   in the video's topics plus weak locality terms. Additive terms follow: followed
   creator, trending sound, trending hashtag, local popularity, test pool, and the
   diversity adjustment. Every term is kept by name, so ``explain`` can show how
   the score is made (the terms sum to the score exactly).
3. **Re-rank** (:func:`select`): never the same creator or sound as the video
   before; a diversity floor (no topic may exceed ``topic_cap(knob)`` of the last
   ``window`` videos). Some slots are test-pool slots: they go to the
   best-scored test-pool candidate (the person becomes one of its first
   viewers), so that ``test_pool_share`` of the cards (about 1 in 8) are
   test-pool videos, neither fewer nor more (ordinary slots leave them to the
   test-pool slot); the candidates' test-pool source brings the ones that fit the
   person (top topics, then language) first. Otherwise, with probability ``explore_rate(knob)``, the
   slot goes to the best exploration candidate. The knob terms
   (exploration, the floor and the diversity adjustment of the score) grow with
   ``pressure(knob)``. Already seen and "not interested" (video, creator, sound,
   muted hashtag) never pass, whatever the slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.audience import LONG_VIDEO_SECONDS, large_screen
from fyp_tui.engine.candidates import (
    PICKED_BY_TEST_SLOT,
    SLOT_BROAD,
    SLOT_EXPLORE,
    SLOT_TEST,
    SRC_EXPLORE,
    SRC_FOLLOWED,
    SRC_INTEREST,
    SRC_LOCAL,
    VideoIndex,
    _union,
    candidates,
    fallback_candidates,
    is_test_pool,
)
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import Signal, Status, World

# plain ints for the hot paths (an IntEnum member lookup costs more than the numpy op)
_VIEW, _FULL, _LIKE, _SHARE = int(Signal.VIEW), int(Signal.FULL_WATCH), int(Signal.LIKE), int(Signal.SHARE)
_COMMENT, _FOLLOW, _SKIP = int(Signal.COMMENT), int(Signal.FOLLOW), int(Signal.SKIP)
_ACTIVE, _STALLED = int(Status.ACTIVE), int(Status.STALLED)
_N_SIG = len(Signal)


@dataclass(frozen=True)
class RankingParams:
    # value weights of the predicted actions (published form: sum P(action) x value)
    w_like: float = 1.0
    w_comment: float = 2.0
    w_share: float = 3.0
    w_follow: float = 4.0
    w_finish: float = 1.0
    w_watch: float = 1.0
    w_skip: float = 1.0
    # lift of the predictions: exp(interest_beta * match + locality)
    interest_beta: float = 1.0
    # caption keywords are video information: a topic (or topical hashtag) named in the
    # caption adds this times the person's interest in it to the match
    caption_beta: float = 0.5
    # personalisation builds up with evidence (issue 12, calibrated to the published
    # audits): an ordinary slot is personalised (ranked with the learned interest) with
    # probability personalisation(person) = 1 - exp(-(u / scale)^power), u = the strongest
    # learned interest; otherwise it is a broad slot, ranked without the interest among
    # the candidates some other source brought (popular, local, trending, ...)
    personalise_scale: float = 1.4
    personalise_power: float = 2.0
    country_beta: float = 0.05  # weak: same country (the engine's country_bonus)
    language_beta: float = 0.15  # weak: same language (the engine's language_bonus)
    device_beta: float = 0.05  # weak: the video's length fits the person's screen (device_bonus)
    # local, not walled in (issue 12): a broad slot keeps to the person's country with
    # this probability (times 1 + the learned local_pref), else it is open to the world
    # (candidates only the local source brought stay out of an open slot)
    local_share: float = 0.7
    # counters are smoothed toward the world's mean rate with this many pseudo-views
    prior_views: float = 20.0
    # additive terms (same units as the value)
    followed_bonus: float = 0.6
    trend_sound_bonus: float = 0.3
    trend_tag_bonus: float = 0.2
    local_pop_bonus: float = 0.05
    test_pool_bonus: float = 0.0
    diversity_penalty: float = 2.0  # x pressure(knob) x share of the video's topics in the window
    # re-rank
    window: int = 20
    # followed creators in proportion (issue 12: about 1 card in 5 at most): this share of the window
    # from followed creators, and no creator again within ``creator_gap`` cards
    followed_cap: float = 0.15
    creator_gap: int = 5
    # share of cards with the person among a video's first viewers (issue 10: about 1
    # in 8): test-pool videos come through the test-pool slot, which keeps that share
    # (0: no slot; the value model then picks test-pool videos like any other)
    test_pool_share: float = 0.125
    # candidate sources: how many each contributes at most
    n_test: int = 60
    n_interest: int = 300
    n_followed: int = 100
    n_trending: int = 100
    n_local: int = 100
    n_popular: int = 100
    n_explore: int = 60
    # an interest's older (stalled) videos join the candidates once fewer than this
    # many of its live ones are left unseen: the feed prefers what is live
    catalogue_below: int = 5
    followed_hours: float = 72.0  # followed creators' uploads newer than this
    trending_k: int = 10  # top sounds / hashtags counted as trending
    first_viewer_views: int = 50  # tier-0 video with fewer views: a test-pool video
    refresh_every: int = 250  # recompute world-wide priors / popular list every N calls
    trend_every: int = 20  # recompute the trending lists at least every N calls
    min_candidates: int = 60  # fewer from the sources: add the back catalogue
    test_scan: int = 3000  # the test pool is sought among the newest max(this, n/20) uploads


def pressure(knob: float) -> float:
    """How hard the re-rank pushes diversity: ``knob ** 2.5``, so the default knob
    (0.3, pressure 0.05) behaves like the platform and the upper half of the knob
    breaks echo chambers (0.5 -> 0.18, 0.8 -> 0.57, 1 -> 1)."""
    return min(max(float(knob), 0.0), 1.0) ** 2.5  # plain floats: called per ranking


def personalisation(person: PersonState, rp: RankingParams) -> float:
    """Probability an ordinary slot is personalised: 0 with no positive interest, 63 %
    at ``personalise_scale``, near 1 at the interest clip. One like moves it a little;
    a sustained signal (about 200 videos of lingering, fewer with likes or follows)
    makes most slots personalised, the pace the published audits measured."""
    u = float(person.interests.max()) if len(person.interests) else 0.0
    if u <= 0.0:
        return 0.0
    return 1.0 - math.exp(-((u / rp.personalise_scale) ** rp.personalise_power))


def explore_rate(knob: float) -> float:
    """Probability the next slot is an exploration slot: 0 at knob 0, 0.8 at knob 1."""
    return 0.8 * pressure(knob)


def topic_cap(knob: float) -> float:
    """Largest share one topic may take of the recent window: 1 at knob 0, 0.2 at 1."""
    return 1.0 - 0.8 * pressure(knob)


def topic_limit(knob: float, window: int) -> int:
    """Most videos of one main topic allowed in a window of ``window`` videos."""
    return max(1, math.floor(topic_cap(knob) * window + 1e-9))


# -- per-session state kept in arrays ------------------------------------------------------


class RankState:
    """Masks and caches of one person over the world's arrays (kept in sync by the session)."""

    def __init__(self, world: World, person: PersonState, rp: RankingParams) -> None:
        self.rp = rp
        cap = max(world.capacity, 1)
        self.seen = np.zeros(cap, bool)
        self.ni_video = np.zeros(cap, bool)
        self.followed = np.zeros(world.n_creators, bool)
        self.ni_creator = np.zeros(world.n_creators, bool)
        self.ni_sound = np.zeros(world.n_sounds, bool)
        # one extra False slot at the end: tag -1 (padding) indexes it
        self.muted = np.zeros(world.n_hashtags + 1, bool)
        self.calls = 0
        # test-pool cards owed: + test_pool_share a card, - 1 a test-pool card shown
        self._test_debt = 0.0
        self._index: VideoIndex | None = None
        self._priors: np.ndarray | None = None
        self._popular: np.ndarray | None = None
        self._vetted = np.zeros(0, np.int64)  # vetted live videos when last refreshed
        self._max_log_views = 1.0
        # per-topic candidate pools, valid while no video is uploaded (key: n_videos)
        self._topic_pools: dict[int, np.ndarray] = {}
        self._topic_pools_n = -1
        self._live_pools: dict[int, np.ndarray] = {}
        self._live_pools_stamp: tuple[int, float] | None = None
        # trending sounds / hashtags and their videos, refreshed when the clock moves
        # or every ``trend_every`` calls (the person's own engagement nudges trends a little)
        self._trend_key: tuple[float, int] | None = None
        self._trending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._trend_scores: tuple[np.ndarray, np.ndarray] | None = None
        self._trend_scores_key: tuple[float, int, int] | None = None
        # topical hashtags (1.0) vs generic ones (0.0); one extra 0 slot for tag -1 (padding)
        self.topical = np.append(world.hashtag_topic >= 0, False).astype(np.float64)
        # the topic each video's caption names (-1: none, -2: not read yet), read lazily
        self._caption_topic = np.full(cap, -2, np.int16)
        self._caption_words: dict[str, int] | None = None
        self.sync(world, person)

    def grow(self, world: World) -> None:
        if len(self.followed) < world.n_creators:  # a person's own account was made
            for name in ("followed", "ni_creator"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros(world.n_creators - len(old), bool)]))
        if len(self.muted) < world.n_hashtags + 1:  # new hashtags (the last slot stays tag -1's)
            muted = np.zeros(world.n_hashtags + 1, bool)
            muted[: len(self.muted) - 1] = self.muted[:-1]
            self.muted = muted
        if len(self.seen) < world.capacity:
            for name in ("seen", "ni_video"):
                old = getattr(self, name)
                new = np.zeros(world.capacity, bool)
                new[: len(old)] = old
                setattr(self, name, new)
        if len(self._caption_topic) < world.capacity:
            grown = np.full(world.capacity, -2, np.int16)
            grown[: len(self._caption_topic)] = self._caption_topic
            self._caption_topic = grown

    def caption_topics(self, world: World, ids: np.ndarray) -> np.ndarray:
        """The topic each video's caption names by a keyword (a topic's name or a topical
        hashtag, with or without ``#``; the first such word), -1 for none. Captions are
        read once per video, when first scored."""
        self.grow(world)
        got = self._caption_topic[ids]
        todo = ids[got == -2]
        if len(todo):
            if self._caption_words is None:
                words = {name.lower(): t for t, name in enumerate(world.topic_names)}
                for h, t in enumerate(world.hashtag_topic.tolist()):
                    if t >= 0:
                        words.setdefault(world.hashtag_names[h].lower(), int(t))
                self._caption_words = words
            words = self._caption_words
            caps = world.video_captions
            found = []
            for v in todo.tolist():  # once per video over a session: a few hundred strings a call at most
                text = caps[v] if v < len(caps) else ""
                topic = next((words[k] for k in text.lower().replace("#", " ").split() if k in words), -1)
                found.append(topic)
            self._caption_topic[todo] = found
            got = self._caption_topic[ids]
        return got.astype(np.intp)

    def sync(self, world: World, person: PersonState) -> None:
        """Rebuild every mask from the person's sets (after a filter or follow changes)."""
        self.grow(world)
        n = world.capacity
        self.seen[:] = False
        if person.seen:
            ids = np.fromiter(person.seen, np.int64)
            self.seen[ids[ids < n]] = True
        self.ni_video[:] = False
        if person.ni_videos:
            ids = np.fromiter(person.ni_videos, np.int64)
            self.ni_video[ids[ids < n]] = True
        for mask, items in (
            (self.followed, person.follows),
            (self.ni_creator, person.ni_creators),
            (self.ni_sound, person.ni_sounds),
            (self.muted, person.muted_hashtags),
        ):
            mask[:] = False
            if items:
                mask[np.fromiter(items, np.int64)] = True
        self.muted[-1] = False

    def test_slot_rate(self) -> float:
        """Probability the next slot is a test-pool slot: the test-pool cards owed so
        far (``test_pool_share`` a card, less one per test-pool card shown), within
        [0, 1]. Over a session the share of test-pool cards is ``test_pool_share``."""
        if self.rp.test_pool_share <= 0:
            return 0.0
        return min(max(self._test_debt + self.rp.test_pool_share, 0.0), 1.0)

    def note_pick(self, test_pool: bool) -> None:
        """Count a card shown (``test_pool``: it is a test-pool video)."""
        if self.rp.test_pool_share > 0:
            # (bounded: a world with no test pool for a while does not run up a debt)
            self._test_debt = min(max(self._test_debt + self.rp.test_pool_share - float(test_pool), -1.0), 1.0)

    def mark_seen(self, world: World, video: int) -> None:
        self.grow(world)
        self.seen[video] = True

    def index(self, world: World) -> VideoIndex:
        if self._index is None or self._index.stale(world):
            self._index = VideoIndex(world)
        return self._index

    def topic_pool(self, world: World, topic: int) -> np.ndarray:
        """Ids of the videos whose main topic is ``topic`` (cached until the next upload)."""
        if self._topic_pools_n != world.n_videos:
            self._topic_pools.clear()
            self._topic_pools_n = world.n_videos
        pool = self._topic_pools.get(topic)
        if pool is None:
            pool = self._topic_pools[topic] = self.index(world).by_topic(world, topic)
        return pool

    def live_topic_pool(self, world: World, topic: int) -> np.ndarray:
        """The live (active or site-wide) videos among :meth:`topic_pool` (cached until the
        clock moves or a video is uploaded)."""
        stamp = (world.n_videos, float(world.clock))
        if self._live_pools_stamp != stamp:
            self._live_pools.clear()
            self._live_pools_stamp = stamp
        pool = self._live_pools.get(topic)
        if pool is None:
            every = self.topic_pool(world, topic)
            pool = self._live_pools[topic] = every[world.video_status[every] != _STALLED]
        return pool

    def trending(self, world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(sounds, hashtags, videos)``: the trending sounds and hashtags and the videos
        carrying them, recomputed when the clock moves, a video is uploaded, or every
        ``trend_every`` calls."""
        rp = self.rp
        key = (float(world.clock), int(world.n_videos))
        if self._trending is None or key != self._trend_key or self.calls % rp.trend_every == 0:
            idx = self.index(world)
            ts = trends.trending_sounds(world, rp.trending_k)
            th = trends.trending_hashtags(world, rp.trending_k)
            pool = np.concatenate(
                [
                    idx.by_sound(world, ts) if len(ts) else np.zeros(0, np.int64),
                    idx.by_tag(world, th) if len(th) else np.zeros(0, np.int64),
                ]
            )
            self._trending = (ts, th, pool)
            self._trend_key = key
        return self._trending

    def trend_scores(self, world: World) -> tuple[np.ndarray, np.ndarray]:
        """The sounds' and hashtags' trending scores (:func:`trends.sound_score`), kept
        with the trending lists (:meth:`trending`)."""
        key = (float(world.clock), int(world.n_videos), self.calls // max(self.rp.trend_every, 1))
        if self._trend_scores is None or self._trend_scores_key != key:
            self._trend_scores = (trends.sound_score(world), trends.hashtag_score(world))
            self._trend_scores_key = key
        return self._trend_scores

    def refresh(self, world: World, force: bool = False) -> None:
        """World-wide priors and the popular list, each recomputed every
        ``refresh_every`` calls (staggered, so no call pays for both)."""
        every = self.rp.refresh_every
        if force or self._priors is None or self.calls % every == 0:
            self._priors = world_priors(world)
        if force or self._popular is None or self.calls % every == every // 2:
            self._refresh_popular(world)

    def _refresh_popular(self, world: World) -> None:
        n = world.n_videos
        views = world.video_counts[:n, Signal.VIEW]
        self._max_log_views = float(np.log1p(views.max())) if n else 1.0
        vetted = np.flatnonzero((world.video_tier[:n] >= 1) & (world.video_status[:n] != Status.STALLED))
        self._vetted = vetted
        k = min(len(vetted), 4 * self.rp.n_popular + 200)
        if k:
            top = np.argpartition(-views[vetted], k - 1)[:k] if k < len(vetted) else np.arange(len(vetted))
            top = vetted[top]
            self._popular = top[np.argsort(-views[top], kind="stable")]
        else:
            self._popular = np.zeros(0, np.int64)

    @property
    def priors(self) -> np.ndarray:
        assert self._priors is not None
        return self._priors


#: index of the watch-fraction prior in ``world_priors`` (after the N_SIGNALS rates)
PRIOR_WATCH = len(Signal)

#: used while a world has no impressions yet
DEFAULT_RATES = {
    Signal.FULL_WATCH: 0.3,
    Signal.LIKE: 0.05,
    Signal.SHARE: 0.005,
    Signal.FAVOURITE: 0.01,
    Signal.COMMENT: 0.01,
    Signal.FOLLOW: 0.002,
    Signal.SKIP: 0.2,
    Signal.NOT_INTERESTED: 0.002,
}


#: pseudo-views of DEFAULT_RATES mixed into the world's mean rates (a young world,
#: or one where only the person has watched yet, keeps sane priors)
PRIOR_PSEUDO_VIEWS = 5_000.0


def world_priors(world: World) -> np.ndarray:
    """Mean rate of each signal per view over the world, then mean watch fraction."""
    n = world.n_videos
    base = np.zeros(len(Signal) + 1, np.float64)
    for s, r in DEFAULT_RATES.items():
        base[s] = r
    base[Signal.VIEW] = 1.0
    base[PRIOR_WATCH] = 0.8
    if n == 0:
        return base
    k = PRIOR_PSEUDO_VIEWS
    # einsum: ~3x faster than sum(axis=0) over the 9 short columns; integer sums, exact
    totals = np.einsum("ij->j", world.video_counts[:n]).astype(np.float64)
    views = totals[Signal.VIEW]
    out = base.copy()
    out[: len(Signal)] = (totals + k * base[: len(Signal)]) / (views + k)
    dur = world.video_duration[:n].astype(np.float64)
    exp_views = float(np.dot(world.video_counts[:n, Signal.VIEW], dur))  # seconds if all watched once
    watched = float(world.video_watch_seconds[:n].sum())
    mean_dur = float(dur.mean())
    out[PRIOR_WATCH] = (watched + k * base[PRIOR_WATCH] * mean_dur) / (exp_views + k * mean_dur)
    out[Signal.VIEW] = 1.0
    return out


# -- the value model ---------------------------------------------------------------------

#: named parts of a score, in the order ``explain`` lists them
PARTS = (
    "observed engagement",
    "interest",  # split per topic by explain
    "same country / language",
    "followed creator",
    "trending sound",
    "trending hashtag",
    "local popularity",
    "test pool",
    "diversity adjustment",
)


@dataclass
class Scored:
    """Vectorised score of candidate videos: the total and every named part."""

    ids: np.ndarray
    total: np.ndarray
    parts: dict[str, np.ndarray]  # name -> float64[len(ids)], sums to total
    interest_by_slot: np.ndarray  # float64[len(ids), TOPICS_PER_VIDEO]: interest split per topic
    predicted: dict[str, np.ndarray]  # like, comment, share, follow, finish, watch_fraction, skip
    #: the total without the person's learned interest (what a broad slot ranks by)
    broad: np.ndarray | None = None


def _value(rates: np.ndarray, x: np.ndarray, can_follow: np.ndarray, rp: RankingParams):
    """Value of each video for a person with lift ``x``; also the predictions."""
    e = np.exp(x)
    p = {
        "like": np.minimum(rates[:, _LIKE] * e, 1.0),
        "comment": np.minimum(rates[:, _COMMENT] * e, 1.0),
        "share": np.minimum(rates[:, _SHARE] * e, 1.0),
        "follow": np.minimum(rates[:, _FOLLOW] * e, 1.0) * can_follow,
        "finish": np.minimum(rates[:, _FULL] * e, 1.0),
        "watch_fraction": np.minimum(rates[:, PRIOR_WATCH] * np.sqrt(e), 1.5),
        "skip": np.minimum(rates[:, _SKIP] / e, 1.0),
    }
    v = (
        rp.w_like * p["like"]
        + rp.w_comment * p["comment"]
        + rp.w_share * p["share"]
        + rp.w_follow * p["follow"]
        + rp.w_finish * p["finish"]
        + rp.w_watch * p["watch_fraction"]
        - rp.w_skip * p["skip"]
    )
    return v, p


def observed_rates(world: World, ids: np.ndarray, priors: np.ndarray, prior_views: float) -> np.ndarray:
    """Per-video rates from lifetime counters, smoothed toward the world's means."""
    counts = np.take(world.video_counts, ids, axis=0).astype(np.float64)  # take: cheaper than a fancy gather
    views = counts[:, _VIEW : _VIEW + 1].copy()
    rates = np.empty((len(ids), _N_SIG + 1), np.float64)
    # the same two operations as (counts + prior) / (views + prior), without temporaries
    np.add(counts, prior_views * priors[None, :_N_SIG], out=counts)
    np.divide(counts, views + prior_views, out=rates[:, :_N_SIG])
    dur = np.maximum(world.video_duration[ids].astype(np.float64), 1e-3)
    watched = world.video_watch_seconds[ids] / dur
    rates[:, PRIOR_WATCH] = (watched + prior_views * priors[PRIOR_WATCH]) / (views[:, 0] + prior_views)
    return rates


def score(
    world: World,
    rs: RankState,
    person: PersonState,
    ids: np.ndarray,
    recent: np.ndarray | None = None,
    *,
    detail: bool = True,
) -> Scored:
    """Score ``ids`` for ``person``; ``recent`` = ids of the last videos shown (window).

    ``detail=False`` (ranking) computes the same total without splitting the value
    into its engagement / locality / interest parts (``parts`` then holds "value"
    in their place, and ``interest_by_slot`` is zero)."""
    rp = rs.rp
    ids = np.asarray(ids, np.int64)
    if rs._priors is None:
        rs.refresh(world, force=True)
    rates = observed_rates(world, ids, rs.priors, rp.prior_views)
    creator = world.video_creator[ids]
    can_follow = (~rs.followed[creator]).astype(np.float64)

    # interest match per topic slot and locality
    topics = world.video_topics[ids].astype(np.intp)
    topic_w = world.video_topic_w[ids]  # gathered once: the diversity term reads it too
    slot = topic_w.astype(np.float64) * person.interests[topics].astype(np.float64)
    x_int = rp.interest_beta * slot.sum(axis=1)
    if rp.caption_beta:
        cap_t = rs.caption_topics(world, ids)
        named = cap_t >= 0
        if named.any():
            x_int = x_int + rp.caption_beta * np.where(named, person.interests[np.maximum(cap_t, 0)], 0.0)
    same_country = world.video_country[ids] == person.country
    same_lang = world.video_language[ids] == person.language
    local_mult = 1.0 + person.local_pref
    x_loc = local_mult * (rp.country_beta * same_country + rp.language_beta * same_lang)
    if rp.device_beta:
        # a large screen (web, tablet, ...) fits longer videos, a phone shorter ones
        long = world.video_duration[ids] > LONG_VIDEO_SECONDS
        x_loc = x_loc + rp.device_beta * np.where(long == large_screen(world, person.device), 1.0, -1.0)

    v_full, predicted = _value(rates, x_int + x_loc, can_follow, rp)
    v_loc, _ = _value(rates, x_loc, can_follow, rp)
    interest_total = v_full - v_loc
    if detail:
        v0, _ = _value(rates, np.zeros(len(ids)), can_follow, rp)
        denom = slot.sum(axis=1)
        safe = np.abs(denom) > 1e-9
        share = np.where(safe[:, None], slot / np.where(safe, denom, 1.0)[:, None], 0.5)
        interest_by_slot = share * interest_total[:, None]
        parts: dict[str, np.ndarray] = {
            "observed engagement": v0,
            "interest": interest_total,
            "same country / language": v_loc - v0,
        }
    else:
        interest_by_slot = np.zeros_like(slot)
        parts = {"value": v_full}
    parts["followed creator"] = rp.followed_bonus * rs.followed[creator]
    # trends: heat in [0, 1] relative to the world's hottest sound / topical hashtag
    # (the same values as trends.sound_heat / hashtag_heat, computed for the candidates only)
    st = rs.trend_scores(world)[0]
    m = float(st.max()) if len(st) else 0.0
    parts["trending sound"] = rp.trend_sound_bonus * (st[world.video_sound[ids]] / m if m > 0 else np.zeros(len(ids)))
    # topical hashtags' trend, generic ones 0, and a last 0 that tag -1 (padding) reads
    if len(rs.topical) != world.n_hashtags + 1:
        rs.topical = np.append(world.hashtag_topic >= 0, False).astype(np.float64)
    ht = np.append(rs.trend_scores(world)[1] * rs.topical[:-1], 0.0)
    m = float(ht.max())
    if m > 0:
        # one gather per tag slot, folded with maximum (a 2-D fancy gather + max over
        # the short rows costs ~3x more; max is exact, so the values are the same)
        tags = world.video_tags[ids]
        heat = ht[tags[:, 0]]
        for j in range(1, tags.shape[1]):  # TAGS_PER_VIDEO slots, not videos
            np.maximum(heat, ht[tags[:, j]], out=heat)
        parts["trending hashtag"] = rp.trend_tag_bonus * (heat / m)
    else:
        parts["trending hashtag"] = np.zeros(len(ids))
    views = world.video_counts[ids, _VIEW]
    popularity = np.log1p(views) / max(rs._max_log_views, 1.0)
    vetted = world.video_tier[ids] >= 1
    parts["local popularity"] = rp.local_pop_bonus * (same_country & vetted) * np.minimum(popularity, 1.0)
    parts["test pool"] = rp.test_pool_bonus * is_test_pool(world, rp, ids)
    # diversity: penalise topics that already fill the recent window, by the knob
    if recent is not None and len(recent) and person.knob > 0:
        counts = np.bincount(
            world.video_topics[recent].astype(np.intp).ravel(),
            weights=world.video_topic_w[recent].ravel(),
            minlength=world.n_topics,
        )
        window_share = counts / len(recent)
        crowd = (topic_w * window_share[topics]).sum(axis=1)
        parts["diversity adjustment"] = -rp.diversity_penalty * pressure(person.knob) * crowd
    else:
        parts["diversity adjustment"] = np.zeros(len(ids))
    parts = {k: np.asarray(v, np.float64) for k, v in parts.items()}
    total = np.zeros(len(ids))
    for v in parts.values():  # ~9 named parts
        total += v
    return Scored(
        ids=ids,
        total=total,
        parts=parts,
        interest_by_slot=interest_by_slot,
        predicted=predicted,
        broad=total - interest_total,
    )


# -- re-rank -------------------------------------------------------------------------------


@dataclass
class Pick:
    video: int
    score: float  # the video's score plus the slot's lift
    slot: str | None = None  # SLOT_TEST or SLOT_EXPLORE when a slot chose it, else None
    lift: float = 0.0  # how far the slot lifted it over the best pick by score (>= 0)

    @property
    def explored(self) -> bool:
        """Chosen by the exploration slot."""
        return self.slot == SLOT_EXPLORE

    @property
    def explore_boost(self) -> float:
        """The exploration slot's lift (0 for any other pick)."""
        return self.lift if self.slot == SLOT_EXPLORE else 0.0

    @property
    def test_slot(self) -> bool:
        """Chosen by the test-pool slot: the person is among the video's first viewers."""
        return self.slot == SLOT_TEST


def select(
    world: World,
    rs: RankState,
    person: PersonState,
    scored: Scored,
    flags: np.ndarray,
    recent: np.ndarray,
    rng: np.random.Generator,
    k: int = 1,
    *,
    last_resort: bool = False,
) -> list[Pick]:
    """Pick the next ``k`` videos in order under the re-rank rules.

    Rules per slot: not the previous video's creator or sound; no topic above
    ``topic_cap(knob)`` of the last ``window`` videos (relaxed only if nothing else
    is left). Among the videos that pass: with probability ``rs.test_slot_rate()``
    the best-scored test-pool video (:func:`is_test_pool`; when none passes, the
    slot is an ordinary one); an ordinary slot skips test-pool videos while others
    pass; else with probability
    ``explore_rate(knob)`` the best exploration candidate, else the best overall.
    The loop runs ``k`` times over small candidate arrays; there is no loop over
    videos.

    ``last_resort``: when every allowed video left shares the previous video's
    sound or creator (a small world, or one sound everywhere), let the sound rule
    give way first, then the creator rule, rather than run the feed dry.
    """
    rp = rs.rp
    ids, total = scored.ids, scored.total.copy()
    creator = world.video_creator[ids]
    sound = world.video_sound[ids]
    t0 = world.video_topics[ids, 0].astype(np.intp)
    window = list(np.asarray(recent, np.int64)[-rp.window :])
    followed = rs.followed[creator]
    taken = np.zeros(len(ids), bool)
    picks: list[Pick] = []
    limit = topic_limit(person.knob, rp.window)
    eps = explore_rate(person.knob)
    q = personalisation(person, rp)
    broad_total = scored.broad if scored.broad is not None else total
    base_total, base_broad = total, broad_total
    local_p = min(max(rp.local_share * (1.0 + person.local_pref), 0.0), 1.0)
    home = world.video_country[ids] == person.country
    from_elsewhere = (flags & ~np.uint8(SRC_INTEREST)) != 0  # a source besides interest brought it
    # an open slot (not a local one) is open to the world: what only the local source brought stays out
    from_world = (flags & ~np.uint8(SRC_INTEREST | SRC_LOCAL)) != 0
    in_test = is_test_pool(world, rp, ids) if rp.test_pool_share > 0 else None
    for _ in range(k):
        ok = ~taken
        if window:
            last = window[-1]
            other_creator = creator != world.video_creator[last]
            other_sound = sound != world.video_sound[last]
            strict = ok & other_creator & other_sound
            if last_resort and not strict.any():
                strict = ok & other_creator if (ok & other_creator).any() else ok
            ok = strict
            recent_ids = np.asarray(window, np.int64)
            counts = np.bincount(world.video_topics[recent_ids, 0], minlength=world.n_topics)
            floor_ok = ok & ((counts[t0] + 1) <= limit)
            if floor_ok.any():
                ok = floor_ok
            # no creator again within creator_gap cards; followed creators within their share
            gap_ok = ok & ~np.isin(creator, world.video_creator[recent_ids[-rp.creator_gap :]])
            if gap_ok.any():
                ok = gap_ok
            if followed.any():
                n_followed = int(rs.followed[world.video_creator[recent_ids]].sum())
                if n_followed + 1 > rp.followed_cap * rp.window:
                    # over the share: a followed creator's video competes without the
                    # follow (no bonus, and only if another source brought it too)
                    cap_ok = ok & ~(followed & ((flags & ~np.uint8(SRC_FOLLOWED)) == 0))
                    if cap_ok.any():
                        ok = cap_ok
                    total = base_total - rp.followed_bonus * followed
                    broad_total = base_broad - rp.followed_bonus * followed
                else:
                    total, broad_total = base_total, base_broad
        if not ok.any():
            break
        test_drawn = in_test is not None and rng.random() < rs.test_slot_rate()
        tp = ok & in_test if test_drawn else None
        if in_test is not None and not (tp is not None and tp.any()) and (ok & ~in_test).any():
            ok = ok & ~in_test  # an ordinary slot leaves test-pool videos to the test-pool slot
        masked = np.where(ok, total, -np.inf)
        best = int(np.argmax(masked))
        slot, lift = None, 0.0
        # personalised (ranked with the learned interest) with probability q
        personal = q >= 1.0 or (q > 0.0 and rng.random() < q)
        if tp is not None and tp.any():
            by = total if personal else broad_total
            cand = int(np.argmax(np.where(tp, by, -np.inf)))
            slot, lift = SLOT_TEST, float(total[best] - total[cand])
            best = cand
        if slot is None and eps > 0 and rng.random() < eps:
            ex = ok & ((flags & SRC_EXPLORE) != 0)
            if ex.any():
                cand = int(np.argmax(np.where(ex, total, -np.inf)))
                slot, lift = SLOT_EXPLORE, float(total[best] - total[cand])
                best = cand
        if slot is None and not personal:
            wide = ok & from_elsewhere
            if local_p > 0.0 and rng.random() < local_p and (wide & home).any():
                wide = wide & home  # a local slot
            elif (ok & from_world).any():
                wide = ok & from_world
            if wide.any():
                cand = int(np.argmax(np.where(wide, broad_total, -np.inf)))
                slot, lift = SLOT_BROAD, float(total[best] - total[cand])
                best = cand
        if in_test is not None:
            rs.note_pick(bool(in_test[best]))
        taken[best] = True
        picks.append(Pick(int(ids[best]), float(total[best] + lift), slot, lift))
        window = (window + [int(ids[best])])[-rp.window :]
    return picks


def rank(
    world: World,
    rs: RankState,
    person: PersonState,
    now: float,
    rng: np.random.Generator,
    k: int = 1,
) -> tuple[np.ndarray, np.ndarray, list[Pick], Scored, np.ndarray]:
    """The whole pipeline: ``(ids, scores)`` of the next ``k`` videos, plus the picks,
    the scored candidates and their source bits (for explanations)."""
    rs.calls += 1
    cand, flags = candidates(world, rs, person, now, rng)
    recent = np.asarray(person.history[-rs.rp.window :], np.int64)
    if len(cand) < rs.rp.min_candidates:
        # the pools are nearly dry for this person: add the back catalogue
        extra, extra_flags = fallback_candidates(world, rs, rng)
        cand, flags = _union(cand, flags, extra, extra_flags)
    scored = score(world, rs, person, cand, recent, detail=False)
    picks = select(world, rs, person, scored, flags, recent, rng, k)
    if not picks and len(cand):
        # every candidate broke the creator/sound rule: widen to everything allowed
        extra, extra_flags = fallback_candidates(world, rs, rng)
        cand, flags = _union(cand, flags, extra, extra_flags)
        scored = score(world, rs, person, cand, recent, detail=False)
        picks = select(world, rs, person, scored, flags, recent, rng, k)
    if not picks and len(cand):
        picks = select(world, rs, person, scored, flags, recent, rng, k, last_resort=True)
    for p in picks:
        if p.test_slot:
            flags[np.searchsorted(scored.ids, p.video)] |= PICKED_BY_TEST_SLOT
    ids = np.array([p.video for p in picks], np.int64)
    scores = np.array([p.score for p in picks], np.float64)
    return ids, scores, picks, scored, flags
