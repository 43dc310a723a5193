"""The tier ladder and the targeted pools: the recommender's side of the simulation.

Everything here reads **observable** state only: metadata, counters per tier,
tiers, trends, and the platform's learned estimate of each viewer's interests
(``aud_pref``). It never reads ``video_quality``, ``creator_skill``,
``aud_topics`` / ``aud_topic_w`` or ``aud_like_prop`` (a test proves it).

The ladder
----------
A video enters tier 0 on upload. Each bounded tier has an impression budget
(:attr:`EngineParams.ladder`). The video's **tier score** is a weighted sum of the
rates of its tier counters (completion, like, share, favourite, comment, follow,
minus skip and not-interested). Its standard error comes from a normal
approximation of the weighted sum of Bernoulli rates. The decision:

* when the budget is spent: promote iff the lower confidence bound
  ``lcb = score - z * se`` reaches the tier's bar, else stall ("below bar");
* earlier, once ``max(min_sample, early_fraction * budget)`` impressions are in:
  promote if ``lcb >= bar``; stall if the upper bound ``ucb < bar`` ("settled");
* a live video whose heat (freshness) falls below ``fade_floor`` stalls ("faded").

Promotion resets the tier counters and restarts the heat clock (``video_tier_entered``).
A video passing the last bounded tier becomes ``Status.TOP``: served site-wide,
with no budget, until it fades. A stalled video leaves the pools; a trend may
re-ignite it (see :func:`reignite`).

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
the pools cannot absorb goes to stalled videos (:func:`catalogue_allocation`,
lifetime counters only). Viewers are then matched to the slots by the platform's
observable estimate: each impression asks for the viewer's top learned topic
(``aud_pref``, refreshed every ``pref_refresh_hours``; the second one with
``second_topic_share``), in the viewer's language first (the weak country/language
terms), then any language, then the viewer's other top topic, then anything left.

"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.events import Event, Milestone, Promoted, Reignited, Stalled
from fyp_tui.engine.ledger import Ledger, credit_all
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import N_SIGNALS, Signal, Status, World

VIEW = int(Signal.VIEW)
# plain ints: numpy compares an array with an IntEnum member several times slower
ACTIVE, STALLED, TOP = int(Status.ACTIVE), int(Status.STALLED), int(Status.TOP)


# -- the score --------------------------------------------------------------------------


def score_counts(counts: np.ndarray, weights: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, lcb, ucb)`` of rows of tier counters ``[k, N_SIGNALS]``.

    ``score = sum_s w_s * count_s / views``; the variance of the weighted sum of
    Bernoulli rates is ``sum_s w_s^2 p_s (1 - p_s) / views`` with ``p_s`` smoothed
    by half a success (so a zero count on a small sample is not certain). With no
    views the bounds are ``-inf`` / ``+inf``.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, N_SIGNALS)
    n = counts[:, VIEW]
    safe = np.maximum(n, 1.0)[:, None]
    rates = counts / safe
    score = rates @ weights
    p = (counts + 0.5) / (safe + 1.0)
    var = (p * (1.0 - p)) @ (weights * weights) / safe[:, 0]
    half = z * np.sqrt(var)
    lcb = np.where(n > 0, score - half, -np.inf)
    ucb = np.where(n > 0, score + half, np.inf)
    return score, lcb, ucb


def tier_score(world: World, params: EngineParams, videos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, lcb, ucb)`` of the videos' current tier (for explain and the app)."""
    videos = np.asarray(videos, dtype=np.int64).reshape(-1)
    return score_counts(world.video_tier_counts[videos], params.weight_vector(), params.z)


BARS_KEY = "tier_bars"
#: per bounded tier, the time-decayed (promoted, judged) decisions the bars adapt to
EVIDENCE_KEY = "tier_bar_evidence"
#: decisions taken since the bars last adapted (folded in by :func:`adapt_bars`)
PENDING_KEY = "tier_bar_pending"


def current_bars(world: World | None, params: EngineParams) -> np.ndarray:
    """The bars in force: the world's adapted bars (``world.extra["tier_bars"]``) or the params'."""
    if world is not None and params.bar_rate > 0:
        b = (world.extra or {}).get(BARS_KEY)
        if isinstance(b, list) and len(b) == params.n_bounded:
            return np.array(b, dtype=np.float64)
    return np.array(params.bars, dtype=np.float64)


def promotion_bar(params: EngineParams, tiers, world: World | None) -> np.ndarray:
    """The bar each tier's lower confidence bound must reach (``inf`` for site-wide):
    the bars in force in ``world`` (see :func:`adapt_bars`); ``None`` gives the
    scenario's starting bars (say so where you show them)."""
    bars = np.array([*current_bars(world, params), np.inf])
    # (minimum of maximum: np.clip costs several times more per call, the same values)
    return bars[np.minimum(np.maximum(np.asarray(tiers, dtype=np.int64), 0), params.top_tier)]


