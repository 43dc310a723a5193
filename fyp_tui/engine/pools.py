"""Serving the pools: how many impressions each live video asks for, how a step's
impressions are dealt out to them as slots (the pools, then the catalogue of stalled
videos), and which viewer gets which slot. The ladder the pools serve is in
:mod:`fyp_tui.engine.ladder`.

Everything here reads **observable** state only: metadata, counters per tier,
tiers, trends, and the platform's learned estimate of each viewer's interests
(``aud_pref``). It never reads ``video_quality``, ``creator_skill``,
``aud_topics`` / ``aud_topic_w`` or ``aud_like_prop`` (a test proves it).

Serving
-------
Each live video asks for ``budget / fill_hours[tier]`` impressions per hour (bigger
pools spend their budget over longer), times its heat, ``1 + trend_boost * trend
heat`` and ``1 + creator_boost * reach`` (followers see new uploads). When the
step's impressions cannot meet all demand, lower tiers are served first
(:func:`waterfill`): every new video gets its test audience, bigger pools share
what is left.

The simulation step serves **video first** (:func:`allocate`, :func:`match_viewers`):
the control slice goes to uniformly random live videos; then each live video gets
its demand share of the targeted impressions as whole slots, capped by what is left
of its tier budget (so no budget is ever exceeded and nothing is re-served); what
the pools cannot absorb goes to stalled videos (:func:`~fyp_tui.engine.catalogue.catalogue_allocation`,
lifetime counters only). Viewers are then matched to the slots by the platform's
observable estimate: each impression asks for the viewer's top learned topic
(``aud_pref``, refreshed every ``pref_refresh_hours``; the second one with
``second_topic_share``), in the viewer's language first (the weak country/language
terms), then any language, then the viewer's other top topic, then anything left.

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fyp_tui.engine.ladder import ACTIVE, TOP, VIEW, heat, tier_budget
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import World

# -- serving ------------------------------------------------------------------------------


def creator_reach(world: World, creators: np.ndarray | None = None) -> np.ndarray:
    """Observable reach of each creator (or of ``creators``) from its follower count, ~[0, 1.2]."""
    f = world.creator_followers if creators is None else world.creator_followers.take(creators)
    return (np.log10(1.0 + f.astype(np.float64)) / 7.0).astype(np.float32)


def broad_share(world: World, params: EngineParams, ids: np.ndarray) -> np.ndarray:
    """Per video, the share of its targeted impressions (from its pool, or from the
    catalogue once it has stalled: the same mechanic for every impression matched by
    topic) served to viewers at random rather than matched by topic: in-topic
    hashtags reach interested viewers
    (``untagged_broad_share`` with none of its main topic's hashtags, less a
    ``tags_to_target``-th for each; observable metadata only).

    Read from a per-video table (``World.derived.broad``): a video's tags and topics
    never change once it is added, so each step gathers, and only new videos are
    computed (a short step's thousands of catalogue entries paid a few passes each)."""
    if params.untagged_broad_share <= 0 or len(ids) == 0:
        return np.zeros(len(ids))
    return _broad_table(world, params).take(ids)


def _broad_rows(world: World, params: EngineParams, ids: np.ndarray) -> np.ndarray:
    """:func:`broad_share` of ``ids``, computed from the tags and topics."""
    return _broad_values(world, params, world.video_tags[ids], world.video_topics[ids, 0])


def _broad_values(world: World, params: EngineParams, tags: np.ndarray, main: np.ndarray) -> np.ndarray:
    """:func:`broad_share` of videos with these tags and main topics."""
    main = main.astype(np.int64)
    topic = np.append(world.hashtag_topic, -1).take(tags)  # (tag -1, padding, reads the appended -1)
    n_in = np.count_nonzero(topic == main[:, None], axis=1)
    return params.untagged_broad_share * np.maximum(1.0 - n_in / params.tags_to_target, 0.0)


def broad_values(world: World, params: EngineParams, fields: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`broad_share` of videos not yet added, from ``add_videos``' fields (as the
    world's arrays will hold them): ``simulate.run`` computes a block's uploads' at once,
    and :func:`stage_broad` appends each step's."""
    tags = np.asarray(fields["tags"], dtype=world.video_tags.dtype)
    return _broad_values(world, params, tags, np.asarray(fields["topics"], dtype=world.video_topics.dtype)[:, 0])


def stage_broad(world: World, params: EngineParams, first: int, values: np.ndarray) -> None:
    """Append the shares (:func:`broad_values`) of the videos just added, ``first`` on, to
    the per-video table, if it is current up to them; else leave it (it computes them from
    the world's arrays when next read)."""
    hit = world.derived.broad
    n = world.n_videos
    arrays = (world.video_tags, world.video_topics, world.hashtag_topic)
    shares = (float(params.untagged_broad_share), float(params.tags_to_target))
    if hit is None or hit[2] != first or hit[1] != shares or first + len(values) != n:
        return
    if not all(a is b for a, b in zip(hit[0], arrays)) or len(hit[3]) < n:
        return
    hit[3][first:n] = values
    world.derived.broad = (arrays, shares, n, hit[3])


def _broad_table(world: World, params: EngineParams) -> np.ndarray:
    """:func:`broad_share` of every video (``[n_videos]``), kept in ``World.derived.broad``
    with the arrays it came from (by identity), and extended to the videos added since."""
    n = world.n_videos
    arrays = (world.video_tags, world.video_topics, world.hashtag_topic)
    shares = (float(params.untagged_broad_share), float(params.tags_to_target))
    hit = world.derived.broad
    fresh = hit is not None and all(a is b for a, b in zip(hit[0], arrays)) and hit[1] == shares and hit[2] <= n
    have, buf = (hit[2], hit[3]) if fresh and hit is not None else (0, None)
    if have == n and buf is not None:
        return buf[:n]
    if buf is None or len(buf) < n:
        grown = np.empty(max(n + n // 2, 1024))
        if buf is not None:
            grown[:have] = buf[:have]
        buf = grown
    buf[have:n] = _broad_rows(world, params, np.arange(have, n))
    world.derived.broad = (arrays, shares, n, buf)
    return buf[:n]


_FILL_HOURS: dict[tuple[float, float, int], np.ndarray] = {}


def fill_hours(params: EngineParams) -> np.ndarray:
    """Hours in which each tier (site-wide last) aims to spend its budget: bigger pools take
    longer (read-only, cached)."""
    key = (float(params.fill_hours), float(params.fill_growth), int(params.top_tier))
    hit = _FILL_HOURS.get(key)
    if hit is None:
        hit = params.fill_hours * params.fill_growth ** np.arange(params.top_tier + 1, dtype=np.float64)
        hit.flags.writeable = False
        _FILL_HOURS[key] = hit
    return hit


_DEMAND_BUDGETS: dict[tuple, np.ndarray] = {}


def _demand_budgets(params: EngineParams) -> np.ndarray:
    """Per tier, the budget its demand is a share of: the ladder's, then ``top_weight`` times
    the last bounded one for the site-wide tier (read-only, cached)."""
    key = (params.ladder, float(params.top_weight))
    hit = _DEMAND_BUDGETS.get(key)
    if hit is None:
        hit = np.array([*params.ladder, params.top_weight * params.ladder[-1]], dtype=np.float64)
        hit.flags.writeable = False
        _DEMAND_BUDGETS[key] = hit
    return hit


def serving_demand(
    world: World,
    params: EngineParams,
    ids: np.ndarray,
    remaining: np.ndarray,
    now: float,
    dt: float,
    sound_heat: np.ndarray,
    tag_heat: np.ndarray,
) -> np.ndarray:
    """Impressions each live video asks for in the step of ``dt`` hours around ``now``.

    ``min(remaining, budget * span / fill_hours[tier]) x heat x (1 + trend_boost *
    trend heat) x (1 + creator_boost * reach)``; a site-wide video asks like a
    budget of ``top_weight`` times the last bounded one. ``span`` is the time the
    video has been in its pool within the step (an upload of this step asks from its
    upload time); a video not yet served in its tier also asks for the time since
    it entered, up to one more step (a promotion takes effect where its look fell
    in the last step). A rate per hour, whatever the step length.
    """
    tier = np.minimum(world.video_tier[ids].astype(np.int64), params.top_tier)
    budget = _demand_budgets(params).take(tier)
    t1 = now + dt / 2
    since = t1 - world.video_tier_entered[ids]
    fresh = world.video_tier_counts[ids, VIEW] == 0
    span = np.minimum(np.maximum(np.where(fresh, since, np.minimum(since, dt)), 0.0), 2.0 * dt)
    want = np.minimum(budget * (span / fill_hours(params)[tier]), remaining.astype(np.float64))
    want *= heat(world, params, ids, now)
    th = sound_heat[world.video_sound[ids]] if len(sound_heat) else np.zeros(len(ids))
    if len(tag_heat) and len(ids):
        # heat of each tag slot (-1, no tag, reads the appended 0: heat is >= 0), then
        # the row max as column maxima (``max(axis=1)`` pays a call per short row)
        h = np.append(tag_heat, 0.0).take(world.video_tags.take(ids, axis=0))
        tth = h[:, 0].copy()
        for j in range(1, h.shape[1]):
            np.maximum(tth, h[:, j], out=tth)
        th = np.maximum(th, tth)
    want *= 1.0 + params.trend_boost * th
    want *= 1.0 + params.creator_boost * creator_reach(world, world.video_creator.take(ids))
    return want


def waterfill(
    tier: np.ndarray,
    want: np.ndarray,
    supply: float,
    n_tiers: int,
    cap: np.ndarray | None = None,
    queue: np.ndarray | None = None,
) -> np.ndarray:
    """Serving weights (expected impressions this step) from demand and supply.

    Short supply: lower tiers' demand is met first, higher tiers get what is
    left (tier 0 gets ``min(demand, supply)``, tier 1 ``min(demand, what is
    left)`` ...). Within the tier where supply runs out, videos are served in the
    order of ``queue`` (time they entered the tier: first come, first served), or
    in proportion to demand without a queue. Spare supply: every video
    gets ``min(cap, s * demand)`` with one factor ``s >= 1`` chosen so the weights
    add up to the supply (or every video is at its cap).
    """
    want = np.asarray(want, dtype=np.float64)
    per_tier = np.bincount(tier, weights=want, minlength=n_tiers)[:n_tiers]
    total = per_tier.sum()
    if total <= 0:
        return want.copy()
    if total >= supply and queue is not None:
        # by tier, then time in the tier, then index: two stable sorts (cheaper than lexsort)
        by_q = np.argsort(queue, kind="stable")
        order = by_q[np.argsort(tier[by_q], kind="stable")]
        cum = np.cumsum(want[order])
        alloc = np.empty(len(want))
        alloc[order] = np.clip(supply - (cum - want[order]), 0.0, want[order])
        return alloc
    if total >= supply:
        before = np.concatenate([[0.0], np.cumsum(per_tier)[:-1]])
        alloc = np.clip(supply - before, 0.0, per_tier)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(per_tier > 0, alloc / per_tier, 0.0)
        return want * f[tier]
    if cap is None:
        return want * (supply / total)
    cap = np.maximum(np.asarray(cap, dtype=np.float64), want)
    pos = want > 0
    r = np.full(len(want), np.inf)
    r[pos] = cap[pos] / want[pos]  # the factor at which each video reaches its cap
    order = np.argsort(r, kind="stable")
    rs, ws, cs = r[order], want[order], cap[order]
    capped = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(rs), cs, 0.0))])  # sum of caps of the first i
    free = np.concatenate([np.cumsum(ws[::-1])[::-1], [0.0]])  # demand of videos i.. (not capped yet)
    # total at factor rs[i] (videos 0..i-1 capped, i.. scaled): capped[i] + rs[i] * free[i]
    with np.errstate(invalid="ignore"):
        at = capped[:-1] + rs * free[:-1]
    i = int(np.searchsorted(np.where(np.isfinite(at), at, np.inf), supply, side="left"))
    if i >= len(rs) or not np.isfinite(rs[min(i, len(rs) - 1)]):
        # even with every capped video at its cap, supply is left: uncapped (site-wide) take the rest
        s_ = (supply - capped[i]) / free[i] if i < len(rs) and free[i] > 0 else np.inf
    else:
        s_ = (supply - capped[i]) / free[i] if free[i] > 0 else rs[i]
    s_ = max(float(s_), 1.0)
    return np.minimum(cap, want * s_)


