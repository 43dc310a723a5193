"""The simulation loop: one vectorised step serves many impressions at once.

``step(world, params, rng, dt_hours)`` is a state transition of the world:

1. simulated creators upload new videos into tier 0 at times within the step
   (each is served from its upload time on);
2. viewers open the app (Poisson by activity); a control slice of their
   impressions goes to uniformly random live videos;
3. the pools decide how many impressions each live video gets
   (:func:`fyp_tui.engine.pools.allocate`: its demand for the time it was in its
   pool, at its tier's pace per hour; budgets are never exceeded and nothing is
   re-served); what the pools do not take goes to stalled videos (the catalogue,
   lifetime counters only); viewers are matched to those impression slots by the
   platform's observable estimate of their interests
   (:func:`fyp_tui.engine.pools.match_viewers`);
4. the audience reacts, drawn from the hidden truth (:mod:`fyp_tui.engine.audience`);
5. counters, the platform's learned viewer preferences (``aud_pref``), creator
   followers and the sound/hashtag trends are updated;
6. the clock advances; a tier decision is taken where a video's impressions
   crossed one of its tier's looks (:func:`fyp_tui.engine.ladder.look_views`),
   on the counts at the look; the bars adapt at their rate per hour;
   re-ignitions, milestones and trending events are emitted.

Every rate is per simulated hour or per impression, never per step: the world's
statistics do not depend on the step length (``benchmarks/bench_steps.py``).

With ``threads = k`` in the params, a big step is served in k chunks of viewers, each
with its own random stream and its share of the slots (:func:`_plan`): the
matching, the reactions, the per-entry counts and the learning of each chunk run
on a thread of their own (:func:`_serve`); the rest of the step runs on the
calling thread.

``run`` repeats steps for a number of simulated hours and returns a :class:`Report`
(what ``fyp-tui simulate`` prints). Everything is reproducible: the same world,
seed and hours give the same report (wall time aside).
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fyp_tui.engine import audience, catalogue, ladder, pools, trends
from fyp_tui.engine.audience import EXTRA_SIGNAL, FOLLOW, SHARE
from fyp_tui.engine.events import Event
from fyp_tui.engine.hourly import Hourly
from fyp_tui.engine.ledger import Ledger
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.report import EVENT_KEYS, Report, funnel, top_videos, trending
from fyp_tui.engine.uploads import add_due, draw_uploads, upload
from fyp_tui.engine.world import N_SIGNALS, Signal, World

Progress = Callable[[str, int, int], None]


class Observer(Protocol):
    """Reads the world after each step of :func:`run` (e.g. :class:`~fyp_tui.engine.hourly.Hourly`); never changes it."""

    def observe(self, world: World, params: EngineParams, result: StepResult) -> None: ...


SLICES = ("random", "targeted")


@dataclass
class SliceCounts:
    """Sums over the impressions of one slice (random control or targeted pools)."""

    impressions: int = 0
    completions: int = 0
    likes: int = 0
    shares: int = 0
    follows: int = 0
    watch_ratio_sum: float = 0.0

    def add(self, other: SliceCounts) -> None:
        self.impressions += other.impressions
        self.completions += other.completions
        self.likes += other.likes
        self.shares += other.shares
        self.follows += other.follows
        self.watch_ratio_sum += other.watch_ratio_sum

    def rates(self) -> dict:
        n = max(self.impressions, 1)
        return {
            "impressions": self.impressions,
            "completion_rate": self.completions / n,
            "like_rate": self.likes / n,
            "share_rate": self.shares / n,
            "follow_rate": self.follows / n,
            "mean_watch_ratio": self.watch_ratio_sum / n,
        }


@dataclass
class StepResult:
    events: list[Event]
    impressions: int = 0  # served and counted (pools + catalogue)
    catalogue: int = 0  # of which served from stalled videos (every pool was at its budget)
    dropped: int = 0  # drawn but not served (nothing left to show)
    uploads: int = 0
    slices: dict[str, SliceCounts] = field(default_factory=lambda: {s: SliceCounts() for s in SLICES})


# -- the step -----------------------------------------------------------------------------


def _rate(world: World, params: EngineParams) -> np.ndarray:
    """Impressions per simulated hour of each viewer (cached: activity is fixed after seeding)."""
    return _rate_and_total(world, params)[0]


def _rate_and_total(world: World, params: EngineParams) -> tuple[np.ndarray, float]:
    """:func:`_rate` and its sum (``float(rate.sum())``, cached with it)."""
    stamp = (id(world.aud_activity), len(world.aud_activity), params.impressions_per_viewer_hour)
    hit = world.derived.rate
    if hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    rate = audience.activity(world, params.impressions_per_viewer_hour)
    total = float(rate.sum())
    world.derived.rate = (stamp, rate, total)
    world.derived.sampler = None
    return rate, total


def _sampler(world: World, params: EngineParams, dt: float, share: float = 1.0) -> audience.PoissonCounts:
    """The audience's impression-count sampler for steps of ``dt`` hours, for ``share``
    of each viewer's rate (cached for the last two ``(dt, share)``: ``run`` keeps dt fixed,
    and draws blocks of its steps at once)."""
    rate = _rate(world, params)
    hit = world.derived.sampler
    if hit is None or hit[0] is not rate:
        hit = world.derived.sampler = (rate, {})
    key = (dt, share)
    sampler = hit[1].get(key)
    if sampler is None:
        if len(hit[1]) >= 2:  # (two kept: a run's steps and its blocks of steps, see _Ahead)
            hit[1].pop(next(iter(hit[1])))
        sampler = hit[1][key] = audience.PoissonCounts(rate * (dt * share))
    return sampler


def _mark_control(
    params: EngineParams, rng: np.random.Generator, impressions: list[np.ndarray]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Split a step's impressions (viewer ids, per chunk) into the targeted ones and the
    control slice: each impression is the control slice's with probability
    ``control_fraction`` (Poisson splitting: each viewer then makes Poisson(``control_fraction``
    x rate x dt) control impressions and, independently, Poisson of the rest targeted ones).
    Returns the targeted impressions per chunk (in their order) and the control ones as
    sorted viewer ids (int32)."""
    cf = float(params.control_fraction)
    targeted, control = [], []
    for imp in impressions:
        if cf <= 0 or not len(imp):
            targeted.append(imp)
            continue
        mark = rng.random(len(imp)) < cf
        c = imp.take(np.flatnonzero(mark))
        c.sort()
        control.append(c)
        targeted.append(imp.take(np.flatnonzero(~mark)))
    ctrl = np.concatenate(control).astype(np.int32) if control else np.zeros(0, np.int32)
    return targeted, ctrl


def _outcome(r: audience.Reactions) -> np.ndarray:
    """Per impression ``full | like << 1 | skip << 2`` (int8), computed once per batch."""
    o = r._outcome
    if o is None:
        o = r.like.view(np.int8) << 1
        o |= r.full.view(np.int8)
        o |= r.skip.view(np.int8) << 2
        r._outcome = o
    return o


