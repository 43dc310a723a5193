"""The tier ladder: each video's tier score, the bars and budgets it must clear, the
decisions (move up, stall, re-ignite) and the counters and milestones they read.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.events import Event, Milestone, Promoted, Reignited, Stalled
from fyp_tui.engine.ledger import Ledger, credit_all
from fyp_tui.engine.params import WATCH_RATIO_CAP, WATCH_RATIO_MID, EngineParams
from fyp_tui.engine.world import N_SIGNALS, Signal, Status, World

VIEW = int(Signal.VIEW)
# plain ints: numpy compares an array with an IntEnum member several times slower
ACTIVE, STALLED, TOP = int(Status.ACTIVE), int(Status.STALLED), int(Status.TOP)


# -- the score --------------------------------------------------------------------------


def score_counts(
    counts: np.ndarray, weights: np.ndarray, z: float, watch: tuple[np.ndarray | float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, lcb, ucb)`` of rows of tier counters ``[k, N_SIGNALS]``.

    ``score = sum_s w_s * count_s / views``; the variance of the weighted sum of
    Bernoulli rates is ``sum_s w_s^2 p_s (1 - p_s) / views`` with ``p_s`` smoothed
    by half a success (so a zero count on a small sample is not certain). With no
    views the bounds are ``-inf`` / ``+inf``. ``watch``: the watch term of each row
    (:func:`watch_term`), added to the score, with a variance of its own.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, N_SIGNALS)
    n = counts[:, VIEW]
    safe = np.maximum(n, 1.0)[:, None]
    rates = counts / safe
    score = rates @ weights
    p = (counts + 0.5) / (safe + 1.0)
    var = (p * (1.0 - p)) @ (weights * weights) / safe[:, 0]
    if watch is not None:
        w_term, w_var = watch
        score = score + w_term
        var = var + w_var / safe[:, 0]
    half = z * np.sqrt(var)
    lcb = np.where(n > 0, score - half, -np.inf)
    ucb = np.where(n > 0, score + half, np.inf)
    return score, lcb, ucb


def watch_term(world: World, params: EngineParams, videos: np.ndarray) -> tuple[np.ndarray, float]:
    """The tier score's terms beyond the signal rates, per video, and their per-view
    variance: watch time, ``weights["watch"] * (min(mean watch ratio, WATCH_RATIO_CAP)
    - WATCH_RATIO_MID)``, the mean watch ratio being the tier's watch time (loops
    included) over views x duration (a full watch and a full watch with three loops
    score apart); and creator weight, ``weights["creator"] * log10(1 + followers) / 7``
    from tier 1 on (the test pool judges a video on its own reactions, "followers or
    not", as the source article puts it: a new account's first post is not marked down
    for having no followers yet; followers already widen its serving, ``creator_boost``)."""
    videos = np.asarray(videos, np.int64)
    w = float(params.weights.get("watch", 0.0))
    wc = float(params.weights.get("creator", 0.0))
    term = np.zeros(len(videos))
    if wc:
        # established creators climb more easily (known, not a rate: no variance of its own)
        followers = world.creator_followers[world.video_creator[videos]].astype(np.float64)
        term += wc * np.log10(1.0 + followers) / 7.0 * (world.video_tier[videos] >= 1)
    if w == 0.0:
        return term, 0.0
    views = np.maximum(world.video_tier_counts[videos, VIEW], 1).astype(np.float64)
    dur = np.maximum(world.video_duration[videos].astype(np.float64), 1e-3)
    ratio = np.minimum(world.video_tier_watch_seconds[videos] / (views * dur), WATCH_RATIO_CAP)
    # (a watch ratio's spread across viewers is about 0.5: its variance 0.25 per view)
    return term + w * (ratio - WATCH_RATIO_MID), 0.25 * w * w


def tier_score(world: World, params: EngineParams, videos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, lcb, ucb)`` of the videos' current tier (for explain and the app)."""
    videos = np.asarray(videos, dtype=np.int64).reshape(-1)
    return score_counts(
        world.video_tier_counts[videos], params.weight_vector(), params.z, watch_term(world, params, videos)
    )


BARS_KEY = "tier_bars"
#: per bounded tier, the time-decayed (promoted, judged) decisions the bars adapt to
EVIDENCE_KEY = "tier_bar_evidence"
#: decisions taken since the bars last adapted (folded in by :func:`adapt_bars`)
PENDING_KEY = "tier_bar_pending"


def current_bars(world: World | None, params: EngineParams) -> np.ndarray:
    """The bars in force: the world's adapted bars (``world.extra["tier_bars"]``) or the params'."""
    return np.array(_bars_in_force(world, params), dtype=np.float64)


def _bars_in_force(world: World | None, params: EngineParams) -> Sequence[float]:
    """:func:`current_bars` as the list or tuple it is kept in (no array built)."""
    if world is not None and params.bar_rate > 0:
        b = (world.extra or {}).get(BARS_KEY)
        if isinstance(b, list) and len(b) == params.n_bounded:
            return b
    return params.bars


def promotion_bar(params: EngineParams, tiers, world: World | None) -> np.ndarray:
    """The bar each tier's lower confidence bound must reach (``inf`` for site-wide):
    the bars in force in ``world`` (see :func:`adapt_bars`); ``None`` gives the
    scenario's starting bars (say so where you show them)."""
    bars = _bar_table(tuple(_bars_in_force(world, params)))
    # (tiers clipped to [0, site-wide] by the gather: ``[*bars, inf]`` has one entry per tier)
    return bars.take(np.asarray(tiers, dtype=np.int64), mode="clip")