# The platform's periodic "model refresh": each viewer's top learned topics,
# recomputed from aud_pref every ``pref_refresh_hours`` of simulated time. Kept in
# ``world.extra`` (checkpointed with the world) so a copied or reloaded world
# behaves exactly like the one it came from.
TOP_KEY, TOP_STAMP_KEY = "viewer_top_topics", "viewer_top_stamp"


def viewer_top_topics(world: World, params: EngineParams, k: int = 2) -> np.ndarray:
    """``[N, k]`` int16: each viewer's ``k`` highest topics in ``aud_pref`` (refreshed periodically)."""
    stamp = int(np.floor(world.clock / params.pref_refresh_hours))
    N, T = world.aud_pref.shape
    k = min(k, T)
    hit = world.extra.get(TOP_KEY)
    if isinstance(hit, np.ndarray) and world.extra.get(TOP_STAMP_KEY) == stamp and hit.shape == (N, k):
        return hit
    out = np.zeros((N, k), np.int16)
    pref = world.aud_pref
    chunk = 65_536
    if pref.dtype == np.float16 and k <= 2 and T <= 255:
        for lo in range(0, N, chunk):  # chunks of viewers bound the copy's memory
            _top2_f16(pref[lo : lo + chunk], out[lo : lo + chunk])
        world.extra[TOP_KEY] = out
        world.extra[TOP_STAMP_KEY] = stamp
        return out
    for lo in range(0, N, chunk):
        if pref.dtype == np.float16:
            # float16 compared by its bits: a monotone int16 key (no float conversion)
            b = pref[lo : lo + chunk].view(np.int16)
            b = b ^ ((b >> 15) & np.int16(0x7FFF))
            low: float = np.iinfo(np.int16).min
        else:
            b = pref[lo : lo + chunk].astype(np.float32)
            low = -np.inf
        rows = np.arange(len(b))
        for j in range(k):
            i = b.argmax(axis=1)
            out[lo : lo + chunk, j] = i
            b[rows, i] = low
    world.extra[TOP_KEY] = out
    world.extra[TOP_STAMP_KEY] = stamp
    return out