def _count(P: int, chosen: np.ndarray, r: audience.Reactions) -> tuple[np.ndarray, np.ndarray]:
    """Per pool entry: counter deltas ``[P, N_SIGNALS]`` and the sum of watch ratios
    (times the entry's duration: its watch seconds)."""
    code = np.left_shift(chosen, 3, dtype=np.intp)  # (bincount takes intp: no conversion inside)
    code |= _outcome(r)
    # one count per (entry, full | like << 1 | skip << 2), then sums over the bits
    # (column adds: no integer matmul, which is slow, nor a BLAS call, which may spin threads)
    c = np.bincount(code, minlength=P * 8).reshape(P, 8)
    q = c[:, 0::2] + c[:, 1::2]  # by like | skip << 1
    delta = np.zeros((P, N_SIGNALS), np.int64)
    delta[:, Signal.LIKE] = q[:, 1] + q[:, 3]
    delta[:, Signal.SKIP] = q[:, 2] + q[:, 3]
    delta[:, Signal.VIEW] = q[:, 0] + q[:, 2] + delta[:, Signal.LIKE]
    delta[:, Signal.FULL_WATCH] = c[:, 1] + c[:, 3] + c[:, 5] + c[:, 7]
    rare = np.flatnonzero(r.extra != 0)
    if len(rare):  # (a few hundred: added in place, not through a [P, N_SIGNALS] table of counts)
        flat = chosen.take(rare) * N_SIGNALS
        flat += EXTRA_SIGNAL.take(r.extra.take(rare))
        np.add.at(delta.reshape(-1), flat, 1)
    ratio = np.bincount(chosen, weights=r.ratio, minlength=P)
    return delta, ratio


def _slices(
    delta: np.ndarray, ratio: np.ndarray, P: int, n_ctrl: int, r: audience.Reactions
) -> tuple[SliceCounts, SliceCounts]:
    """(random, targeted) slice sums: the control impressions are the last ``n_ctrl``;
    the targeted ones are the rest, less the catalogue's (entries ``P`` on)."""
    ctrl = slice(len(r.ratio) - n_ctrl, None)
    extra = r.extra[ctrl]
    rand = SliceCounts(
        impressions=n_ctrl,
        completions=int(np.count_nonzero(r.full[ctrl])),
        likes=int(np.count_nonzero(r.like[ctrl])),
        shares=int(np.count_nonzero(extra == SHARE)),
        follows=int(np.count_nonzero(extra == FOLLOW)),
        watch_ratio_sum=float(r.ratio[ctrl].sum(dtype=np.float64)),
    )
    cols = [Signal.VIEW, Signal.FULL_WATCH, Signal.LIKE, Signal.SHARE, Signal.FOLLOW]
    pool = delta[:P, cols].sum(axis=0).tolist()  # pool entries: targeted and control
    return rand, SliceCounts(
        impressions=pool[0] - rand.impressions,
        completions=pool[1] - rand.completions,
        likes=pool[2] - rand.likes,
        shares=pool[3] - rand.shares,
        follows=pool[4] - rand.follows,
        watch_ratio_sum=float(ratio[:P].sum()) - rand.watch_ratio_sum,
    )


_LEARN_TABLES: dict = {}


def _learn_table(lr: float, dtype) -> np.ndarray | None:
    """For a float16 ``aud_pref``: the update of :func:`_learn` as a table over every
    float16 bit pattern ``b`` and outcome ``code = full + 2 like``:
    ``table[code << 16 | b] = f16(f32(b) (1 - lr) + y[code])``, the same float32
    arithmetic as the direct update (so the same result), with no float conversion
    per impression (two gathers instead)."""
    if np.dtype(dtype) != np.float16:
        return None
    hit = _LEARN_TABLES.get(lr)
    if hit is None:
        f32 = np.float32
        lr32 = f32(lr)
        old = np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(f32)
        full, like = np.array([0, 1, 0, 1], f32), np.array([0, 0, 1, 1], f32)
        y = full * f32(0.6 * lr) + like * f32(0.4 * lr)
        with np.errstate(invalid="ignore", over="ignore"):  # (inf and nan patterns map to themselves)
            new = old[None, :] * (f32(1.0) - lr32) + y[:, None]
        hit = _LEARN_TABLES[lr] = new.astype(np.float16).view(np.uint16).reshape(-1)
    return hit


def _learn(
    world: World,
    params: EngineParams,
    viewers: np.ndarray,
    topics: np.ndarray | Callable[[], np.ndarray],
    r: audience.Reactions,
) -> None:
    """Online update of the platform's estimate ``aud_pref[viewer, topic]`` from engagement:
    ``pref += lr * (y - pref)``, ``y = 0.6 [watched to the end] + 0.4 [liked]``.
    ``topics``: the main topic of each impression's video, or a function giving them
    (called only if ``r`` does not carry the cells already)."""
    if params.learning_rate <= 0 or len(viewers) == 0:
        return
    if not world.aud_pref.flags.c_contiguous:
        world.aud_pref = np.ascontiguousarray(world.aud_pref)
    pref = world.aud_pref.reshape(-1)
    T = world.aud_pref.shape[1]
    if r._cell is not None and r._cell[0] == T:
        idx = r._cell[1]  # viewer * T + main topic, from react (the same ids: no hidden value)
    else:
        # (intp: any other index type is converted in each gather and scatter)
        idx = np.multiply(viewers, T, dtype=np.intp)
        idx += topics() if callable(topics) else topics
    table = _learn_table(float(params.learning_rate), pref.dtype)
    if table is not None:
        bits = pref.view(np.uint16)
        key = _outcome(r) & np.int8(3)  # full + 2 like
        key = key.astype(np.intp)
        key <<= 16
        key |= bits.take(idx)
        np.put(bits, idx, table.take(key))
        return
    lr = np.float32(params.learning_rate)
    y = r.full * np.float32(0.6 * float(params.learning_rate))  # (the table's constants, to the bit)
    y += r.like * np.float32(0.4 * float(params.learning_rate))
    old = pref.take(idx).astype(np.float32)
    old *= np.float32(1.0) - lr
    old += y  # old + lr * (y - old)
    pref[idx] = old.astype(pref.dtype)  # (cast first: a cheaper scatter)


_EXECUTOR: list[ThreadPoolExecutor] = []


def _executor() -> ThreadPoolExecutor:
    """The engine's worker threads (made on first use)."""
    if not _EXECUTOR:
        _EXECUTOR.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="fyp-engine"))
    return _EXECUTOR[0]


def _parallel(fn, jobs: list[tuple]) -> list:
    """Run ``fn(*job)`` for each job, the first in this thread, the rest in worker
    threads (numpy releases the GIL in its array loops and random draws)."""
    if len(jobs) == 1:
        return [fn(*jobs[0])]
    from concurrent.futures import wait

    futures = [_executor().submit(fn, *job) for job in jobs[1:]]
    try:
        first = fn(*jobs[0])
    finally:  # (even on an error: no worker is left writing to the world)
        wait(futures)
    return [first] + [f.result() for f in futures]