def _note_decisions(world: World, params: EngineParams, tiers: np.ndarray, promoted: np.ndarray) -> None:
    """Add judged decisions (not fades) to the pending tally :func:`adapt_bars` reads."""
    if params.bar_rate <= 0 or len(tiers) == 0:
        return
    K = params.n_bounded
    t = np.asarray(tiers, dtype=np.int64)
    ok = t < K
    up = np.bincount(t[ok & promoted], minlength=K)[:K]
    n = np.bincount(t[ok], minlength=K)[:K]
    pending = world.extra.get(PENDING_KEY)
    if not (isinstance(pending, list) and len(pending) == 2 * K):
        pending = [0] * (2 * K)
    world.extra[PENDING_KEY] = [int(a) + int(b) for a, b in zip(pending, [*up.tolist(), *n.tolist()])]


def adapt_bars(world: World, params: EngineParams, dt: float) -> None:
    """Move each tier's bar towards the one that promotes ``promote_share`` of its decisions.

    The decisions since the last call join a time-decayed tally (window
    ``bar_window_hours``); each bar then moves by ``bar_rate * dt * (share promoted in
    the window - promote_share)``. Written per simulated hour, so the bars follow
    the same path whatever the step length, and a burst of thousands of decisions
    (a new world's backlog) moves them no faster than a steady trickle. The bars
    and the tally live in ``world.extra`` and are checkpointed with the world.
    """
    if params.bar_rate <= 0 or not dt > 0:
        return
    # (plain Python floats: a handful of numbers, each the same IEEE operation as numpy's)
    K = params.n_bounded
    pending = world.extra.pop(PENDING_KEY, None)
    new = [float(x) for x in pending] if isinstance(pending, list) and len(pending) == 2 * K else [0.0] * (2 * K)
    ev = world.extra.get(EVIDENCE_KEY)
    old = [float(x) for x in ev] if isinstance(ev, list) and len(ev) == 2 * K else [0.0] * (2 * K)
    f = 0.5 ** (dt / params.bar_window_hours)
    tally = [o * f + x for o, x in zip(old, new)]
    world.extra[EVIDENCE_KEY] = [round(x, 6) for x in tally]
    up, n = tally[:K], tally[K:]
    step = params.bar_rate * dt
    b = world.extra.get(BARS_KEY)
    bars = [float(x) for x in b] if isinstance(b, list) and len(b) == K else [float(x) for x in params.bars]
    out = []
    for bar, u, m, share in zip(bars, up, n, params.promote_share):
        err = u / max(m, 1e-12) - float(share) if m > 0 else 0.0
        # little evidence moves a bar little (a few decisions are mostly noise)
        err *= m / (m + 5.0)
        out.append(round(min(max(bar + step * err, -2.0), 4.0), 6))
    world.extra[BARS_KEY] = out


def tier_budget(params: EngineParams, tiers) -> np.ndarray:
    """Impression budget of each tier (int64 max for the site-wide tier)."""
    t = np.asarray(tiers, dtype=np.int64)
    return params.budgets()[np.minimum(np.maximum(t, 0), params.top_tier)]  # (clip costs more per call)


def heat(world: World, params: EngineParams, videos: np.ndarray, now: float) -> np.ndarray:
    """Freshness in (0, 1]: halves every ``half_life_hours`` since the video entered its tier."""
    age = np.maximum(now - world.video_tier_entered[videos], 0.0)
    return np.exp2(-age / params.half_life_hours)


# -- decisions ----------------------------------------------------------------------------

# decision codes
KEEP, PROMOTE, STALL_BAR, STALL_SETTLED, STALL_FADED = 0, 1, 2, 3, 4
_REASONS = {STALL_BAR: "below bar", STALL_SETTLED: "settled below bar", STALL_FADED: "faded"}


