"""Candidates: which videos a person's ranking considers, each source a vectorised mask
over the live videos, sampled with the session's ``rng``, the union carrying a bit per
source (:func:`candidates`): test pool (tier 0, few views: the person becomes one of
its first viewers), interest (videos of the person's top learned topics), followed
creators' new uploads, trending sounds and hashtags, vetted videos from the person's
country, popular vetted videos (the cold start), and exploration (vetted videos
outside the person's top topics); what may be shown at all (:func:`allowed`); and the
back catalogue when nothing else is left (:func:`fallback_candidates`).

Reads only what the platform can observe, as :mod:`fyp_tui.engine.ranking` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.viewer import PersonState
from fyp_tui.engine.world import Signal, Status, World

# plain ints for the hot paths (an IntEnum member lookup costs more than the numpy op)
_VIEW, _FULL, _LIKE, _SHARE = int(Signal.VIEW), int(Signal.FULL_WATCH), int(Signal.LIKE), int(Signal.SHARE)
_COMMENT, _FOLLOW, _SKIP = int(Signal.COMMENT), int(Signal.FOLLOW), int(Signal.SKIP)
_ACTIVE, _STALLED = int(Status.ACTIVE), int(Status.STALLED)
_N_SIG = len(Signal)

if TYPE_CHECKING:  # (annotations only: ranking imports this module)
    from fyp_tui.engine.ranking import RankingParams, RankState

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


#: not a source: set by :func:`~fyp_tui.engine.ranking.rank` in the returned bits of a video the test-pool
#: slot picked, so whoever keeps a pick's bits (``FeedSession``) can explain it
PICKED_BY_TEST_SLOT = 128

#: :attr:`~fyp_tui.engine.ranking.Pick.slot` of a slot that did not simply take the best score
SLOT_EXPLORE = "exploration"
SLOT_TEST = "test pool"
#: a slot ranked without the person's learned interest (see ``ranking.personalisation``)
SLOT_BROAD = "broad"


def source_names(flags: int) -> list[str]:
    return [name for bit, name in SOURCE_NAMES.items() if flags & bit]


# -- the session's index of videos -----------------------------------------------------


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
        self.sizes = (world.n_creators, world.n_hashtags)

    def stale(self, world: World) -> bool:
        if self.sizes != (world.n_creators, world.n_hashtags):  # a person's account, a new tag
            return True
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
    # the test-pool source seeks the person's topics as often as an ordinary slot is
    # personalised (one like does not turn every test-pool card to its topic)
    from fyp_tui.engine.ranking import personalisation

    fit_mask = topic_mask if rng.random() < personalisation(person, rp) else np.zeros_like(topic_mask)
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
    add(_test_pool_sample(world, person, np.flatnonzero(m) + lo, fit_mask, rp.n_test, rng), SRC_TEST)
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
    # and the country's back catalogue once its vetted live videos run low (fewer than
    # catalogue_below unseen): the live pools hold few videos of a smaller country, and
    # a local slot should not run dry once the person has seen them; until then the
    # feed prefers what is live, as for an interest
    home_left = np.count_nonzero((world.video_country[vetted] == person.country) & ~rs.seen[vetted])
    if home_left < rp.catalogue_below:
        draws.take(idx.by_country(world, person.country), rp.n_local // 2, SRC_LOCAL, catalogue=True)
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


def is_test_pool(world: World, rp: RankingParams, ids: np.ndarray) -> np.ndarray:
    """Tier-0, active videos with few views: a person shown one is among its first viewers."""
    return (
        (world.video_tier[ids] == 0)
        & (world.video_status[ids] == _ACTIVE)
        & (world.video_tier_counts[ids, _VIEW] < rp.first_viewer_views)
    )


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
