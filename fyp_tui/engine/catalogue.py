"""The catalogue: stalled videos, out of the pools, still served with the impressions
the pools cannot absorb, each in proportion to its catalogue weight (its lifetime
engagement, its creator's reach and its age); lifetime counters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fyp_tui.engine.ladder import STALLED
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.pools import Allocation, creator_reach, group_sort, systematic_counts, systematic_hits
from fyp_tui.engine.world import World


@dataclass
class CatalogueWeights:
    """Every video's catalogue weight (:func:`catalogue_allocation`) but for its age
    factor's common part: ``2^((upload - ref) / half_life) x (1 + creator_boost x reach)
    x catalogue_tier_boost^tier`` for a stalled video, 0 for any other. The weight at
    ``now`` is this times ``2^((ref - now) / half_life)``, one factor for every video,
    which normalising takes out: the same weights, to float rounding, without
    recomputing them over the whole catalogue each step.

    Kept (``World.derived.catalogue``) with snapshots of what it depends on; each use
    recomputes only the rows whose status or tier changed since, the stalled videos of
    creators whose followers changed, and the videos added since (a video's upload
    time and creator never change once it is added)."""

    key: tuple[float, float, float]  # (half_life_hours, creator_boost, catalogue_tier_boost)
    ref: float  # the time the age factor counts from
    n: int  # videos covered (the first n rows of the buffers)
    status: np.ndarray  # int8 snapshot of video_status
    tier: np.ndarray  # int8 snapshot of video_tier
    followers: np.ndarray  # snapshot of creator_followers
    weight: np.ndarray  # float64
    latest: float  # no stalled video was uploaded after this


def _catalogue_rows(world: World, params: EngineParams, cw: CatalogueWeights, rows: np.ndarray) -> None:
    """Recompute the rows ``rows`` (distinct) of ``cw`` from the world now."""
    st = world.video_status[rows]
    cw.status[rows] = st
    cw.tier[rows] = world.video_tier[rows]
    w = np.zeros(len(rows))
    at = np.flatnonzero(st == STALLED)
    if len(at):
        ids = rows[at]
        up = world.video_upload_time[ids]
        x = np.exp2((up - cw.ref) / params.half_life_hours)
        x *= 1.0 + params.creator_boost * creator_reach(world)[world.video_creator[ids]]
        if params.catalogue_tier_boost != 1.0:  # what climbed further keeps being recommended more
            x *= np.float64(params.catalogue_tier_boost) ** world.video_tier[ids]
        w[at] = x
        cw.latest = max(cw.latest, float(up.max()))
    cw.weight[rows] = w


def catalogue_weights(world: World, params: EngineParams, now: float) -> np.ndarray | None:
    """Per video (``[n_videos]``), its catalogue weight up to a factor common to all
    (see :class:`CatalogueWeights`; 0 for a video not stalled), brought up to date;
    None if a stalled video was uploaded after ``now`` (its age is then taken as 0,
    not negative: the caller computes the weights directly)."""
    n = world.n_videos
    hl = params.half_life_hours
    key = (float(hl), float(params.creator_boost), float(params.catalogue_tier_boost))
    fol = world.creator_followers
    cw = world.derived.catalogue
    if cw is None or cw.key != key or cw.n > n or len(cw.followers) != len(fol) or abs(now - cw.ref) > 64 * hl:
        cap = max(n + n // 2, 1024)
        cw = CatalogueWeights(
            key, float(now), 0, np.empty(cap, np.int8), np.empty(cap, np.int8), fol.copy(), np.empty(cap), -np.inf
        )
        world.derived.catalogue = cw
        rows = np.arange(n)
    else:
        m = cw.n
        st, tier = world.video_status[:m], world.video_tier[:m]
        moved = st != cw.status[:m]
        moved |= tier != cw.tier[:m]
        chg = fol != cw.followers
        if chg.any():  # (followers change every step, for a few creators: their stalled videos)
            moved |= chg.take(world.video_creator[:m]) & (st == STALLED)
            cw.followers[:] = fol
        rows = np.flatnonzero(moved)
        if n > m:
            rows = np.concatenate([rows, np.arange(m, n)])
        if n > len(cw.weight):
            cap = n + n // 2
            for name in ("status", "tier", "weight"):
                old = getattr(cw, name)
                grown = np.empty(cap, old.dtype)
                grown[:m] = old[:m]
                setattr(cw, name, grown)
    if len(rows):
        _catalogue_rows(world, params, cw, rows)
    cw.n = n
    if cw.latest > now:
        return None
    return cw.weight[:n]


def _catalogue_weights_now(world: World, params: EngineParams, now: float) -> np.ndarray:
    """Per video, its catalogue weight at ``now`` (0 unless stalled), computed directly."""
    n = world.n_videos
    ids = np.flatnonzero(world.video_status[:n] == STALLED)
    age = np.maximum(now - world.video_upload_time[ids], 0.0)
    w = np.exp2(-age / params.half_life_hours)
    w *= 1.0 + params.creator_boost * creator_reach(world)[world.video_creator[ids]]
    if params.catalogue_tier_boost != 1.0:
        w *= np.float64(params.catalogue_tier_boost) ** world.video_tier[ids]
    out = np.zeros(n)
    out[ids] = w
    return out


def catalogue_allocation(
    world: World, params: EngineParams, rng: np.random.Generator, now: float, k: int | Sequence[int]
) -> Allocation | None:
    """``k`` impression slots over the stalled videos (the catalogue), each drawn with
    probability proportional to its catalogue weight: ``(1 + creator_boost * reach) x
    2^(-age / half_life) x catalogue_tier_boost^tier``, age since upload, tier the
    one it stalled in (:func:`catalogue_weights`). Catalogue views count in lifetime
    counters only, never in a tier's (a stalled video is not being judged).

    ``k`` a list of sizes: one sample per size (a step's viewer chunks), over the same
    entries; ``parts`` holds each one's slots per entry."""
    sizes = [int(x) for x in np.atleast_1d(k)]
    if sum(sizes) <= 0:
        return None
    w = catalogue_weights(world, params, now)
    if w is None:
        w = _catalogue_weights_now(world, params, now)
    total = w.sum()
    if not total > 0:
        return None
    if len(sizes) == 1:  # (one chunk: only the videos that get a slot come out)
        ids, c = systematic_hits(w, sizes[0], rng)
        parts = [c]
    else:
        parts = [systematic_counts(w * (size / total), rng) for size in sizes]
        c = np.sum(parts, axis=0)
        ids = np.flatnonzero(c)  # only the videos that get a slot (keeps the step's per-entry tables small)
    topic = world.video_topics[ids, 0].astype(np.int32)
    order = group_sort(world, topic, ids)  # slots grouped by (topic, language)
    ids, topic = ids.take(order), topic.take(order)
    if len(sizes) == 1:
        c = c.take(order)
        parts = [c]
    else:
        parts = [x.take(ids) for x in parts]
        c = c.take(ids)
    slot = np.repeat(np.arange(len(ids), dtype=np.int32), c)
    return Allocation(ids, topic, slot, 0, 0, c, parts if len(parts) > 1 else None)
