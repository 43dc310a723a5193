"""One person's For You ranking: candidates -> value model -> diversity re-rank.

Everything here reads only what the platform can observe: video metadata
(creator, sound, topics, hashtags, country, language, duration, upload time),
counters (lifetime and per tier), tiers and status, sound and hashtag trends, and
the person's own state. Hidden truth (``video_quality``, ``creator_skill``,
``aud_topics`` ...) is never touched; a test swaps it out and checks the ranking
does not move.

1. **Candidates** (:func:`candidates`), each source a vectorised mask over the
   live videos, sampled with the session's ``rng``:
   test pool (tier 0, few views: the person becomes one of its first viewers),
   interest (videos of the person's top learned topics), followed creators' new
   uploads, trending sounds and hashtags, vetted videos from the person's
   country, popular vetted videos (the cold start), and exploration (vetted
   videos outside the person's top topics). The union carries a bit per source.
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
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import Signal, Status, World

# plain ints for the hot paths (an IntEnum member lookup costs more than the numpy op)
_VIEW, _FULL, _LIKE, _SHARE = int(Signal.VIEW), int(Signal.FULL_WATCH), int(Signal.LIKE), int(Signal.SHARE)
_COMMENT, _FOLLOW, _SKIP = int(Signal.COMMENT), int(Signal.FOLLOW), int(Signal.SKIP)
_ACTIVE, _STALLED = int(Status.ACTIVE), int(Status.STALLED)
_N_SIG = len(Signal)

# -- sources (bit flags) ---------------------------------------------------------------
SRC_TEST = 1
SRC_INTEREST = 2
SRC_FOLLOWED = 4
SRC_TRENDING = 8
SRC_LOCAL = 16
SRC_POPULAR = 32
SRC_EXPLORE = 64

SOURCE_NAMES: dict[int, str] = {
    SRC_TEST: "test pool",
    SRC_INTEREST: "interest",
    SRC_FOLLOWED: "followed creator",
    SRC_TRENDING: "trending",
    SRC_LOCAL: "local",
    SRC_POPULAR: "popular",
    SRC_EXPLORE: "exploration",
}


#: not a source: set by :func:`rank` in the returned bits of a video the test-pool
#: slot picked, so whoever keeps a pick's bits (``FeedSession``) can explain it
PICKED_BY_TEST_SLOT = 128

#: :attr:`Pick.slot` of a slot that did not simply take the best score
SLOT_EXPLORE = "exploration"
SLOT_TEST = "test pool"


def source_names(flags: int) -> list[str]:
    return [name for bit, name in SOURCE_NAMES.items() if flags & bit]


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
    country_beta: float = 0.05  # weak: same country
    language_beta: float = 0.08  # weak: same language
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


class _Lists:
    """Video ids grouped by a key (CSR): ``get(keys)`` = ids of videos with any of ``keys``."""

    def __init__(self, keys: np.ndarray, n_keys: int, ids: np.ndarray | None = None) -> None:
        keys = np.asarray(keys)
        counts = np.bincount(keys, minlength=n_keys)[:n_keys]
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        order = np.argsort(keys, kind="stable")  # radix sort for the int16 keys
        self.ids = (order if ids is None else np.asarray(ids)[order]).astype(np.int64)

    def get(self, keys) -> np.ndarray:
        keys = np.atleast_1d(np.asarray(keys, np.int64))
        if len(keys) == 1:
            k = int(keys[0])
            return self.ids[self.starts[k] : self.starts[k + 1]]
        parts = [self.ids[self.starts[k] : self.starts[k + 1]] for k in keys.tolist()]  # loop over keys
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)


class VideoIndex:
    """Static metadata of videos grouped by main topic, sound, hashtag, creator and
    country, so a source reads only its own videos instead of scanning the world.

    Built over the first ``m`` videos; videos uploaded since (the tail) are scanned
    directly, and the index is rebuilt when the tail grows past ``rebuild_share``.
    """

    rebuild_share = 0.05

    def __init__(self, world: World) -> None:
        m = world.n_videos
        self.m = m
        self.topic = _Lists(world.video_topics[:m, 0], world.n_topics)
        self.sound = _Lists(world.video_sound[:m], world.n_sounds)
        self.creator = _Lists(world.video_creator[:m], world.n_creators)
        self.country = _Lists(world.video_country[:m], max(len(world.country_codes), 1))
        tags = world.video_tags[:m]
        vid, pos = np.nonzero(tags >= 0)
        self.tag = _Lists(tags[vid, pos], world.n_hashtags, ids=vid)

    def stale(self, world: World) -> bool:
        return world.n_videos - self.m > max(256, self.rebuild_share * self.m)

    def _tail(self, world: World, column: np.ndarray, keys) -> np.ndarray:
        lo, hi = self.m, world.n_videos
        if hi <= lo:
            return np.zeros(0, np.int64)
        values = column[lo:hi]
        hit = np.isin(values, np.atleast_1d(keys))
        if hit.ndim == 2:
            hit = np.any(hit, axis=1)
        return np.flatnonzero(hit) + lo

    def by_topic(self, world: World, keys) -> np.ndarray:
        return np.concatenate([self.topic.get(keys), self._tail(world, world.video_topics[:, 0], keys)])

    def by_sound(self, world: World, keys) -> np.ndarray:
        return np.concatenate([self.sound.get(keys), self._tail(world, world.video_sound, keys)])

    def by_tag(self, world: World, keys) -> np.ndarray:
        return np.concatenate([self.tag.get(keys), self._tail(world, world.video_tags, keys)])

    def by_creator(self, world: World, keys) -> np.ndarray:
        return np.concatenate([self.creator.get(keys), self._tail(world, world.video_creator, keys)])

    def by_country(self, world: World, keys) -> np.ndarray:
        return np.concatenate([self.country.get(keys), self._tail(world, world.video_country, keys)])


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
        # topical hashtags (1.0) vs generic ones (0.0); one extra 0 slot for tag -1 (padding)
        self.topical = np.append(world.hashtag_topic >= 0, False).astype(np.float64)
        self.sync(world, person)

    def grow(self, world: World) -> None:
        if len(self.seen) < world.capacity:
            for name in ("seen", "ni_video"):
                old = getattr(self, name)
                new = np.zeros(world.capacity, bool)
                new[: len(old)] = old
                setattr(self, name, new)

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


# -- candidates --------------------------------------------------------------------------


def _sample(ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` ids drawn at random from ``ids``, in random order."""
    if len(ids) <= k:
        return ids[rng.permutation(len(ids))] if len(ids) > 1 else ids
    # with replacement: a rare repeat costs one slot, and the union dedupes anyway
    return ids[rng.integers(0, len(ids), size=k)]