def _top2_f16(pref: np.ndarray, out: np.ndarray) -> None:
    """``out[:, j]``: each row's ``j``-th highest column of a float16 ``[n, T]`` block
    (``j < 2``, ``T < 256``), ties to the lower column: the same as rounds of ``argmax``.

    Column by column on a transposed copy, with the column packed under each key
    (``key << 8 | 255 - column``: distinct within a row, so min/max passes find the top
    two): a few vector passes per topic, where ``argmax(axis=1)`` pays per short row."""
    n, T = pref.shape
    src = pref.view(np.int16)
    key16 = np.empty((T, n), np.int16)
    for i in range(0, n, 256):  # a blocked transpose (one big one is slow on 2-byte items)
        key16[:, i : i + 256] = src[i : i + 256].T
    key16 ^= (key16 >> 15) & np.int16(0x7FFF)  # float16 bits -> a monotone int16 key
    key = key16.astype(np.int32)
    del key16
    key <<= 8
    key |= (255 - np.arange(T, dtype=np.int32))[:, None]
    best1 = key[0].copy()
    best2 = np.full(n, np.iinfo(np.int32).min, np.int32)
    tmp = np.empty(n, np.int32)
    for t in range(1, T):
        np.minimum(key[t], best1, out=tmp)  # a new first pushes the old one to second
        np.maximum(best2, tmp, out=best2)
        np.maximum(best1, key[t], out=best1)
    out[:, 0] = 255 - (best1 & 255)
    if out.shape[1] > 1:
        out[:, 1] = 255 - (best2 & 255)