def decide_codes(
    tier: np.ndarray,
    status: np.ndarray,
    views: np.ndarray,
    lcb: np.ndarray,
    ucb: np.ndarray,
    hot: np.ndarray,
    params: EngineParams,
    world: World | None = None,
) -> np.ndarray:
    """The pure decision rule at a look (see the module doc) as a code per video.

    ``views`` are impressions in the current tier at the look, ``hot`` the heat.
    Only live videos (ACTIVE or TOP) are decided; everything else keeps ``KEEP``.
    At the budget a video is promoted or stalled; at an earlier look (at least
    :func:`look_views`'s first) it is promoted if its lower bound clears the bar,
    stalled if its upper bound is below it, else it waits for the next look.
    """
    tier = np.asarray(tier, dtype=np.int64)
    budget = tier_budget(params, tier)
    bar = promotion_bar(params, tier, world)
    active = (np.asarray(status) == ACTIVE) & (tier < params.top_tier)
    top = np.asarray(status) == TOP
    at_budget = views >= budget
    early = views >= look_views(params)[np.minimum(tier, params.top_tier), 0]
    code = np.full(len(tier), KEEP, dtype=np.int8)
    promote = active & (at_budget | early) & (lcb >= bar)
    stall_bar = active & ~promote & at_budget
    settled = active & ~promote & ~at_budget & early & (ucb < bar)
    faded = (active | top) & ~promote & ~stall_bar & ~settled & (hot < params.fade_floor)
    code[promote] = PROMOTE
    code[stall_bar] = STALL_BAR
    code[settled] = STALL_SETTLED
    code[faded] = STALL_FADED
    return code


_LOOKS: dict[tuple, np.ndarray] = {}


def look_views(params: EngineParams) -> np.ndarray:
    """``[tiers, looks]``: the impressions in a tier at which its decision is looked at.

    Every ``early_fraction`` of the budget (a quarter by default: a quarter, half,
    three quarters), each at least ``min_sample``, and the budget itself last; a
    look that would repeat an earlier one's count is dropped (int64 max, never
    reached), as is every look of the site-wide tier. A decision is taken only
    when a tier's impressions cross one of these: each look is one more chance for
    noise, so a fixed set of looks per tier keeps the ladder's pass rates the same
    whatever the step length (read-only, cached)."""
    key = (params.ladder, params.min_sample, params.early_fraction)
    hit = _LOOKS.get(key)
    if hit is None:
        never = np.iinfo(np.int64).max
        n_early = min(int(np.ceil(1.0 / params.early_fraction - 1e-9)) - 1, 19)
        rows = []
        for b in params.ladder:
            pts = [
                min(b, max(params.min_sample, int(np.ceil(k * params.early_fraction * b))))
                for k in range(1, n_early + 1)
            ]
            pts.append(b)
            row, last = [], 0
            for q in pts:
                row.append(q if q > last else never)
                last = max(last, q)
            rows.append(row)
        rows.append([never] * (n_early + 1))
        hit = np.array(rows, dtype=np.int64)
        hit.flags.writeable = False
        _LOOKS[key] = hit
    return hit