_BAR_TABLES: dict[tuple[float, ...], np.ndarray] = {}


def _bar_table(bars: tuple[float, ...]) -> np.ndarray:
    """``[*bars, inf]`` (read-only, cached by value: the bars in force change once a step)."""
    hit = _BAR_TABLES.get(bars)
    if hit is None:
        if len(_BAR_TABLES) > 64:
            _BAR_TABLES.clear()
        hit = np.array([*bars, np.inf], dtype=np.float64)
        hit.flags.writeable = False
        _BAR_TABLES[bars] = hit
    return hit


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
    take = n[part]  # (per row: broadcast across its signals where needed)
    good = np.minimum(np.maximum(inc[part], 0), views)
    res = np.where(good >= views, take[:, None], 0)
    r, s = np.nonzero((good > 0) & (good < views))
    if len(r):
        g = good[r, s]
        res[r, s] = rng.hypergeometric(g, views[r, 0] - g, take[r])
    res[:, VIEW] = take
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
    if k == 1 or (rows[1:] != rows[:-1]).all():  # (the usual case: one look per row, one round)
        return base[rows] + _subsample(delta[rows], looks[rows, js] - base[rows, VIEW], rng)
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
    return _judge(
        world,
        params,
        videos,
        status,
        tier,
        hot,
        looks,
        views,
        delta,
        crossed,
        now,
        looked=served is not None,
        since=since,
        rng=rng,
        people=people,
    )


def decide_crossed(
    world: World,
    params: EngineParams,
    videos: np.ndarray,
    tier: np.ndarray,
    looks: np.ndarray,
    views: np.ndarray,
    delta: np.ndarray,
    crossed: np.ndarray,
    now: float,
    *,
    since: float | None,
    rng: np.random.Generator | None,
    people: Sequence[Ledger] = (),
) -> list[Event]:
    """``decide(world, params, videos, now, served=(videos, delta), ...)`` for videos the
    caller has found due already, as the simulation step does: sorted distinct active
    videos, each with its tier, :func:`look_views` row, tier views now, this batch's
    tier-counter deltas and the looks they crossed (at least one per video). The same
    decisions and draws, without finding them again."""
    status = world.video_status[videos]
    hot = heat(world, params, videos, now)
    return _judge(
        world,
        params,
        videos,
        status,
        tier,
        hot,
        looks,
        views,
        delta,
        crossed,
        now,
        looked=True,
        since=since,
        rng=rng,
        people=people,
    )


def _judge(
    world: World,
    params: EngineParams,
    videos: np.ndarray,
    status: np.ndarray,
    tier: np.ndarray,
    hot: np.ndarray,
    looks: np.ndarray,
    views: np.ndarray,
    delta: np.ndarray,
    crossed: np.ndarray,
    now: float,
    *,
    looked: bool,
    since: float | None,
    rng: np.random.Generator | None,
    people: Sequence[Ledger],
) -> list[Event]:
    """:func:`decide` from its due videos on (live, each with a crossed look or faded):
    the counts at the looks, the rule, the changes and the events. ``looked``: the
    crossings come from a batch's deltas (counts at a look inside it are drawn)."""
    m = len(videos)
    now_counts = world.video_tier_counts[videos]
    base = now_counts - delta
    # every crossed look (row, look), by row then look, with the counts at it
    pr, pj = np.nonzero(crossed)
    at = _counts_at_looks(delta, base, looks, pr, pj, rng) if looked else now_counts[pr]
    code = np.full(m, KEEP, np.int8)
    look_at = np.full(m, -1, np.int64)
    pair = np.full(m, -1, np.intp)  # the pair a row was decided at
    w, z = params.weight_vector(), params.z
    wt, wvar = watch_term(world, params, videos)
    if len(pr):
        # each look judged on its own counts (a pure rule), then per row the first that decides
        p_score, p_lcb, p_ucb = score_counts(at, w, z, (wt[pr], wvar))
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
        score, lcb, ucb = score_counts(used, w, z, (wt[hit], wvar))
    bar = promotion_bar(params, t, world)
    judged = c != STALL_FADED
    _note_decisions(world, params, t[judged], c[judged] == PROMOTE)
    credits = credit_all(params, world, v, t, c, used, j, people, watch=(wt[hit], wvar))

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
        prof, by, instead = tip if tip is not None else (None, None, None)
        if ci == PROMOTE:
            e: Event = Promoted(now, vi, ti, ti + 1, sh, ba, vu, bu, tipped_by=by, profile=prof, instead=instead)
        else:
            e = Stalled(now, vi, ti, sh, ba, vu, _REASONS[ci], tipped_by=by, profile=prof, instead=instead)
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
    with probability ``reignite_rate * dt``, halved for every
    ``reignite_age_half_life_hours`` of the video's age: ACTIVE, tier counters reset,
    heat clock restarted.
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
    # the rate halves with every reignite_age_half_life_hours of the video's age: keep each
    # drawn one with P(its own rate) / P(the full rate), the same law as drawing at its rate
    age = np.maximum(now - world.video_upload_time[v], 0.0)
    rate = params.reignite_rate * dt * np.exp2(-age / params.reignite_age_half_life_hours)
    keep = np.flatnonzero(rng.random(len(v)) * -np.expm1(-params.reignite_rate * dt) < -np.expm1(-rate))
    go, v = go[keep], v[keep]
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