def _top_topics_by_slot(world: World, params: EngineParams, k: int) -> np.ndarray:
    """:func:`viewer_top_topics` transposed to ``[k, N]`` (one contiguous row per slot), cached;
    as bytes when the topics fit (a short step's scattered viewers touch half the lines)."""
    top = viewer_top_topics(world, params, k)
    hit = world.derived.top_topics_by_slot
    if hit is not None and hit[0] is top:
        return hit[1]
    out = np.ascontiguousarray(top.T, dtype=np.uint8 if world.aud_pref.shape[1] <= 256 else top.dtype)
    world.derived.top_topics_by_slot = (top, out)
    return out


def _viewer_groups(world: World, topT: np.ndarray, L: int, gt) -> np.ndarray:
    """Per viewer: ``top topic * L + language`` (the group key of :func:`match_viewers`), cached."""
    hit = world.derived.viewer_groups
    if hit is not None and hit[0] is topT and hit[1] is world.aud_language and hit[2] == (L, gt):
        return hit[3]
    g = topT[0].astype(gt) * gt(L)
    g += world.aud_language.astype(gt)
    world.derived.viewer_groups = (topT, world.aud_language, (L, gt), g)
    return g


TOPIC_SLACK = 4.0


@dataclass
class Allocation:
    """Impression slots of one step: pool entry per slot and the control mask."""

    ids: np.ndarray  # int64 video ids of the pool entries
    topic: np.ndarray  # int32 main topic per entry
    slot: np.ndarray  # int32 entry per slot (targeted slots first, then control)
    n_control: int  # the last n_control slots are the control slice
    dropped_control: int  # control impressions that found no budget left
    #: targeted slots per entry (``slot[:len(slot) - n_control]`` is ``repeat(arange, per_entry)``), if known
    per_entry: np.ndarray | None = None
    #: ``per_entry`` cut in parts (one per viewer chunk of a step), if it is
    parts: list[np.ndarray] | None = None
    #: every live video (active or site-wide, budget left or not), sorted, if known
    live: np.ndarray | None = None