#: a step is served in viewer chunks of at least this many expected impressions
PARALLEL_MIN = 50_000


def _chunks(params: EngineParams, n: float) -> int:
    """How many viewer chunks a step of ``n`` expected impressions is served in (fixed by
    the params and the world, not the machine: the chunks draw their own random streams)."""
    return max(1, min(params.threads, int(n // PARALLEL_MIN)))


@functools.lru_cache(maxsize=64)
def _cut(n_viewers: int, k: int) -> list[int]:
    """Viewer bounds of ``k`` chunks: ``[0, ..., n_viewers]`` (evenly spaced)."""
    return np.linspace(0, n_viewers, k + 1).astype(np.int64).tolist()


def _shares(sizes: list[int], total: int) -> np.ndarray:
    """``total`` cut in proportion to ``sizes`` (int64 shares adding up to ``total``; for
    ``total <= sum(sizes)`` none above its size)."""
    # (plain Python integers: a step has one to a few chunks)
    cum = list(itertools.accumulate(int(x) for x in sizes))
    if not cum or cum[-1] <= 0:
        return np.zeros(len(sizes), np.int64)
    ends = [c * int(total) // cum[-1] for c in cum]
    return np.array([b - a for a, b in zip([0, *ends[:-1]], ends)], np.int64)


def _deal(rng: np.random.Generator, per_entry: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
    """Deal the slots (``per_entry`` of each entry) to chunks of ``shares`` slots, uniformly
    at random (multivariate hypergeometric): the chunks' slots per entry."""
    left = np.asarray(per_entry, dtype=np.int64)
    parts = []
    for s in shares[:-1]:
        part = rng.multivariate_hypergeometric(left, int(s)) if s > 0 else np.zeros_like(left)
        parts.append(part)
        left = left - part
    return parts + [left]


@dataclass
class _Chunk:
    """One viewer chunk's share of a step: its impressions' viewers and the slots dealt to it."""

    rng: np.random.Generator
    targeted: np.ndarray  # viewer per targeted impression (intp)
    control: np.ndarray  # viewer per control impression (sorted)
    control_entries: np.ndarray  # pool entry per control impression
    pool: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # pool slots (entries, in group order)
    pool_groups: np.ndarray | None = None  # pool slots per group key
    #: pool slots served to viewers at random, not matched by topic (entries; see pools.broad_share)
    broad: np.ndarray | None = None
    catalogue: np.ndarray | None = None  # catalogue slots (entries from P on, in group order)
    catalogue_groups: np.ndarray | None = None
    #: catalogue slots served to viewers at random (entries from P on; see pools.broad_share)
    catalogue_broad: np.ndarray | None = None
    #: a block's targeted impressions its steps' pools left over (viewers), served the
    #: catalogue after this chunk's own (:func:`_block_catalogue`), each one's step in the
    #: block (uint8), and the trend weights per step of the block (:meth:`_Ahead.step_weights`)
    stash: np.ndarray | None = None
    stash_steps: np.ndarray | None = None
    step_weights: tuple[np.ndarray, np.ndarray] | None = None
    #: no catalogue this step: the impressions the pools leave over are returned (``_Served.left``)
    defer: bool = False


@dataclass
class _Served:
    """What a chunk's impressions did, per pool and catalogue entry."""

    delta: np.ndarray  # [entries, N_SIGNALS] counter deltas
    ratio: np.ndarray  # [entries] summed watch ratios
    random: SliceCounts
    targeted: SliceCounts
    impressions: int
    dropped: int
    #: with ``_Chunk.defer``: the targeted impressions the pools left over (viewers)
    left: np.ndarray | None = None
    #: with ``_Chunk.stash``: per entry, the catalogue's engagement as it stands in the
    #: trends and in their fatigue at the block's end (:meth:`_Ahead.trend_weights`), and
    #: as it was drawn
    trend: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _split_sorted(viewers: np.ndarray, cut: list[int]) -> list[np.ndarray]:
    """Sorted ``viewers`` cut into the chunks of viewers ``cut[i] <= v < cut[i + 1]``."""
    at = np.searchsorted(viewers, cut)
    return [viewers[at[i] : at[i + 1]] for i in range(len(cut) - 1)]


@dataclass
class _Plan:
    """A step's serving plan: the viewer chunks, each with its impressions and slots,
    over the step's entries (the ``n_pool`` pool entries, then the catalogue's)."""

    chunks: list[_Chunk]
    ids: np.ndarray  # video id per entry (intp)
    topic: np.ndarray  # main topic per entry
    n_pool: int
    #: every live video when the pools were served (sorted): serving changes no status
    live: np.ndarray | None = None


def _plan(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    dt: float,
    mid: float,
    sh: np.ndarray,
    hh: np.ndarray,
    drawn: tuple[list[np.ndarray], np.ndarray] | None = None,
    ahead: _Ahead | None = None,
) -> _Plan:
    """Draw the step's impressions and deal out its slots.

    The audience's impressions are drawn, then cut into k chunks of viewers (k =
    ``params.threads`` for big steps), each with its own random stream: each is
    dealt its share of the pools' slots (at random, in proportion to its targeted
    impressions) and of the catalogue's (what the pools cannot absorb), so that each
    can be served on its own thread. ``drawn``: the step's impressions drawn and marked
    already (by :class:`_Ahead`), as :func:`_mark_control` returns them. ``ahead``: the block this step is one of, if it serves
    the catalogue once per block (:attr:`_Ahead.defer`): then an earlier step of it serves
    no catalogue (what the pools leave over waits), and its last serves the block's."""
    k = _chunks(params, _rate_and_total(world, params)[1] * dt)
    # the whole audience's impressions, drawn at once, then cut by viewer (one draw is
    # many small array operations: cheaper once than per chunk, and cheaper on this
    # thread than on two passing the GIL back and forth)
    cut = _cut(world.n_viewers, k)
    # per chunk (intp), then each impression marked control with probability control_fraction
    if drawn is None:
        fresh = _sampler(world, params, dt).impressions(rng, cut)
        assert isinstance(fresh, list)  # (one array per chunk, as cut asks)
        targeted, control = _mark_control(params, rng, fresh)
    else:
        targeted, control = drawn
    assert len(targeted) == k
    n_control = len(control)
    al = pools.allocate(world, params, rng, mid, sh, hh, dt=dt, n_targeted=sum(map(len, targeted)), n_control=n_control)
    nt = len(al.slot) - al.n_control  # targeted slots
    P = len(al.ids)
    # control impressions past every budget (the last ones) join the targeted ones
    keep = n_control - al.dropped_control
    rngs = [rng] if k == 1 else rng.spawn(k)
    chunks, at = [], 0
    for r, tv, cv in zip(rngs, targeted, _split_sorted(control, cut)):
        kc = min(max(keep - at, 0), len(cv))
        if kc < len(cv):  # (appended, not merged: the order of impressions matters only to the cache)
            tv = np.concatenate([tv, cv[kc:]])
        first = nt + min(at, keep)  # this chunk's first kept control slot
        chunks.append(_Chunk(r, tv, cv[:kc], al.slot[first : first + kc]))
        at += len(cv)
    # the pools' slots, dealt to the chunks in proportion to their targeted impressions ...
    sizes = [len(c.targeted) for c in chunks]
    pool_shares = _shares(sizes, nt)
    per_entry = al.per_entry if al.per_entry is not None else np.bincount(al.slot[:nt], minlength=P)
    pool_parts = [per_entry] if k == 1 else _deal(rng, per_entry, pool_shares)
    entry = np.arange(P, dtype=np.int32)
    groups = pools.entry_groups(world, al.ids, al.topic)
    broad = pools.broad_share(world, params, al.ids)
    for c, part in zip(chunks, pool_parts):
        c.pool = al.slot[:nt] if k == 1 else np.repeat(entry, part)
        c.pool, c.broad, part = _split_broad(rng, c.pool, part, broad, 0)
        c.pool_groups = pools.group_counts(world, groups, part)
    # ... then what the pools cannot absorb: stalled videos (the catalogue)
    ids, topic = al.ids, al.topic
    need = [n - s for n, s in zip(sizes, pool_shares.tolist())]
    if ahead is not None and ahead.defer:  # the pools' leftovers wait for the block's catalogue
        assert k == 1  # (deferred only for one chunk: see _Ahead)
        chunks[0].defer = True
        need = [0]
    cat = _deal_catalogue(world, params, rng, mid, chunks, need, P)
    if cat is not None:
        ids = np.concatenate([al.ids, cat.ids])
        topic = np.concatenate([al.topic, cat.topic])
    if k > 1:
        _prepare_threads(world, params)
    return _Plan(chunks, ids.astype(np.intp, copy=False), topic, P, al.live)


def _deal_catalogue(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    mid: float,
    chunks: list[_Chunk],
    need: list[int],
    P: int,
) -> pools.Allocation | None:
    """Deal the chunks ``need`` catalogue slots each (entries from ``P`` on): what their
    pools cannot absorb goes to stalled videos. Returns the allocation (None: no slots)."""
    cat = catalogue.catalogue_allocation(world, params, rng, mid, need) if sum(need) > 0 else None
    if cat is None:
        return None
    entry = np.arange(P, P + len(cat.ids), dtype=np.int32)
    groups = pools.entry_groups(world, cat.ids, cat.topic)
    broad = pools.broad_share(world, params, cat.ids)
    assert cat.per_entry is not None  # (a catalogue allocation always counts them)
    for c, part in zip(chunks, cat.parts or [cat.per_entry]):
        c.catalogue, c.catalogue_broad, part = _split_broad(rng, np.repeat(entry, part), part, broad, P)
        c.catalogue_groups = pools.group_counts(world, groups, part)
    return cat


def _prepare_threads(world: World, params: EngineParams) -> None:
    """Build the tables chunks read here, before they are served in parallel, rather than
    by racing threads."""
    audience.prepare(world)
    pools.prepare_matching(world, params)
    _learn_table(float(params.learning_rate), world.aud_pref.dtype)
    if not world.aud_pref.flags.c_contiguous:
        world.aud_pref = np.ascontiguousarray(world.aud_pref)


def _block_catalogue(
    world: World, params: EngineParams, rng: np.random.Generator, mid: float, ahead: _Ahead
) -> tuple[np.ndarray, list[_Served], int]:
    """Serve a block's catalogue at its last step: the targeted impressions its steps'
    pools left over (``ahead.left``), cut by viewer into chunks as a step of the block's
    length cuts its own (each with its own random stream, served in parallel: a chunk
    touches only its viewers' rows of ``aud_pref``). Returns the catalogue entries'
    video ids, what each chunk served (entries from 0) and the impressions dropped for
    want of a catalogue."""
    left, steps = np.concatenate(ahead.left), ahead.stash_steps()
    k = _chunks(params, len(left))
    if k == 1:
        parts = [(left, steps)]
    else:
        which = np.searchsorted(np.array(_cut(world.n_viewers, k)[1:-1]), left, side="right")
        parts = [(left[which == i], steps[which == i]) for i in range(k)]
    rngs = [rng] if k == 1 else rng.spawn(k)
    none, weights = np.zeros(0, np.intp), ahead.step_weights()
    chunks = [
        _Chunk(r, none, none, none, stash=v, stash_steps=s, step_weights=weights) for r, (v, s) in zip(rngs, parts)
    ]
    cat = _deal_catalogue(world, params, rng, mid, chunks, [len(v) for v, _ in parts], 0)
    if cat is None:
        return np.zeros(0, np.intp), [], len(left)
    if k > 1:
        _prepare_threads(world, params)
    ids = cat.ids.astype(np.intp, copy=False)
    return ids, _parallel(_serve, [(world, params, c, ids, cat.topic, 0) for c in chunks]), 0


def _split_broad(
    rng: np.random.Generator, slots: np.ndarray, part: np.ndarray, share: np.ndarray, first: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Split ``slots`` (entries from ``first`` on, ``part`` of each) into those matched
    by topic and those served to viewers at random: each slot is broad with its video's
    ``share`` (:func:`fyp_tui.engine.pools.broad_share`; one draw per slot). Returns the
    matched slots (still in group order), the broad ones (None: none) and the matched
    slots per entry."""
    if not len(slots) or not (share > 0).any():
        return slots, None, part
    b = rng.random(len(slots)) < share.take(slots - first)
    if not b.any():
        return slots, None, part
    broad = slots.take(np.flatnonzero(b))
    return slots.take(np.flatnonzero(~b)), broad, part - np.bincount(broad - first, minlength=len(part))


def _serve_broad(
    rng: np.random.Generator, pick: np.ndarray, slots: np.ndarray, broad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Serve ``broad`` slots to viewers at random among those not yet served (``pick <
    0``); returns ``pick`` (updated in place) and ``slots`` with the served ones appended."""
    rest = np.flatnonzero(pick < 0)
    m = min(len(rest), len(broad))
    if m:
        at = rest.take(rng.choice(len(rest), size=m, replace=False))
        pick[at] = len(slots) + rng.permutation(m)
        slots = np.concatenate([slots, broad[:m]])
    return pick, slots


def _serve(
    world: World, params: EngineParams, ch: _Chunk, ids_all: np.ndarray, topic_all: np.ndarray, P: int
) -> _Served:
    """Match a chunk's targeted impressions to its pool slots, then what the pools could
    not absorb to its catalogue slots; draw the reactions (hidden truth), count them
    per entry and learn from them. Touches no shared state but the chunk's viewers'
    rows of ``aud_pref``, so chunks may run in parallel."""
    rng, tviewers, slots = ch.rng, ch.targeted, ch.pool
    if len(tviewers):
        pick = pools.match_viewers(world, params, rng, tviewers, slots, slots, slot_group_counts=ch.pool_groups)
    else:  # (a block's catalogue: its impressions are all waiting ones, ``stash``)
        pick = np.zeros(0, np.intp)
    if ch.broad is not None and len(ch.broad):  # broad slots: viewers at random among those left
        pick, slots = _serve_broad(rng, pick, slots, ch.broad)
    left = None
    if ch.defer:  # what the pools left over waits for the block's catalogue
        # (positions, then gathers: a random boolean mask indexes at a branch miss per element)
        unserved = pick < 0
        left = tviewers.take(np.flatnonzero(unserved))
        if len(left):
            served = np.flatnonzero(~unserved)
            tviewers, pick = tviewers.take(served), pick.take(served)
    n_own = len(tviewers)
    if ch.stash is not None and len(ch.stash):  # the block's earlier leftovers join this step's
        tviewers = np.concatenate([tviewers, ch.stash])
        pick = np.concatenate([pick, np.full(len(ch.stash), -1, np.intp)])
    if ch.catalogue is not None and len(ch.catalogue):
        rest = np.flatnonzero(pick < 0)
        if len(rest):
            cat = ch.catalogue
            pick2 = pools.match_viewers(
                world, params, rng, tviewers.take(rest), cat, cat, slot_group_counts=ch.catalogue_groups
            )
            # (every pick at rest is -1: the unmatched keep it, the others point past the pool's slots)
            pick2 += len(slots)
            np.put(pick, rest, np.where(pick2 >= len(slots), pick2, -1))
            slots = np.concatenate([slots, cat])
    if ch.catalogue_broad is not None and len(ch.catalogue_broad):  # the catalogue's broad slots, likewise
        pick, slots = _serve_broad(rng, pick, slots, ch.catalogue_broad)
    got = pick >= 0
    n_got = int(np.count_nonzero(got))
    kept = np.flatnonzero(got) if n_got < len(got) else None  # (None: every impression found a slot)
    steps = None
    if ch.step_weights is not None and ch.stash_steps is not None and ch.stash is not None and len(ch.stash):
        # each targeted impression's step in the block: this one's (the last: weights 1 and 0), the stash's its own
        last = len(ch.step_weights[0]) - 1
        steps = np.concatenate([np.full(n_own, last, np.uint8), ch.stash_steps])
        if kept is not None:
            steps = steps.take(kept)
    if kept is not None:
        tviewers, pick = tviewers.take(kept), pick.take(kept)
    # impressions: the targeted ones (pools and catalogue), then the control slice
    viewers = np.concatenate([tviewers, ch.control], dtype=np.intp)
    # (intp: the entry of each impression indexes several arrays and feeds two bincounts,
    # and numpy converts any other index type to intp in each of them)
    chosen = np.concatenate([slots.take(pick), ch.control_entries], dtype=np.intp)
    P_all, n_ctrl = len(ids_all), len(ch.control)
    if not len(chosen):
        return _Served(
            np.zeros((P_all, N_SIGNALS), np.int64), np.zeros(P_all), SliceCounts(), SliceCounts(), 0, len(got), left
        )
    videos = ids_all.take(chosen)
    r = audience.react(world, rng, viewers, videos, seconds=False)
    delta, ratio = _count(P_all, chosen, r)
    _learn(world, params, viewers, lambda: topic_all.take(chosen), r)
    rand, targ = _slices(delta, ratio, P, n_ctrl, r)
    trend = None
    if steps is not None:  # (control impressions go to pool entries: the last step's weights, never read)
        assert ch.step_weights is not None
        steps = np.concatenate([steps, np.full(n_ctrl, len(ch.step_weights[0]) - 1, np.uint8)])
        wt, wf = ch.step_weights
        trend = _catalogue_trend(params, chosen, r, P, P_all, wt.take(steps), wf.take(steps))
    return _Served(delta, ratio, rand, targ, len(chosen), len(got) - n_got, left, trend)


def _catalogue_trend(
    params: EngineParams,
    chosen: np.ndarray,
    r: audience.Reactions,
    P: int,
    P_all: int,
    wt: np.ndarray,
    wf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per catalogue entry (entries ``P`` on), the engagement of its impressions weighted
    per impression by ``wt`` (into the trends) and by ``wf`` (into their fatigue), and unweighted."""
    # each impression's engagement (:func:`~fyp_tui.engine.trends.add_engagement`'s weights
    # of its signals) by one gather from a table over (full | like << 1 | skip << 2, rare code)
    ew = trends.engagement_weights(params)
    code = np.arange(8 * len(EXTRA_SIGNAL))
    out, rare = code // len(EXTRA_SIGNAL), code % len(EXTRA_SIGNAL)
    table = ew[Signal.VIEW] + ew[Signal.FULL_WATCH] * (out & 1) + ew[Signal.LIKE] * (out >> 1 & 1)
    table += ew[Signal.SKIP] * (out >> 2 & 1) + np.where(rare != 0, ew.take(EXTRA_SIGNAL.take(rare)), 0.0)
    key = _outcome(r) * np.int8(len(EXTRA_SIGNAL))  # (at most 7 * 6 + 5: one byte each)
    key += r.extra
    e = table.take(key)
    return (
        np.bincount(chosen, weights=e * wt, minlength=P_all)[P:],
        np.bincount(chosen, weights=e * wf, minlength=P_all)[P:],
        np.bincount(chosen, weights=e, minlength=P_all)[P:],
    )


def _followers(world: World, ids: np.ndarray, follows: np.ndarray) -> None:
    """Add each video's new follows to its creator's followers (a few videos a step)."""
    at = np.flatnonzero(follows)
    if len(at):
        np.add.at(world.creator_followers, world.video_creator.take(ids.take(at)), follows.take(at))


#: per step of a block: the targeted impressions per chunk, and the control ones (sorted viewers)
_BlockDraws = list[tuple[list[np.ndarray], np.ndarray]]


def _block_sampler(
    world: World, params: EngineParams, dt: float, m: int
) -> tuple[audience.PoissonCounts, list[int], int, float]:
    """What :func:`_block_draws` needs of the world for a block of ``m`` steps of ``dt``
    hours (read here, on the caller's thread): the block's sampler, the viewer cut of its
    steps' chunks, ``m`` and ``control_fraction``."""
    k = _chunks(params, _rate_and_total(world, params)[1] * dt)
    return _sampler(world, params, dt * m), _cut(world.n_viewers, k), m, float(params.control_fraction)


def _block_draws(
    sampler: audience.PoissonCounts, cut: list[int], m: int, cf: float, rng: np.random.Generator
) -> _BlockDraws:
    """A block's impressions (see :class:`_Ahead`): each viewer's count over the block,
    each impression then given one of the ``m`` steps, and marked control with
    probability ``cf``. Reads no world: :func:`run` draws the next block's on a worker
    thread while this one's steps are served."""
    whole = sampler.impressions(rng, cut)
    assert isinstance(whole, list)
    # each impression's step, and whether it is the control slice's (with probability
    # control_fraction, as _mark_control draws it), then the impressions sorted by both
    targeted: list[list[np.ndarray]] = [[] for _ in range(m)]
    control: list[list[np.ndarray]] = [[] for _ in range(m)]
    for imp in whole:
        key = rng.integers(0, m, len(imp), dtype=np.uint8)
        key <<= 1
        if cf > 0:
            key |= rng.random(len(imp)) < cf
        imp = imp.take(np.argsort(key, kind="stable"))  # (each step's in the block's order)
        ends = np.cumsum(np.bincount(key, minlength=2 * m)).tolist()
        for j in range(m):
            a, b, c = ends[2 * j - 1] if j else 0, ends[2 * j], ends[2 * j + 1]
            targeted[j].append(imp[a:b])
            ctrl = imp[b:c]
            ctrl.sort()
            control[j].append(ctrl)
    return [(t, np.concatenate(c).astype(np.int32)) for t, c in zip(targeted, control)]


class _Ahead:
    """The random draws of a block of ``m`` steps of ``dt`` hours that do not depend on
    the world's state, made at once by :func:`run` (a short step's fixed cost of each
    draw, paid once per block):

    * the audience's impressions (:func:`_block_draws`, which :func:`run` makes on a
      worker thread while the block before is served): each viewer's Poisson count
      over the block, each impression then given one of the ``m`` steps uniformly at
      random. By Poisson splitting, this is exactly ``m`` independent Poisson(rate x
      dt) counts per viewer, each step's own draw; and each marked control with
      probability ``control_fraction``, as :func:`_mark_control` marks a step's;
    * the creators' uploads over the block (:func:`~fyp_tui.engine.uploads.draw_uploads`),
      each joining the world in the step its upload time falls in (their sounds are
      drawn by the trends at the block's start, as one step of the block's length does).

    With ``defer`` (a block whose steps are served in one chunk), the catalogue is served
    once per block, as one step of the block's length serves it: an earlier step of the
    block leaves the targeted impressions its pools cannot absorb waiting (``left``), and
    the block's last step, once its pools are served, serves them all from the catalogue
    as it stands then, in viewer chunks on as many threads as a step of the block's
    length would use (:func:`_block_catalogue`). Stalled videos are not being judged
    (catalogue views count in lifetime counters only), so no decision waits; a short step pays for the few hundred pool
    videos it serves, not for the thousands of stalled videos it would touch once each.
    Their engagement goes into the trends and their fatigue as each step would have put
    it there, decayed to the block's end (:meth:`trend_weights`): the trends at each
    block's end are the same as with the catalogue served step by step.
    """

    def __init__(
        self,
        world: World,
        params: EngineParams,
        rng: np.random.Generator,
        t0: float,
        dt: float,
        m: int,
        rate: tuple[np.ndarray, np.ndarray] | None = None,
        draws: _BlockDraws | None = None,
    ):
        assert 1 <= m <= 127
        k = _chunks(params, _rate_and_total(world, params)[1] * dt)
        if draws is None:
            draws = _block_draws(*_block_sampler(world, params, dt, m), rng)
        assert len(draws) == m
        #: per step: the targeted impressions per chunk, and the control ones (sorted viewers)
        self.steps = draws
        self.uploads = draw_uploads(world, params, rng, t0, t0 + dt * m)
        #: the uploads' rows of the per-video tables (reactions, broad shares), computed at
        #: once: each step appends its new videos' (:meth:`add_due`), no pass of its own
        self.rows: tuple[np.ndarray, np.ndarray] | None = None
        if self.uploads is not None:
            fields = self.uploads.fields
            self.rows = (audience.video_rows(world, fields), pools.broad_values(world, params, fields))
        self.next = 0  # the block's next step
        self.last = False  # whether the step taken last is the block's last
        self.defer = k == 1
        self.dt, self.params = dt, params
        #: the sounds' and hashtags' heat at the end of the step taken last (the next one's
        #: start: nothing in a run changes the trends between two steps)
        self.heats: tuple[np.ndarray, np.ndarray] | None = None
        #: the earlier steps' targeted impressions the pools left over (viewers), and their steps
        self.left: list[np.ndarray] = []
        self.left_step: list[int] = []
        #: the catalogue's engagement per step of the block before (per sound, per hashtag),
        #: standing in for this block's until its end (:meth:`stand_in`); the steps it was added at
        self.rate = rate
        self.stood_in: list[int] = []
        #: the block's catalogue engagement per sound and per hashtag, as drawn at its end
        self.drawn_engagement: tuple[np.ndarray, np.ndarray] | None = None
        self.next_rate: tuple[np.ndarray, np.ndarray] | None = None

    def take(self) -> tuple[tuple[list[np.ndarray], np.ndarray], bool]:
        """The next step's impressions (the targeted ones per chunk, the control ones), and
        whether it is the block's last."""
        j = self.next
        self.next += 1
        self.last = self.next == len(self.steps)
        return self.steps[j], self.last

    def add_due(self, world: World, until: float | None) -> int:
        """Add the block's uploads timed before ``until`` (all if None) to the world; how many."""
        if self.uploads is None:
            return 0
        a = self.uploads.at
        ids = add_due(world, self.uploads, until)
        if len(ids) and self.rows is not None:
            b = a + len(ids)
            audience.stage_videos(world, int(ids[0]), self.rows[0][a:b])
            pools.stage_broad(world, self.params, int(ids[0]), self.rows[1][a:b])
        return len(ids)

    def wait(self, left: np.ndarray) -> None:
        """The step just taken leaves ``left`` (viewers) waiting for the block's catalogue."""
        if len(left):
            self.left.append(left)
            self.left_step.append(self.next - 1)

    def stand_in(self, world: World) -> None:
        """After a step's engagement: at an earlier step of the block, the catalogue's
        engagement at the block before's pace stands in for this step's, which the block's
        end brings (so the trends the block's steps read lag by nothing on average); at its
        last step, the stand-ins are taken back out, decayed as they were, and the block's
        catalogue engagement per step becomes the next block's stand-in (``next_rate``)."""
        if not self.last:
            if self.rate is not None and self.rate[0].shape == world.sound_trend.shape:
                if self.rate[1].shape == world.hashtag_trend.shape:
                    world.sound_trend += self.rate[0]
                    world.hashtag_trend += self.rate[1]
                    self.stood_in.append(self.next - 1)
            return
        if self.stood_in:
            assert self.rate is not None
            wt, wf = self.step_weights()
            at = np.array(self.stood_in, np.intp)
            a, b = float(wt.take(at).sum()), float(wf.take(at).sum())
            fs, fh = trends.fatigue(world)
            for arr, r, x in (
                (world.sound_trend, self.rate[0], a),
                (world.hashtag_trend, self.rate[1], a),
                (fs, self.rate[0], b),
                (fh, self.rate[1], b),
            ):
                arr -= r * x
                np.maximum(arr, 0.0, out=arr)  # (a stand-in taken back leaves rounding, never less than 0)
        got = self.drawn_engagement
        m = len(self.steps)
        self.next_rate = None if got is None else (got[0] / m, got[1] / m)

    def step_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Per step ``j`` of the block, the factors of :meth:`trend_weights` (the last step's: 1 and 0)."""
        m, p = len(self.steps), self.params
        f = 0.5 ** (self.dt / p.trend_half_life_hours)
        g = 0.5 ** (self.dt / p.trend_fatigue_hours)
        wt, wf = [], []
        for j in range(m):
            wt.append(f ** (m - 1 - j))
            wf.append((1.0 - g) * sum(g ** (m - 1 - i) * f ** (i - 1 - j) for i in range(j + 1, m)))
        return np.array(wt), np.array(wf)

    def trend_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Per waiting impression, the factors its engagement would carry at the block's
        last step into the trends (``f^(m-1-j)``: decayed by each later step) and into their
        fatigue (``(1-g) sum_{j<i<m} g^(m-1-i) f^(i-1-j)``: each later step's decay moves
        the fatigue ``1-g`` of the way to the trend), ``j`` its step, ``f`` and ``g`` the
        trend's and the fatigue's factors per step (:func:`~fyp_tui.engine.trends.decay`)."""
        wt, wf = self.step_weights()
        steps = self.stash_steps()
        return wt.take(steps), wf.take(steps)

    def stash_steps(self) -> np.ndarray:
        """Per waiting impression (in the order of ``left``), its step in the block (uint8)."""
        return np.repeat(np.array(self.left_step, np.uint8), [len(x) for x in self.left])


def step(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    dt_hours: float,
    *,
    people: Sequence[Ledger] = (),
    ahead: _Ahead | None = None,
) -> StepResult:
    """Advance the world by ``dt_hours`` simulated hours (see the module doc). ``people``:
    the ledgers of the people watching, asked for credit when a decision is taken.
    ``ahead``: the block of steps this one is the next of (:func:`run`'s draws made at once)."""
    dt = float(dt_hours)
    if not dt > 0:
        raise ValueError(f"dt_hours must be > 0, got {dt_hours!r}")
    t0 = world.clock
    t1 = t0 + dt
    mid = t0 + dt / 2
    res = StepResult(events=[])
    counted = None  # (pool videos, their tier-counter deltas) of this step
    top_s, top_h = trends.trending_lists(world, params.trending_k)
    if ahead is not None and ahead.heats is not None:  # (the trends as the last step left them)
        sh, hh = ahead.heats
    else:
        sh, hh = trends.sound_heat(world), trends.hashtag_heat(world)

    trends.decay(world, params, dt)

    # -- upload: this step's new videos join tier 0 and are served from their upload time ----
    drawn = None
    if ahead is None:
        res.uploads = len(upload(world, params, rng, t0, t1))
    else:
        drawn, last = ahead.take()
        res.uploads = ahead.add_due(world, None if last else t1)

    # -- serve ------------------------------------------------------------------------------
    plan = _plan(world, params, rng, dt, mid, sh, hh, drawn, ahead)
    ids_all, P = plan.ids, plan.n_pool
    served = _parallel(_serve, [(world, params, c, ids_all, plan.topic, P) for c in plan.chunks])
    delta, ratio = _summed(served, len(ids_all))
    if ahead is not None:
        for s in served:
            if s.left is not None:
                ahead.wait(s.left)
        if ahead.last and ahead.left:  # the block's catalogue, entries after the pools'
            cat_ids, cat_served, dropped = _block_catalogue(world, params, rng, mid, ahead)
            ids_all = np.concatenate([ids_all, cat_ids])
            cat_delta, cat_ratio = _summed(cat_served, len(cat_ids))
            delta, ratio = np.concatenate([delta, cat_delta]), np.concatenate([ratio, cat_ratio])
            served += cat_served
            res.dropped += dropped
        if ahead.last:
            ahead.left, ahead.left_step = [], []
    n_imp = sum(s.impressions for s in served)
    res.dropped += sum(s.dropped for s in served)
    if n_imp:
        # -- count ------------------------------------------------------------------------------
        touched = np.flatnonzero(delta[:, Signal.VIEW] > 0)
        if len(touched) == len(delta):  # (the usual case: every entry got its slots' viewers)
            ids, dt_, watch = ids_all, delta, ratio
        else:
            ids, dt_, watch = ids_all.take(touched), delta.take(touched, axis=0), ratio.take(touched)
        watch *= world.video_duration.take(ids)
        n_pool = int(np.searchsorted(touched, P))  # catalogue views count in lifetime counters only
        # lifetime counters of every entry (pool and catalogue), then the pool's tier counters
        before = ladder.apply_counts(world, ids, dt_, watch, tier=False)
        assert before is not None  # (lifetime counters: their views before come back)
        ladder.apply_counts(world, ids[:n_pool], dt_[:n_pool], watch[:n_pool], lifetime=False)
        counted = (ids[:n_pool], dt_[:n_pool])
        _followers(world, ids, dt_[:, Signal.FOLLOW])
        weighted = [s.trend for s in served if s.trend is not None]
        if not weighted:
            trends.add_engagement(world, params, ids, dt_)
        else:  # the block's catalogue: its engagement as each of its steps would have left it
            assert ahead is not None
            trends.add_engagement(world, params, ids[:n_pool], dt_[:n_pool])
            got = (np.zeros(world.n_sounds), np.zeros(world.n_hashtags))
            trends.add_engagement_columns(
                world,
                ids_all[P:],
                [sum(w[col] for w in weighted) for col in range(3)],
                [None, trends.fatigue(world), got],
            )
            ahead.drawn_engagement = got
        res.events += ladder.milestones(params, ids, before, before + dt_[:, Signal.VIEW], t1)

        res.catalogue = int(delta[P:, Signal.VIEW].sum())
        for s in served:
            res.slices["random"].add(s.random)
            res.slices["targeted"].add(s.targeted)

    res.impressions = n_imp
    if ahead is not None and ahead.defer:
        ahead.stand_in(world)

    # -- decide -----------------------------------------------------------------------------
    world.clock = t1
    live = plan.live
    if live is None:
        st = world.video_status[: world.n_videos]
        live = np.flatnonzero((st == ladder.ACTIVE) | (st == ladder.TOP))
    res.events += _decide(world, params, live, counted, t0, t1, rng, people)
    ladder.adapt_bars(world, params, dt)
    *heats, _, _ = trends.heats_and_lists(world, params.trending_k)  # (the lists: trend_events reads them)
    res.events += ladder.reignite(world, params, rng, t1, dt, heats[0], heats[1])
    if ahead is not None and not ahead.last:  # (the block's next step starts from these trends)
        ahead.heats = (heats[0], heats[1])
    res.events += trends.trend_events(world, top_s, top_h, params.trending_k, t1)
    return res


def _summed(served: list[_Served], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' counter deltas ``[n, N_SIGNALS]`` and watch ratios ``[n]``, summed (in
    the first chunk's arrays)."""
    if not served:
        return np.zeros((n, N_SIGNALS), np.int64), np.zeros(n)
    delta, ratio = served[0].delta, served[0].ratio
    for s in served[1:]:
        delta += s.delta
        ratio += s.ratio
    return delta, ratio


def _decide(
    world: World,
    params: EngineParams,
    live: np.ndarray,
    counted: tuple[np.ndarray, np.ndarray] | None,
    t0: float,
    now: float,
    rng: np.random.Generator,
    people: Sequence[Ledger],
) -> list[Event]:
    """The step's decisions: :func:`ladder.decide` on the live videos (sorted ``live``) a
    decision may be due for, which it would find among all of them at the cost of its
    passes over every one: the pool videos whose tier impressions this step carried
    across one of their looks, with the step's ``counted`` (pool videos, tier-counter
    deltas) for them, and those whose heat fell below ``fade_floor``. When none fades
    (the usual case), the pool videos found due are handed over as they are
    (:func:`ladder.decide_crossed`: the same decisions, not found again)."""
    fading = live[ladder.heat(world, params, live, now) < params.fade_floor]
    if counted is None or not len(counted[0]):
        return ladder.decide(world, params, fading, now, served=counted, since=t0, rng=rng, people=people)
    ids, delta = counted
    ids = ids.astype(np.int64, copy=False)
    after = world.video_tier_counts[ids, Signal.VIEW]
    before = after - delta[:, Signal.VIEW]
    tier = np.minimum(world.video_tier[ids].astype(np.int64), params.top_tier)
    looks = ladder.look_views(params)[tier]
    cross = (looks > before[:, None]) & (looks <= after[:, None])
    due = cross.any(axis=1) & (world.video_status[ids] == ladder.ACTIVE)
    if len(fading):
        served = (ids[due], delta[due])
        videos = np.union1d(served[0], fading)
        return ladder.decide(world, params, videos, now, served=served, since=t0, rng=rng, people=people)
    if not due.any():
        return []
    at = np.flatnonzero(due)
    at = at[np.argsort(ids.take(at), kind="stable")]  # (by video id, as decide sorts them)
    return ladder.decide_crossed(
        world,
        params,
        ids.take(at),
        tier.take(at),
        looks.take(at, axis=0),
        after.take(at),
        delta.take(at, axis=0).astype(np.int64, copy=False),
        cross.take(at, axis=0),
        now,
        since=t0,
        rng=rng,
        people=people,
    )


# -- the run ------------------------------------------------------------------------------------


def step_hours(world: World, params: EngineParams, hours: float) -> tuple[int, float]:
    """(steps, dt): steps of at most ``max_step_hours`` and about ``step_impressions`` each."""
    rate = float(_rate(world, params).sum())
    dt = params.max_step_hours
    if rate > 0:
        dt = min(dt, params.step_impressions / rate)
    n = max(1, math.ceil(hours / dt - 1e-9))
    return n, hours / n


def run(
    world: World,
    params: EngineParams,
    seed: int,
    hours: float,
    progress: Progress | None = None,
    on_events: Callable[[list[Event]], None] | None = None,
    *,
    step_minutes: float | None = None,
    observers: Sequence[Observer] = (),
) -> Report:
    """Advance ``world`` by ``hours`` simulated hours as fast as possible; return the report.

    The random stream is ``SeedSequence([seed, clock in seconds])``: the same world
    (same clock) and seed give the same run. ``on_events`` receives each step's
    events (e.g. to collect tier events for the checkpoint). ``step_minutes`` fixes
    the step length (default: :func:`step_hours`'s); the world's statistics do not
    depend on it. Each observer's ``observe(world, params, result)`` sees every step.
    """
    if not hours > 0:
        raise ValueError(f"hours must be > 0, got {hours!r}")
    params = params.for_world(world)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(round(world.clock * 3600))]))
    if step_minutes is None:
        n_steps, dt = step_hours(world, params, hours)
    else:
        if not step_minutes > 0:
            raise ValueError(f"step_minutes must be > 0, got {step_minutes!r}")
        n_steps = max(1, math.ceil(hours * 60.0 / step_minutes - 1e-9))
        dt = hours / n_steps
    clock0 = world.clock
    hourly = Hourly(world, params)
    observers = [hourly, *observers]
    slices = {s: SliceCounts() for s in SLICES}
    counts = dict.fromkeys(EVENT_KEYS.values(), 0)
    impressions = dropped = uploads = catalogue = 0
    # short steps: blocks of about an hour, their state-free draws made at once (_Ahead);
    # a block's impressions are drawn on a worker thread while the block before is served,
    # from a stream of their own (the same draws whatever the threads' timing)
    block = min(int(1.0 / dt + 1e-9), 127)
    ahead = None
    draw_rng = rng.spawn(1)[0] if block >= 2 else rng
    pending: Future[_BlockDraws] | None = None
    wall0 = time.perf_counter()
    for i in range(n_steps):
        if block >= 2 and i % block == 0:
            rate = ahead.next_rate if ahead is not None else None
            m = min(block, n_steps - i)
            draws = (
                pending.result()
                if pending is not None
                else _block_draws(*_block_sampler(world, params, dt, m), draw_rng)
            )
            pending = None
            if i + m < n_steps:
                sampler = _block_sampler(world, params, dt, min(block, n_steps - i - m))
                pending = _executor().submit(_block_draws, *sampler, draw_rng)
            ahead = _Ahead(world, params, rng, world.clock, dt, m, rate, draws)
        r = step(world, params, rng, dt, ahead=ahead if block >= 2 else None)
        impressions += r.impressions
        dropped += r.dropped
        catalogue += r.catalogue
        uploads += r.uploads
        for s in SLICES:
            slices[s].add(r.slices[s])
        for e in r.events:
            key = EVENT_KEYS.get(type(e))
            if key:
                counts[key] += 1
        if on_events is not None and r.events:
            on_events(r.events)
        for o in observers:
            o.observe(world, params, r)
        if progress is not None:
            progress("simulate", i + 1, n_steps)
    world.clock = clock0 + hours  # exact, whatever the float sum of steps
    hourly.finish(world, params)
    wall = time.perf_counter() - wall0
    return Report(
        seed=int(seed),
        hours=float(hours),
        clock_start=float(clock0),
        clock_end=float(world.clock),
        steps=n_steps,
        impressions=impressions,
        catalogue_impressions=catalogue,
        dropped_impressions=dropped,
        uploads=uploads,
        wall_seconds=round(wall, 3),
        impressions_per_second=round(impressions / wall, 1) if wall > 0 else 0.0,
        funnel=funnel(world, params),
        slices={
            s: {k: (round(v, 6) if isinstance(v, float) else v) for k, v in slices[s].rates().items()} for s in SLICES
        },
        top_videos=top_videos(world, 10),
        trending=trending(world, params.trending_k),
        events=counts,
        hourly=hourly.rows,
    )