def _served_rows(videos: np.ndarray, served: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Per video: this batch's tier-counter deltas (zeros where it was not served)."""
    d = np.zeros((len(videos), N_SIGNALS), np.int64)
    if served is None or len(served[0]) == 0:
        return d
    ids = np.asarray(served[0], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    pos = np.minimum(np.searchsorted(sid, videos), len(sid) - 1)
    hit = sid[pos] == videos
    d[hit] = np.asarray(served[1], dtype=np.int64).reshape(-1, N_SIGNALS)[order[pos[hit]]]
    return d


def _subsample(inc: np.ndarray, n: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Counter increments ``[k, N_SIGNALS]`` thinned to their first ``n`` impressions:
    each signal's count hypergeometric (impressions in a batch are exchangeable). Rows
    already at ``n`` impressions are kept as they are.

    One draw for every (row, signal) whose thinned count is not certain (neither none
    nor all of the row's impressions carry the signal), not one call per signal."""
    out = inc.copy()
    part = np.flatnonzero(n < inc[:, VIEW])
    if len(part) == 0:
        return out
    if rng is None:
        raise ValueError("a look inside a batch of impressions needs an rng")
    views = inc[part, VIEW][:, None]
    take = np.broadcast_to(n[part][:, None], (len(part), N_SIGNALS))
    good = np.minimum(np.maximum(inc[part], 0), views)
    res = np.where(good >= views, take, 0)
    r, s = np.nonzero((good > 0) & (good < views))
    if len(r):
        g = good[r, s]
        res[r, s] = rng.hypergeometric(g, views[r, 0] - g, take[r, s])
    res[:, VIEW] = take[:, 0]
    out[part] = res
    return out


def _counts_at_looks(
    delta: np.ndarray,
    base: np.ndarray,
    looks: np.ndarray,
    rows: np.ndarray,
    js: np.ndarray,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """The tier counts at each crossed look ``(rows[i], js[i])`` (sorted by row, then
    look): the counts before the batch ``base`` plus the batch's ``delta`` thinned to
    the look (:func:`_subsample`), nested from each row's last crossed look down (the
    first ``q`` impressions of the batch are a subset of its first ``q' > q``).

    A row's crossed looks are consecutive pairs; round ``r`` thins every row's
    ``r``-th look from its last at once (one round for most steps)."""
    k = len(rows)
    out = np.empty((k, N_SIGNALS), np.int64)
    if k == 0:
        return out
    last = np.empty(k, np.intp)  # index of each pair's row's last pair
    new_row = np.ones(k, bool)
    np.not_equal(rows[1:], rows[:-1], out=new_row[:-1])
    ends = np.flatnonzero(new_row)  # each row's last pair
    last[:] = np.repeat(ends, np.diff(ends, prepend=-1))
    back = last - np.arange(k)  # 0 for a row's last look, 1 for the one before ...
    inc = delta.copy()
    for r in range(int(back.max()) + 1):
        at = np.flatnonzero(back == r)
        rr = rows[at]
        inc[rr] = _subsample(inc[rr], looks[rr, js[at]] - base[rr, VIEW], rng)
        out[at] = base[rr] + inc[rr]
    return out


def decide(
    world: World,
    params: EngineParams,
    videos: np.ndarray,
    now: float,
    *,
    served: tuple[np.ndarray, np.ndarray] | None = None,
    since: float | None = None,
    rng: np.random.Generator | None = None,
    people: Sequence[Ledger] = (),
) -> list[Event]:
    """Take the tier decisions due now among ``videos``, apply them and return the events.

    ``served = (ids, delta)``: the tier-counter deltas just added (a simulation
    step's, or one person's reaction). A decision is looked at only where they
    carried a video's tier impressions across one of :func:`look_views`; the
    counts at that look are the ones before the batch plus the batch's first
    impressions up to it (:func:`_subsample`, drawn with ``rng``), and the first look
    that decides wins. Its promotion dates from the look's place in the batch
    (``since`` is when the batch began). Without ``served``, each video is looked
    at once with its counts now (if it has reached its first look). Any live video
    whose heat is below ``fade_floor`` stalls ("faded").

    ``people``: the ledgers of the people watching; a decision that one of them
    tipped (:func:`~fyp_tui.engine.ledger.credit`) carries ``tipped_by``,
    ``profile`` and ``instead`` (what would have happened without them).
    """
    videos = np.asarray(videos, dtype=np.int64).reshape(-1)
    if len(videos) > 1 and not (videos[1:] > videos[:-1]).all():
        videos = np.unique(videos)
    if len(videos) == 0:
        return []
    status = world.video_status[videos]
    live = (status == ACTIVE) | (status == TOP)
    if not live.all():
        videos, status = videos[live], status[live]
    if len(videos) == 0:
        return []
    tier = np.minimum(world.video_tier[videos].astype(np.int64), params.top_tier)
    hot = heat(world, params, videos, now)
    looks = look_views(params)[tier]  # [m, L]
    views = world.video_tier_counts[videos, VIEW]
    if served is None:
        delta = np.zeros((len(videos), N_SIGNALS), np.int64)
        passed = looks <= views[:, None]
        crossed = np.zeros_like(passed)
        last = passed.sum(axis=1) - 1  # the last look reached, if any
        has = (last >= 0) & (status == ACTIVE)
        crossed[np.flatnonzero(has), last[has]] = True
    else:
        delta = _served_rows(videos, served)
        before = views - delta[:, VIEW]
        crossed = (looks > before[:, None]) & (looks <= views[:, None]) & (status == ACTIVE)[:, None]
    due = crossed.any(axis=1) | (hot < params.fade_floor)
    if not due.all():
        keep = np.flatnonzero(due)
        videos, status, tier, hot, looks, views, delta, crossed = (
            videos[keep],
            status[keep],
            tier[keep],
            hot[keep],
            looks[keep],
            views[keep],
            delta[keep],
            crossed[keep],
        )
        if len(videos) == 0:
            return []
    m = len(videos)
    now_counts = world.video_tier_counts[videos]
    base = now_counts - delta
    # every crossed look (row, look), by row then look, with the counts at it
    pr, pj = np.nonzero(crossed)
    at = now_counts[pr] if served is None else _counts_at_looks(delta, base, looks, pr, pj, rng)
    code = np.full(m, KEEP, np.int8)
    look_at = np.full(m, -1, np.int64)
    pair = np.full(m, -1, np.intp)  # the pair a row was decided at
    w, z = params.weight_vector(), params.z
    if len(pr):
        # each look judged on its own counts (a pure rule), then per row the first that decides
        p_score, p_lcb, p_ucb = score_counts(at, w, z)
        c = decide_codes(tier[pr], status[pr], at[:, VIEW], p_lcb, p_ucb, np.ones(len(pr)), params, world)
        dec = np.flatnonzero(c != KEEP)
        starts = np.ones(len(dec), bool)
        np.not_equal(pr[dec[1:]], pr[dec[:-1]], out=starts[1:])
        first = dec[starts]
        rws = pr[first]
        code[rws], look_at[rws], pair[rws] = c[first], pj[first], first
    fade = (code == KEEP) & (hot < params.fade_floor)
    code[fade] = STALL_FADED
    hit = np.flatnonzero(code != KEEP)
    if len(hit) == 0:
        return []
    v, t, c = videos[hit], tier[hit], code[hit]
    j = look_at[hit]
    judged_at = np.flatnonzero(j >= 0)
    if len(judged_at) == len(hit):  # (the usual case: no fade) the scores of the deciding looks
        ph = pair.take(hit)
        used, score, lcb, ucb = at.take(ph, axis=0), p_score.take(ph), p_lcb.take(ph), p_ucb.take(ph)
    else:
        used = now_counts[hit]
        used[judged_at] = at[pair[hit[judged_at]]]
        score, lcb, ucb = score_counts(used, w, z)
    bar = promotion_bar(params, t, world)
    judged = c != STALL_FADED
    _note_decisions(world, params, t[judged], c[judged] == PROMOTE)
    credits = credit_all(params, world, v, t, c, used, j, people)

    prom = c == PROMOTE
    pv = v[prom]
    new_tier = t[prom] + 1
    # the look's time: where its impressions fall in the batch (linear in the batch)
    t0 = float(now) if since is None else float(since)
    d_views = np.maximum(delta[hit, VIEW], 1)
    frac = np.minimum(np.maximum((used[:, VIEW] - base[hit, VIEW]) / d_views, 0.0), 1.0)
    when = t0 + (float(now) - t0) * frac
    world.video_tier[pv] = new_tier
    world.video_status[pv] = np.where(new_tier >= params.top_tier, np.int8(TOP), np.int8(ACTIVE))
    world.video_tier_counts[pv] = 0
    world.video_tier_watch_seconds[pv] = 0.0
    world.video_tier_entered[pv] = when[prom]
    world.video_status[v[~prom]] = STALLED
    world.video_dirty[v] = True

    budgets = np.where(t + 1 < params.top_tier, tier_budget(params, np.minimum(t + 1, params.top_tier)), 0)
    shown = np.where(c == STALL_SETTLED, ucb, np.where(prom, lcb, score))
    views_used = used[:, VIEW].tolist()
    now = float(now)
    out: list[Event] = []
    for i, (vi, ti, ci, sh, ba, vu, bu) in enumerate(
        zip(v.tolist(), t.tolist(), c.tolist(), shown.tolist(), bar.tolist(), views_used, budgets.tolist())
    ):
        tip = credits.get(i)
        if ci == PROMOTE:
            e: Event = Promoted(now, vi, ti, ti + 1, sh, ba, vu, bu)
        else:
            e = Stalled(now, vi, ti, sh, ba, vu, _REASONS[ci])
        if tip is not None:
            e.profile, e.tipped_by, e.instead = tip  # type: ignore[union-attr]
        out.append(e)
    return out


# -- counters -----------------------------------------------------------------------------


def apply_counts(
    world: World,
    videos: np.ndarray,
    delta: np.ndarray,
    watch_seconds: np.ndarray,
    *,
    tier: bool = True,
    lifetime: bool = True,
) -> np.ndarray | None:
    """Add per-video counter deltas ``[k, N_SIGNALS]`` (distinct ``videos``) to lifetime
    counters (unless not ``lifetime``) and, with ``tier``, to the current tier's
    counters. Returns the lifetime views before (None without ``lifetime``)."""
    videos = np.asarray(videos, dtype=np.intp)
    before = None
    if lifetime:
        before = _add_rows(world.video_counts, videos, delta, VIEW)
        world.video_watch_seconds[videos] += watch_seconds
    if tier:
        _add_rows(world.video_tier_counts, videos, delta)
        world.video_tier_watch_seconds[videos] += watch_seconds
    world.video_dirty[videos] = True
    return before


def _add_rows(a: np.ndarray, rows: np.ndarray, delta: np.ndarray, col: int | None = None) -> np.ndarray | None:
    """``a[rows] += delta`` for distinct ``rows`` of a 2-D array; on a C-contiguous one the
    rows are written back as single opaque records (about a quarter cheaper). With
    ``col``: returns that column of the rows before the addition."""
    if a.ndim != 2 or not a.flags.c_contiguous:
        old = a[rows, col] if col is not None else None
        a[rows] += delta
        return old
    new = a.take(rows, axis=0)
    old = new[:, col].copy() if col is not None else None
    new += delta
    rec = np.dtype((np.void, a.shape[1] * a.itemsize))
    a.view(rec).reshape(-1)[rows] = new.view(rec).reshape(-1)
    return old


_MILESTONES: dict[int, np.ndarray] = {}


def milestones(
    params: EngineParams, videos: np.ndarray, before: np.ndarray, after: np.ndarray, now: float
) -> list[Event]:
    """Milestone events for videos whose lifetime views crossed 1k, 10k, 100k ... (the highest one)."""
    first = params.first_milestone
    after = np.asarray(after)
    crossed = np.flatnonzero(after >= first)
    if not len(crossed):
        return []
    # the milestones as integers (first, 10 first, ... up to int64): a video's level is
    # the number of them it has reached, less one (-1: none), by one search each
    th = _MILESTONES.get(first)
    if th is None:
        levels = [first]
        while levels[-1] <= (2**63 - 1) // 10:
            levels.append(levels[-1] * 10)
        th = _MILESTONES[first] = np.array(levels, np.int64)
    a = np.asarray(after).take(crossed)
    lvl_after = np.searchsorted(th, a, side="right")
    lvl_before = np.searchsorted(th, np.asarray(before).take(crossed), side="right")
    hit = np.flatnonzero(lvl_after > lvl_before)
    views = th.take(lvl_after.take(hit) - 1).tolist()
    return [
        Milestone(time=float(now), video=int(v), views=int(x))
        for v, x in zip(np.asarray(videos).take(crossed.take(hit)).tolist(), views)
    ]


def record(
    world: World,
    params: EngineParams,
    video: int,
    delta: np.ndarray,
    watch_seconds: float,
    now: float,
    *,
    tier: bool = True,
    people: Sequence[Ledger] = (),
) -> list[Event]:
    """Count one person's change of signals on ``video``, and take the decision it makes due.

    ``delta`` has one int per :class:`~fyp_tui.engine.world.Signal` (the change of
    the person's :class:`~fyp_tui.engine.ledger.Counted` bits: an unlike is ``LIKE=-1``;
    counters are clipped at 0). The counts go into the same lifetime counters as
    the simulated audience's and, with ``tier``, into the current tier's; they feed
    the sound and hashtag trends. A view that would take the tier past its budget
    counts in lifetime counters only (budgets are never exceeded). If the person's
    view crosses one of the tier's looks (:func:`look_views`), the decision is taken
    then, by the same code as the audience's; ``people`` (the person's ledger among
    them) are asked for credit.
    """
    v = int(video)
    if not 0 <= v < world.n_videos:
        raise IndexError(f"no video {v}")
    d = np.asarray(delta, dtype=np.int64).reshape(N_SIGNALS)
    events: list[Event] = []
    # (plain Python scalars for the one video: numpy calls on one element cost
    # microseconds each, and the feed records every impression of the person)
    t = int(world.video_tier[v])
    if tier and t < params.top_tier and int(world.video_tier_counts[v, VIEW]) + max(int(d[VIEW]), 0) > params.ladder[t]:
        tier = False
    before = int(world.video_counts[v, VIEW])
    if min(d.tolist()) >= 0:  # (the usual case: nothing to clip)
        world.video_counts[v] += d
        if tier:
            world.video_tier_counts[v] += d
        pos = d
    else:
        np.maximum(world.video_counts[v] + d, 0, out=world.video_counts[v])
        if tier:
            np.maximum(world.video_tier_counts[v] + d, 0, out=world.video_tier_counts[v])
        pos = np.maximum(d, 0)
    world.video_watch_seconds[v] += float(watch_seconds)
    if tier:
        world.video_tier_watch_seconds[v] += float(watch_seconds)
    world.video_dirty[v] = True
    trends.add_engagement(world, params, np.array([v]), pos[None, :])
    after = int(world.video_counts[v, VIEW])
    if after >= params.first_milestone and after != before:  # (no milestone otherwise)
        events += milestones(params, np.array([v]), np.array([before]), np.array([after]), now)
    if tier and d[VIEW] > 0 and int(world.video_status[v]) == ACTIVE:
        views = int(world.video_tier_counts[v, VIEW])
        if views in look_views(params)[min(t, params.top_tier)].tolist():  # (a look is due only then)
            served = (np.array([v]), d[None, :])
            events += decide(world, params, np.array([v]), now, served=served, people=people)
    return events


# -- re-ignition --------------------------------------------------------------------------


def reignite(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    now: float,
    dt: float,
    sound_heat: np.ndarray,
    tag_heat: np.ndarray,
) -> list[Event]:
    """Give some stalled videos riding a hard trend one more run in their tier.

    A stalled video whose sound (or a topical hashtag) has heat >= ``reignite_heat``
    and that entered its tier at least ``reignite_cooldown_hours`` ago comes back
    with probability ``reignite_rate * dt``: ACTIVE, tier counters reset, heat
    clock restarted.
    """
    if params.reignite_rate <= 0:
        return []
    n = world.n_videos
    hot_sound = sound_heat >= params.reignite_heat
    hot_tag = tag_heat >= params.reignite_heat
    if not hot_sound.any() and not hot_tag.any():
        return []
    # each eligible video comes back with probability p: draw that first, over every
    # video (a binomial count of them, then which ones), then check the few drawn (the
    # same law as checking every video, then drawing; no pass over all of them)
    p = -np.expm1(-params.reignite_rate * dt)  # (a rate per hour, whatever the step length)
    k = int(rng.binomial(n, p)) if n else 0
    if k == 0:
        return []
    drawn = np.sort(rng.choice(n, size=k, replace=False))
    stalled = drawn[world.video_status[drawn] == STALLED]
    old = (now - world.video_tier_entered[stalled]) >= params.reignite_cooldown_hours
    stalled = stalled[old]
    by_sound = hot_sound[world.video_sound[stalled]]
    if hot_tag.any() and world.video_tags.shape[1] == 4:
        # one gather of 4 flag bytes per video (-1, no tag, reads the trailing 0), read as one uint32
        flags = np.append(hot_tag, False).astype(np.uint8)
        by_tag = flags.take(world.video_tags[stalled]).view(np.uint32).reshape(-1) != 0
    else:
        tags = world.video_tags[stalled]
        by_tag = (hot_tag[np.maximum(tags, 0)] & (tags >= 0)).any(axis=1)
    go = np.flatnonzero(by_sound | by_tag)
    v = stalled[go]
    if len(v) == 0:
        return []
    world.video_status[v] = ACTIVE
    world.video_status[v[world.video_tier[v] >= params.top_tier]] = TOP
    world.video_tier_counts[v] = 0
    world.video_tier_watch_seconds[v] = 0.0
    world.video_tier_entered[v] = now
    world.video_dirty[v] = True
    reasons = map({True: "trending sound", False: "trending hashtag"}.__getitem__, by_sound[go].tolist())
    return list(map(Reignited, repeat(float(now), len(v)), v.tolist(), world.video_tier[v].tolist(), reasons))


# -- serving ------------------------------------------------------------------------------


def creator_reach(world: World) -> np.ndarray:
    """Observable reach of each creator from its follower count, ~[0, 1.2]."""
    return (np.log10(1.0 + world.creator_followers.astype(np.float64)) / 7.0).astype(np.float32)


def fill_hours(params: EngineParams) -> np.ndarray:
    """Hours in which each tier (site-wide last) aims to spend its budget: bigger pools take longer."""
    return params.fill_hours * params.fill_growth ** np.arange(params.top_tier + 1, dtype=np.float64)


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
    budget = np.array([*params.ladder, params.top_weight * params.ladder[-1]], dtype=np.float64)[tier]
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
    want *= 1.0 + params.creator_boost * creator_reach(world)[world.video_creator[ids]]
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
            low = np.iinfo(np.int16).min
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


_TOPT_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _top_topics_by_slot(world: World, params: EngineParams, k: int) -> np.ndarray:
    """:func:`viewer_top_topics` transposed to ``[k, N]`` (one contiguous row per slot), cached."""
    top = viewer_top_topics(world, params, k)
    hit = _TOPT_CACHE.get(world)
    if hit is not None and hit[0] is top:
        return hit[1]
    out = np.ascontiguousarray(top.T)
    _TOPT_CACHE[world] = (top, out)
    return out


_GROUP_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _viewer_groups(world: World, topT: np.ndarray, L: int, gt) -> np.ndarray:
    """Per viewer: ``top topic * L + language`` (the group key of :func:`match_viewers`), cached."""
    hit = _GROUP_CACHE.get(world)
    if hit is not None and hit[0] is topT and hit[1] is world.aud_language and hit[2] == (L, gt):
        return hit[3]
    g = topT[0].astype(gt) * gt(L)
    g += world.aud_language.astype(gt)
    _GROUP_CACHE[world] = (topT, world.aud_language, (L, gt), g)
    return g


TOPIC_SLACK = 4.0

_VKEY_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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


def systematic_counts(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer counts with mean ``x`` (systematic sampling: one uniform), each
    ``floor(x[i])`` or ``ceil(x[i])``, adding up to ``round(sum(x))`` (give or take one)."""
    if len(x) == 0:
        return np.zeros(0, np.int64)
    c = np.floor(np.cumsum(x) + rng.random()).astype(np.int64)
    return np.diff(c, prepend=np.int64(0))


def _systematic_hits(w: np.ndarray, scale: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`systematic_counts` of ``w * scale`` (up to the rounding of the scaling, done
    on the running sum), as the entries with a count and their counts: fewer passes over
    a long, mostly missed ``w`` (the catalogue)."""
    c = np.cumsum(w)
    c *= scale
    c += rng.random()
    np.floor(c, out=c)
    d = c.copy()
    np.subtract(c[1:], c[:-1], out=d[1:])  # (whole numbers: exact differences)
    hit = np.flatnonzero(d)
    return hit, d.take(hit).astype(np.int64)


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
    ids = np.flatnonzero((st == ACTIVE) | (st == TOP))
    tier = np.minimum(world.video_tier[ids].astype(np.int64), params.top_tier)
    bounded = tier < params.top_tier
    remaining = tier_budget(params, tier) - np.where(bounded, world.video_tier_counts[ids, VIEW], 0)
    open_ = remaining > 0
    ids, remaining, tier, bounded = ids[open_], remaining[open_], tier[open_], bounded[open_]
    topic = world.video_topics[ids, 0].astype(np.int32)
    P = len(ids)
    empty = np.zeros(0, np.int32)
    if P == 0:
        return Allocation(ids, topic, empty, 0, n_control)
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
    with np.errstate(invalid="ignore"):
        w = waterfill(tier, want, float(n_targeted), params.top_tier + 1, want, world.video_tier_entered[ids])
    if not np.isfinite(w).all():  # (rare: np.nan_to_num costs more than the check)
        w = np.nan_to_num(w, nan=0.0, posinf=float(n_targeted))
    alloc = systematic_counts(w, rng)
    np.minimum(alloc, np.where(bounded, left, np.iinfo(np.int64).max), out=alloc)
    np.maximum(alloc, 0, out=alloc)
    # entries in (topic, language) order: the slots come out grouped for match_viewers
    order = _group_sort(world, topic, ids)
    ids, topic, alloc = ids[order], topic[order], alloc[order]
    where = np.empty(P, np.int32)
    where[order] = np.arange(P, dtype=np.int32)
    slot = np.repeat(np.arange(P, dtype=np.int32), alloc)
    per_entry = alloc
    if len(slot) > n_targeted:  # rounding overshot the supply: drop random slots
        slot = np.sort(rng.choice(slot, size=n_targeted, replace=False)) if n_targeted else empty
        per_entry = np.bincount(slot, minlength=P)
    return Allocation(ids, topic, np.concatenate([slot, where.take(ctrl)]), len(ctrl), dropped, per_entry)


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
    """The integer type of :func:`match_viewers`'s group keys (int16 when they fit)."""
    return np.int16 if n_groups < 2**15 else np.int32


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
        want = topT[0].take(viewers).astype(gt)
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
    # level 2: the viewer's other top topic (slots stay sorted by topic)
    if k > 1:
        who = viewers.take(ov)
        a = topT[1].take(who).astype(gt)
        if mixed:
            np.copyto(a, topT[0].take(who), where=second.take(ov), casting="unsafe")
        o2 = _stable_order(a, T)
        ov = ov.take(o2)
        tv, ts, lv, ls, m = _pair_counts(_sorted_counts(a.take(o2), T), cs, rng)
        np.put(out, ov.take(tv), os_.take(ts))
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
        ids, c = _systematic_hits(w, sizes[0] / total, rng)
        parts = [c]
    else:
        parts = [systematic_counts(w * (size / total), rng) for size in sizes]
        c = np.sum(parts, axis=0)
        ids = np.flatnonzero(c)  # only the videos that get a slot (keeps the step's per-entry tables small)
    topic = world.video_topics[ids, 0].astype(np.int32)
    order = _group_sort(world, topic, ids)  # slots grouped by (topic, language)
    ids, topic = ids.take(order), topic.take(order)
    if len(sizes) == 1:
        c = c.take(order)
        parts = [c]
    else:
        parts = [x.take(ids) for x in parts]
        c = c.take(ids)
    slot = np.repeat(np.arange(len(ids), dtype=np.int32), c)
    return Allocation(ids, topic, slot, 0, 0, c, parts if len(parts) > 1 else None)


def _group_sort(world: World, topic: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Order of entries by (topic, language): the group key of :func:`match_viewers`."""
    L = max(len(world.language_codes), 1)
    key = topic.astype(np.int64) * L + world.video_language[ids]
    return np.argsort(key.astype(np.int16) if max(world.n_topics, 1) * L < 2**15 else key, kind="stable")