def systematic_counts(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer counts with mean ``x`` (systematic sampling: one uniform), each
    ``floor(x[i])`` or ``ceil(x[i])``, adding up to ``round(sum(x))`` (give or take one)."""
    if len(x) == 0:
        return np.zeros(0, np.int64)
    c = np.floor(np.cumsum(x) + rng.random()).astype(np.int64)
    c[1:] -= c[:-1].copy()  # (np.diff(c, prepend=0): the same differences, without its concatenation)
    return c


def systematic_hits(w: np.ndarray, k: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`systematic_counts` of ``w * k / sum(w)`` (``w >= 0``), as the entries with a
    count and their counts: fewer passes over a long, mostly missed ``w`` (the catalogue).

    The running sum is taken over the weights in whole units of ``2**-52`` of their sum
    (an exact integer sum, several times cheaper than a float one); a weight below one
    unit, drawn with a chance under ``2**-52`` per slot, is never drawn."""
    total = float(w.sum())
    c = np.multiply(w, 2.0**52 / total if total > 0 else 0.0)
    c = np.cumsum(c.astype(np.int64))
    x = c.astype(np.float64)
    x *= float(k) / float(c[-1]) if len(c) and c[-1] > 0 else 0.0
    x += rng.random()
    np.floor(x, out=x)
    d = x.astype(np.int64)
    d[1:] -= d[:-1].copy()  # (whole numbers: exact differences)
    hit = np.flatnonzero(d != 0)
    return hit, d.take(hit)


def allocate(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    now: float,
    sound_heat: np.ndarray,
    tag_heat: np.ndarray,
    *,
    dt: float,
    n_targeted: int,
    n_control: int,
) -> Allocation:
    """How many impressions each live video gets this step (observable state only).

    Each live video with budget left asks for its demand (:func:`serving_demand`, a
    rate per hour). ``control_fraction`` of that demand is served to random viewers
    (the control slice: up to ``n_control`` of the audience's control impressions,
    drawn in proportion to demand; the rest of them are returned as
    ``dropped_control`` and join the targeted ones); the ``n_targeted`` targeted
    impressions are shared by :func:`waterfill` over what is left of the demand.
    Counts are rounded stochastically, never past a remaining budget and never
    more slots than ``n_targeted``. Spare supply is not pushed into the pools: it
    goes to the catalogue, so a pool fills at its own pace per hour, whatever the
    step length.
    """
    n = world.n_videos
    st = world.video_status[:n]
    ids = live = np.flatnonzero((st == ACTIVE) | (st == TOP))
    tier = np.minimum(world.video_tier[ids].astype(np.int64), params.top_tier)
    bounded = tier < params.top_tier
    remaining = tier_budget(params, tier) - np.where(bounded, world.video_tier_counts[ids, VIEW], 0)
    open_ = remaining > 0
    ids, remaining, tier, bounded = ids[open_], remaining[open_], tier[open_], bounded[open_]
    topic = world.video_topics[ids, 0].astype(np.int32)
    P = len(ids)
    if P == 0:
        return Allocation(ids, topic, np.zeros(0, np.int32), 0, n_control, live=live)
    want = serving_demand(world, params, ids, remaining, now, dt, sound_heat, tag_heat)
    total = float(want.sum())
    # control slice: a share of each video's demand, to random viewers
    n_ctrl = min(n_control, int(np.floor(params.control_fraction * total + rng.random()))) if total > 0 else 0
    ctrl = np.searchsorted(np.cumsum(want), rng.random(n_ctrl) * total, side="right").astype(np.int32)
    np.minimum(ctrl, P - 1, out=ctrl)
    got = np.bincount(ctrl, minlength=P)
    if (got > remaining).any():
        ctrl = ctrl[_within(ctrl, remaining, rng)]
        got = np.bincount(ctrl, minlength=P)
    dropped = n_control - len(ctrl)
    left = remaining - got
    want = np.minimum(np.maximum(want - got, 0.0), left)
    # targeted: each video at most its demand (lower tiers first when supply is short)
    if float(want.sum()) < n_targeted:  # (the usual case: every video gets its demand, as waterfill would give)
        w = want
    else:
        with np.errstate(invalid="ignore"):
            w = waterfill(tier, want, float(n_targeted), params.top_tier + 1, want, world.video_tier_entered[ids])
        if not np.isfinite(w).all():  # (rare: np.nan_to_num costs more than the check)
            w = np.nan_to_num(w, nan=0.0, posinf=float(n_targeted))
    alloc = systematic_counts(w, rng)
    np.minimum(alloc, np.where(bounded, left, np.iinfo(np.int64).max), out=alloc)
    np.maximum(alloc, 0, out=alloc)
    # entries in (topic, language) order: the slots come out grouped for match_viewers
    order = group_sort(world, topic, ids)
    ids, topic, alloc = ids[order], topic[order], alloc[order]
    where = np.empty(P, np.int32)
    where[order] = np.arange(P, dtype=np.int32)
    slot = np.repeat(np.arange(P, dtype=np.int32), alloc)
    per_entry = alloc
    if len(slot) > n_targeted:  # rounding overshot the supply: drop random slots
        slot = np.sort(rng.choice(slot, size=n_targeted, replace=False)) if n_targeted else np.zeros(0, np.int32)
        per_entry = np.bincount(slot, minlength=P)
    return Allocation(ids, topic, np.concatenate([slot, where.take(ctrl)]), len(ctrl), dropped, per_entry, live=live)


def _within(chosen: np.ndarray, remaining: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask keeping, per entry, at most ``remaining`` of the impressions (a random subset)."""
    perm = rng.permutation(len(chosen))
    c = chosen[perm]
    order = np.argsort(c, kind="stable")
    sc = c[order]
    rank = np.arange(len(sc)) - np.searchsorted(sc, sc, side="left")
    keep = np.empty(len(chosen), bool)
    keep[perm[order]] = rank < remaining[sc]
    return keep


_ARANGE: list[np.ndarray] = [np.arange(0, dtype=np.intp)]


def _arange(n: int) -> np.ndarray:
    """``arange(n)`` (intp), a read-only view of a cached buffer (no fill per call)."""
    buf = _ARANGE[0]
    if len(buf) < n:
        buf = np.arange(max(n, 2 * len(buf)), dtype=np.intp)
        buf.flags.writeable = False
        _ARANGE[0] = buf
    return buf[:n]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorised, as
    intp (the results index other arrays: numpy converts any other index type in each gather)."""
    lengths = np.maximum(lengths, 0)
    tot = int(lengths.sum())
    if tot == 0:
        return np.zeros(0, np.intp)
    shift = starts - (np.cumsum(lengths) - lengths)
    out = np.repeat(shift.astype(np.intp), lengths)
    out += _arange(tot)
    return out


def _pair_counts(cv: np.ndarray, cs: np.ndarray, rng: np.random.Generator):
    """Match two group-sorted sequences group by group (``cv``, ``cs`` entries per group):
    ``min`` pairs per group; returns (viewer positions, slot positions, viewer
    leftovers, slot leftovers, matches per group).

    On each side, per group: a cyclic window of ``m[g]`` entries at a random offset
    (taken, in window order) and the rest (left, in group order). Both sides' windows
    and rests come out of one :func:`_ranges` (one pass, then four views)."""
    G = len(cv)
    m = np.minimum(cv, cs)
    count = np.concatenate([cv, cs]).astype(np.intp, copy=False)  # viewers' groups, then slots'
    mm = np.concatenate([m, m])
    start = np.cumsum(count)
    start -= count
    nv = int(start[G])  # viewers in all
    start[G:] -= nv  # each side's positions from 0
    # a random offset in [0, count) where the window is not the whole group, else 0
    # (truncation is floor here: the values are >= 0)
    off = (rng.random(2 * G) * count).astype(np.intp)
    off *= mm < count
    end = off + mm  # window [off, end) of [0, count), wrapping past count
    wrap = end - count  # > 0: the window goes on at 0
    w0 = np.maximum(wrap, 0)
    # ranges ordered (taken / left, side, group, piece): the window is [off, end) then
    # [0, wrap); the rest is [max(wrap, 0), off) then [end, count) (empty when wrapped)
    starts = np.empty((2, 2 * G, 2), np.intp)
    lens = np.empty((2, 2 * G, 2), np.intp)
    starts[0, :, 0], lens[0, :, 0] = start + off, np.minimum(end, count) - off
    starts[0, :, 1], lens[0, :, 1] = start, wrap
    starts[1, :, 0], lens[1, :, 0] = start + w0, off - w0
    starts[1, :, 1], lens[1, :, 1] = start + end, count - end
    pos = _ranges(starts.reshape(-1), lens.reshape(-1))
    k = int(m.sum())
    return pos[:k], pos[k : 2 * k], pos[2 * k : k + nv], pos[k + nv :], m


def _stable_order(key: np.ndarray, n_keys: int) -> np.ndarray:
    """``argsort(key, kind="stable")`` (a radix sort; on one byte when the keys fit)."""
    if n_keys <= 256 and key.dtype != np.uint8:
        key = key.astype(np.uint8)
    return np.argsort(key, kind="stable")  # (intp: it indexes other arrays)


def _sorted_counts(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """``bincount(keys, minlength=n_keys)`` of sorted ``keys`` in ``[0, n_keys)``, by
    searching the group bounds (cheaper than a bincount, which first converts its
    whole input to intp)."""
    bounds = np.empty(n_keys + 1, np.intp)
    bounds[0], bounds[-1] = 0, len(keys)
    bounds[1:-1] = np.searchsorted(keys, np.arange(1, n_keys, dtype=keys.dtype))
    return np.diff(bounds)


def _group_type(n_groups: int) -> type:
    """The integer type of :func:`match_viewers`'s group keys (one byte or int16 when they
    fit: a narrow per-viewer table is fewer cache lines, and sorts with no conversion)."""
    return np.uint8 if n_groups <= 256 else np.int16 if n_groups < 2**15 else np.int32


def prepare_matching(world: World, params: EngineParams) -> None:
    """Refresh the tables :func:`match_viewers` reads now (before it runs in several threads)."""
    T = world.aud_pref.shape[1]
    topT = _top_topics_by_slot(world, params, min(2, T))
    L = max(len(world.language_codes), 1)
    _viewer_groups(world, topT, L, _group_type(T * L))


def match_viewers(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    viewers: np.ndarray,
    slot_video: np.ndarray,
    slot_topic: np.ndarray,
    *,
    slot_group_counts: np.ndarray | None = None,
) -> np.ndarray:
    """Give each viewer impression one of the slots (or -1: none left), by the platform's
    estimate of interests (see the section comment); returns the slot index per impression
    (intp: it indexes the slots; pass ``viewers`` as intp too, for the same reason).

    Each slot is used at most once; as many impressions as slots are matched.
    ``slot_group_counts``: the slots are already sorted by group key ``topic *
    n_languages + video language`` (as :func:`allocate` and
    :func:`catalogue_allocation` make them), with this many slots in each group
    (``[T * n_languages]``), which saves reading any per-slot key and a sort.
    """
    n, S = len(viewers), len(slot_video)
    out = np.full(n, -1, np.intp)
    if n == 0 or S == 0:
        return out
    N, T = world.aud_pref.shape
    k = min(2, T)
    topT = _top_topics_by_slot(world, params, k)
    L = max(len(world.language_codes), 1)
    G = T * L
    gt = _group_type(G)
    mixed = k > 1 and params.second_topic_share > 0
    second = rng.random(n, dtype=np.float32) < np.float32(params.second_topic_share) if mixed else None
    if mixed:
        want = topT[0].take(viewers).astype(gt, copy=False)
        np.copyto(want, topT[1].take(viewers), where=second, casting="unsafe")
        gv = want * gt(L)
        gv += world.aud_language.take(viewers).astype(gt)
    else:  # each viewer's (top topic, language) group, tabulated once per refresh of the estimate
        gv = _viewer_groups(world, topT, L, gt).take(viewers)
    ov = _stable_order(gv, G)
    cv = _sorted_counts(gv.take(ov), G)
    os_ = None  # None: the identity (slots already in group order)
    if slot_group_counts is not None:
        cs = np.asarray(slot_group_counts, dtype=np.int64)[:G]
        if len(cs) != G or int(cs.sum()) != S:
            raise ValueError(f"slot_group_counts: {G} groups adding up to {S} slots expected")
    else:
        gs = slot_topic.astype(gt) * gt(L)
        gs += world.video_language.take(slot_video).astype(gt)
        os_ = _stable_order(gs, G)
        cs = np.bincount(gs, minlength=G)[:G]
    # level 0: topic and language; level 1: topic (leftovers stay in group order)
    for level in range(2):
        tv, ts, lv, ls, m = _pair_counts(cv, cs, rng)
        if os_ is None:  # the identity: slot positions are the slots
            np.put(out, ov.take(tv), ts)
            ov, os_ = ov.take(lv), ls
        else:
            np.put(out, ov.take(tv), os_.take(ts))
            ov, os_ = ov.take(lv), os_.take(ls)
        if len(ov) == 0 or len(os_) == 0:
            return out
        cv, cs = cv - m, cs - m
        if level == 0:
            cv, cs = cv.reshape(T, L).sum(axis=1), cs.reshape(T, L).sum(axis=1)
    assert os_ is not None  # level 0 made the slot positions explicit
    # level 2: the viewer's other top topic (slots stay sorted by topic)
    if k > 1:
        who = viewers.take(ov)
        a = topT[1].take(who).astype(gt, copy=False)
        if second is not None:
            np.copyto(a, topT[0].take(who), where=second.take(ov), casting="unsafe")
        # only the viewers whose topic here has slots left can be matched: sorted alone, they
        # pair with the same slots (the same windows: each such group has the same count,
        # and the random offsets are drawn per group either way); when every slot finds a
        # viewer (the usual case), the others are never needed
        sub = np.flatnonzero((cs > 0).take(a))
        a_sub = a.take(sub)
        o2 = _stable_order(a_sub, T)
        cv2 = _sorted_counts(a_sub.take(o2), T)
        if (cv2 >= cs).all():
            tv, ts, lv, ls, m = _pair_counts(cv2, cs, rng)
            np.put(out, ov.take(sub.take(o2)).take(tv), os_.take(ts))
            return out
        o2 = _stable_order(a, T)
        ov = ov.take(o2)
        tv, ts, lv, ls, m = _pair_counts(_sorted_counts(a.take(o2), T), cs, rng)
        np.put(out, ov.take(tv), os_.take(ts))
        if not (len(lv) and len(ls)):  # (the usual end: one side is used up)
            return out
        ov, os_ = ov.take(lv), os_.take(ls)
    # what is left: at random
    m = min(len(ov), len(os_))
    if m:
        v_pick = ov if m == len(ov) else rng.choice(ov, size=m, replace=False)
        np.put(out, v_pick, rng.permutation(os_)[:m])
    return out


def entry_groups(world: World, ids: np.ndarray, topic: np.ndarray) -> np.ndarray:
    """Per pool entry: its group key of :func:`match_viewers`, ``topic * L + language`` (int16 or int32)."""
    L = max(len(world.language_codes), 1)
    gt = _group_type(max(world.aud_pref.shape[1], 1) * L)
    g = topic.astype(gt) * gt(L)
    g += world.video_language.take(ids).astype(gt)
    return g


def group_counts(world: World, groups: np.ndarray, per_entry: np.ndarray) -> np.ndarray:
    """Slots per group key of :func:`match_viewers`, from each entry's group key
    (:func:`entry_groups`) and slot count."""
    G = max(world.aud_pref.shape[1], 1) * max(len(world.language_codes), 1)
    return np.bincount(groups, weights=per_entry, minlength=G)[:G].astype(np.int64)


def group_sort(world: World, topic: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Order of entries by (topic, language): the group key of :func:`match_viewers`."""
    L = max(len(world.language_codes), 1)
    key = topic.astype(np.int64) * L + world.video_language[ids]
    return np.argsort(key.astype(np.int16) if max(world.n_topics, 1) * L < 2**15 else key, kind="stable")