def _test_pool_sample(
    world: World, person: PersonState, pool: np.ndarray, topic_mask: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``k`` of the test-pool videos ``pool``, those that fit the person first:
    main topic among the person's top topics, then the person's language, then any
    (random within each class), so the test-pool slot finds a fitting video when
    there is one and still has a fallback when there is none."""
    if len(pool) <= k:
        return pool[rng.permutation(len(pool))] if len(pool) > 1 else pool
    fit = 2 * topic_mask[world.video_topics[pool, 0]] + (world.video_language[pool] == person.language)
    order = np.lexsort((rng.random(len(pool)), -fit.astype(np.int8)))  # by fit, random within a class
    return pool[order[:k]]


def candidates(
    world: World, rs: RankState, person: PersonState, now: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate video ids (unique, sorted) and their source bits (uint8).

    Each source reads only its own videos (the session's :class:`VideoIndex`, a
    slice of the newest uploads, or a random draw), oversamples, and keeps what is
    live and unseen; no step scans every video. Already seen, not-interested
    videos, creators and sounds, and muted hashtags are removed here, so nothing
    downstream can bring them back. The sampled sources are filtered together in
    one pass (:class:`_Draws`), not one small pass each.
    """
    rp = rs.rp
    n = world.n_videos
    rs.grow(world)
    idx = rs.index(world)
    status, tier = world.video_status, world.video_tier
    ids: list[np.ndarray] = []
    flags: list[int] = []

    def fresh(sel: np.ndarray, live: bool = True) -> np.ndarray:
        keep = ~rs.seen[sel] & ~rs.ni_video[sel]
        if live:
            keep &= status[sel] != _STALLED
        return sel[keep]

    def add(sel: np.ndarray, bit: int) -> None:
        if len(sel):
            ids.append(sel)
            flags.append(bit)

    draws = _Draws(rng)
    top = person.top_topics(5)
    topic_mask = np.zeros(world.n_topics, bool)
    topic_mask[top] = True
    # test pool: tier 0, few views -> the person is one of the first viewers.
    # Ids follow upload time, so these are among the newest uploads.
    lo = max(0, n - max(rp.test_scan, n // 20))
    m = (
        (status[lo:n] == _ACTIVE)
        & (tier[lo:n] == 0)
        & (world.video_tier_counts[lo:n, _VIEW] < rp.first_viewer_views)
        & ~rs.seen[lo:n]
        & ~rs.ni_video[lo:n]
    )
    add(_test_pool_sample(world, person, np.flatnonzero(m) + lo, topic_mask, rp.n_test, rng), SRC_TEST)
    # interest: the person's top learned topics, the budget split by interest
    if len(top):
        weight = person.interests[top].astype(np.float64)
        quota = np.ceil(rp.n_interest * weight / weight.sum()).astype(np.int64)
        for topic, q in zip(top.tolist(), quota.tolist()):  # at most 5 topics, not videos
            live = rs.live_topic_pool(world, topic)
            draws.take(live, int(q), SRC_INTEREST)
            if np.count_nonzero(~rs.seen[live]) < rp.catalogue_below:
                # the live videos of this interest have run out: the catalogue fills in
                draws.take(rs.topic_pool(world, topic), int(q), SRC_INTEREST, catalogue=True)
    # trending sounds and hashtags
    _ts, _th, pool = rs.trending(world)
    if len(pool):
        draws.take(pool, rp.n_trending, SRC_TRENDING)
    # vetted content from the person's country (the vetted list is refreshed periodically)
    rs.refresh(world)
    vetted = rs._vetted
    draws.take(vetted, rp.n_local, SRC_LOCAL, over=6, vetted=True, rule=_LOCAL)
    # exploration: vetted videos outside the person's top topics
    draws.take(vetted, rp.n_explore, SRC_EXPLORE, over=3, vetted=True, rule=_OUTSIDE)
    drawn = draws.filter(world, rs, person, topic_mask)
    for sel, bit in zip(drawn, draws.bits):
        add(sel, bit)
    # followed creators' new uploads (even stalled ones: followers still see them)
    if person.follows:
        sel = fresh(idx.by_creator(world, sorted(person.follows)), live=False)
        sel = sel[world.video_upload_time[sel] > now - rp.followed_hours]
        if len(sel) > rp.n_followed:
            sel = sel[np.argsort(-world.video_upload_time[sel], kind="stable")[: rp.n_followed]]
        add(sel, SRC_FOLLOWED)
    # popular vetted videos (what a cold start begins with)
    pop = rs._popular
    if pop is not None and len(pop):
        add(fresh(pop)[: rp.n_popular], SRC_POPULAR)
    if not len(drawn[-1]):  # no vetted video outside the top topics: anything outside them
        everything = np.arange(n, dtype=np.int64) if n <= 3000 else rng.integers(0, n, size=3000)
        sel = fresh(_sample(everything, rp.n_explore, rng))
        add(sel[~topic_mask[world.video_topics[sel, 0]]][: rp.n_explore], SRC_EXPLORE)

    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    every = np.concatenate(ids).astype(np.int64, copy=False)
    bits = np.repeat(np.array(flags, np.uint8), [len(x) for x in ids])
    keep = allowed(world, rs, every)
    return _merge(every[keep], bits[keep])


#: extra rules of a sampled source (see :class:`_Draws`)
_ANY, _LOCAL, _OUTSIDE = 0, 1, 2


class _Draws:
    """Random draws from several sources, filtered in one pass.

    ``take(pool, k, bit, over, vetted, rule)`` draws ``k * over`` ids from ``pool``
    now (so the ``rng`` stream is the same as drawing and filtering one source
    at a time); ``filter`` then keeps, for every source, its first ``k`` draws that
    are unseen, not marked not interested, live, vetted if asked, and pass its
    rule (``_LOCAL``: the person's country; ``_OUTSIDE``: main topic outside the
    person's top topics).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.samples: list[np.ndarray] = []
        self.k: list[int] = []
        self.bits: list[int] = []
        self.vetted: list[bool] = []
        self.rules: list[int] = []
        self.catalogue: list[bool] = []

    def take(
        self,
        pool: np.ndarray,
        k: int,
        bit: int,
        *,
        over: int = 3,
        vetted: bool = False,
        rule: int = _ANY,
        catalogue: bool = False,
    ) -> None:
        self.catalogue.append(catalogue)
        self.samples.append(_sample(pool, k * over, self.rng))
        self.k.append(k)
        self.bits.append(bit)
        self.vetted.append(vetted)
        self.rules.append(rule)

    def filter(self, world: World, rs: RankState, person: PersonState, topic_mask: np.ndarray) -> list[np.ndarray]:
        """The kept ids of each source, in the order taken."""
        if not self.samples:
            return []
        lens = np.array([len(x) for x in self.samples], np.int64)
        sel = np.concatenate(self.samples).astype(np.int64, copy=False)
        seg = np.repeat(np.arange(len(lens)), lens)
        # live first (most draws from a topic are stalled videos), then the other
        # rules only on the live draws: fewer random reads of the world's columns
        stalled = world.video_status[sel] == _STALLED
        pos = np.flatnonzero(~stalled)
        cat = np.array(self.catalogue)
        if cat.any():  # a catalogue source: stalled videos too (the value model weighs them)
            extra = np.flatnonzero(stalled & cat[seg])
            pos = np.sort(np.concatenate([pos, extra]))
        live, live_seg = sel[pos], seg[pos]
        ok = ~rs.seen[live] & ~rs.ni_video[live]
        vetted = np.array(self.vetted)
        if vetted.any():
            ok &= ~vetted[live_seg] | (world.video_tier[live] >= 1)
        rules = np.array(self.rules)
        if (rules == _LOCAL).any():
            ok &= (rules[live_seg] != _LOCAL) | (world.video_country[live] == person.country)
        if (rules == _OUTSIDE).any():
            ok &= (rules[live_seg] != _OUTSIDE) | ~topic_mask[world.video_topics[live, 0]]
        keep = np.zeros(len(sel), bool)
        keep[pos[ok]] = True
        # the first k kept of each source: rank of each kept draw within its source
        kept_before = np.concatenate(([0], np.cumsum(keep)))  # kept draws before position i
        bounds = np.cumsum(lens)[:-1]
        seg_start = np.concatenate(([0], bounds))
        rank_in_seg = kept_before[:-1] - kept_before[seg_start][seg]
        keep &= rank_in_seg < np.array(self.k, np.int64)[seg]
        # plain slices per source (np.split costs ~10x more for these few segments)
        ends = bounds.tolist() + [len(sel)]
        starts = [0] + ends[:-1]
        return [sel[a:b][keep[a:b]] for a, b in zip(starts, ends)]


def _merge(ids: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique sorted ``ids`` with the OR of the ``bits`` of their repeats."""
    if not len(ids):
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    order = np.argsort(ids)  # the OR does not care which repeat comes first
    ids, bits = ids[order], bits[order]
    start = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return ids[start], np.bitwise_or.reduceat(bits, start)


def sources_of(world: World, rs: RankState, person: PersonState, ids: np.ndarray, now: float) -> np.ndarray:
    """Source bits of given videos by each source's rule (for explaining a video that
    was not just recommended; sampling aside, the same rules as :func:`candidates`)."""
    rp = rs.rp
    ids = np.asarray(ids, np.int64)
    live = world.video_status[ids] != _STALLED
    vetted = live & (world.video_tier[ids] >= 1)
    top = person.top_topics(5)
    t0 = world.video_topics[ids, 0]
    in_top = np.isin(t0, top)
    flags = np.zeros(len(ids), np.uint8)
    flags |= np.where(is_test_pool(world, rp, ids), SRC_TEST, 0).astype(np.uint8)
    flags |= np.where(live & in_top, SRC_INTEREST, 0).astype(np.uint8)
    recent_upload = world.video_upload_time[ids] > now - rp.followed_hours
    flags |= np.where(rs.followed[world.video_creator[ids]] & recent_upload, SRC_FOLLOWED, 0).astype(np.uint8)
    ts = trends.trending_sounds(world, rp.trending_k)
    th = trends.trending_hashtags(world, rp.trending_k)
    trending = np.isin(world.video_sound[ids], ts) | np.isin(world.video_tags[ids], th).any(axis=1)
    flags |= np.where(live & trending, SRC_TRENDING, 0).astype(np.uint8)
    flags |= np.where(vetted & (world.video_country[ids] == person.country), SRC_LOCAL, 0).astype(np.uint8)
    if rs._popular is not None:
        flags |= np.where(np.isin(ids, rs._popular[: rp.n_popular]), SRC_POPULAR, 0).astype(np.uint8)
    flags |= np.where(vetted & ~in_top, SRC_EXPLORE, 0).astype(np.uint8)
    return flags


def allowed(world: World, rs: RankState, ids: np.ndarray) -> np.ndarray:
    """Mask of ``ids`` the person may be shown: not seen, nothing marked not interested."""
    out = ~(rs.seen[ids] | rs.ni_video[ids])
    # each filter the person has not used yet costs one small any() instead of a gather
    if rs.ni_creator.any():
        out &= ~rs.ni_creator[world.video_creator[ids]]
    if rs.ni_sound.any():
        out &= ~rs.ni_sound[world.video_sound[ids]]
    if rs.muted.any():
        out &= ~rs.muted[world.video_tags[ids].T].any(axis=0)
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
    same_country = world.video_country[ids] == person.country
    same_lang = world.video_language[ids] == person.language
    local_mult = 1.0 + person.local_pref
    x_loc = local_mult * (rp.country_beta * same_country + rp.language_beta * same_lang)

    v_full, predicted = _value(rates, x_int + x_loc, can_follow, rp)
    if detail:
        v0, _ = _value(rates, np.zeros(len(ids)), can_follow, rp)
        v_loc, _ = _value(rates, x_loc, can_follow, rp)
        interest_total = v_full - v_loc
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
    st = world.sound_trend
    m = float(st.max()) if len(st) else 0.0
    parts["trending sound"] = rp.trend_sound_bonus * (st[world.video_sound[ids]] / m if m > 0 else np.zeros(len(ids)))
    # topical hashtags' trend, generic ones 0, and a last 0 that tag -1 (padding) reads
    if len(rs.topical) != world.n_hashtags + 1:
        rs.topical = np.append(world.hashtag_topic >= 0, False).astype(np.float64)
    ht = np.append(world.hashtag_trend * rs.topical[:-1], 0.0)
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
    return Scored(ids=ids, total=total, parts=parts, interest_by_slot=interest_by_slot, predicted=predicted)


def is_test_pool(world: World, rp: RankingParams, ids: np.ndarray) -> np.ndarray:
    """Tier-0, active videos with few views: a person shown one is among its first viewers."""
    return (
        (world.video_tier[ids] == 0)
        & (world.video_status[ids] == _ACTIVE)
        & (world.video_tier_counts[ids, _VIEW] < rp.first_viewer_views)
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
    taken = np.zeros(len(ids), bool)
    picks: list[Pick] = []
    limit = topic_limit(person.knob, rp.window)
    eps = explore_rate(person.knob)
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
            counts = np.bincount(world.video_topics[np.asarray(window, np.int64), 0], minlength=world.n_topics)
            floor_ok = ok & ((counts[t0] + 1) <= limit)
            if floor_ok.any():
                ok = floor_ok
        if not ok.any():
            break
        test_drawn = in_test is not None and rng.random() < rs.test_slot_rate()
        tp = ok & in_test if test_drawn else None
        if in_test is not None and not (tp is not None and tp.any()) and (ok & ~in_test).any():
            ok = ok & ~in_test  # an ordinary slot leaves test-pool videos to the test-pool slot
        masked = np.where(ok, total, -np.inf)
        best = int(np.argmax(masked))
        slot, lift = None, 0.0
        if tp is not None and tp.any():
            cand = int(np.argmax(np.where(tp, total, -np.inf)))
            slot, lift = SLOT_TEST, float(total[best] - total[cand])
            best = cand
        if slot is None and eps > 0 and rng.random() < eps:
            ex = ok & ((flags & SRC_EXPLORE) != 0)
            if ex.any():
                cand = int(np.argmax(np.where(ex, total, -np.inf)))
                slot, lift = SLOT_EXPLORE, float(total[best] - total[cand])
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


def _union(a: np.ndarray, fa: np.ndarray, b: np.ndarray, fb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.concatenate([a, b]).astype(np.int64)
    flags = np.concatenate([fa, fb]).astype(np.uint8)
    uniq, inv = np.unique(ids, return_inverse=True)
    out = np.zeros(len(uniq), np.uint8)
    np.bitwise_or.at(out, inv, flags)
    return uniq, out


def fallback_candidates(world: World, rs: RankState, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The back catalogue: a random sample of every allowed video, stalled ones
    included (a worn-out or tiny world), with the exploration bit."""
    n = world.n_videos
    rs.grow(world)
    base = np.arange(n, dtype=np.int64) if n <= 3_000 else np.unique(rng.integers(0, n, size=3_000))
    base = base[~rs.seen[base] & ~rs.ni_video[base]]
    if len(base) < 100 and n > 3_000:  # nearly everything seen: look at all of it
        base = np.flatnonzero(~rs.seen[:n] & ~rs.ni_video[:n])
    base = base[allowed(world, rs, base)]
    sel = _sample(base, 600, rng)
    return np.sort(sel), np.full(len(sel), SRC_EXPLORE, np.uint8)
