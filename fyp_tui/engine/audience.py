"""The simulated audience: the simulator's ground truth.

This is the only module that reads the hidden truth: each viewer's interests
(``aud_topics`` / ``aud_topic_w``), propensity to react (``aud_like_prop``) and each
video's ``video_quality``. From them, :func:`react` draws for a batch of
impressions the watch ratio (loops past 1.0), skip, like, share, comment,
favourite, follow and not-interested, vectorised over the batch.

The model
---------
``affinity`` is the overlap of the viewer's and the video's topic mixes
(``sum w_viewer[i] * w_video[j]`` over shared topics), ``interest = 1 -
exp(-affinity / 0.15)`` in [0, 1). The viewer's appeal of the video is::

    z = 2.2 (interest - 0.75) + 4 (quality - 0.3)
        - 0.8 [language differs] + 0.1 [same country] +/- 0.1 [device fits duration]

* skip (a swipe in the first moments, watch ratio 0.02-0.22):
  ``p = 1 / (1 + 5.67 e^z)`` -- 15 % at ``z = 0``, about half for a viewer whose
  interests do not match at all;
* otherwise the watch ratio is lognormal, ``exp(-0.19 + 0.35 z + 0.55 eps)``,
  times ``(duration / 20 s) ** -0.3``: a longer video is watched to the end less
  often (a 150 s one about half as far as the median upload's 20 s);
  ``floor(ratio)`` is the number of loops, ``ratio >= 1`` a completion;
* like: ``p = 0.042 * like_prop * e^z * (0.5 + min(ratio, 1.5))`` (not after a skip);
* one rarer reaction per impression, with probabilities proportional to
  ``like_prop * e^z``: share 0.0055, favourite 0.009, comment 0.0045, follow 0.0022;
  after a skip, "not interested" with ``0.025 (1.5 - interest)``.

So engagement falls sharply (about 5x) for a viewer whose interests do not match.

Draws: one 64-bit random word per impression, cut into four 16-bit fields (the
skip, like and rare-reaction uniforms, and the watch-time normal by a table of its
2**16 quantiles); the hidden interest weights are held as bytes (``w * 255``). Both
keep the model above to within 2**-16 and 1/255, at a fraction of the draws' cost.

Calibration (what the constants were tuned to, over the targeted traffic of the
``demo`` world; ``tests/test_engine_audience.py`` checks the ranges):

* watch ratio: mean about 0.85, median about 0.75, a tail above 1 (loops),
  completion a minority of plays -- the figures issue 3 quotes from a public
  short-video dataset (KuaiRec-style ``watch_ratio = play time / duration``);
* likes 2-10 % of views (published TikTok engagement-rate benchmarks cluster at
  4-6 % of views); shares about an order of magnitude rarer than likes; follows
  rarer still; comments and favourites in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fyp_tui.engine.world import Signal, World

# rare reaction codes in Reactions.extra
NONE, SHARE, COMMENT, FAVOURITE, FOLLOW, NOT_INTERESTED = 0, 1, 2, 3, 4, 5
#: Signal column of each extra code (NONE -> VIEW is never used)
EXTRA_SIGNAL = np.array(
    [Signal.VIEW, Signal.SHARE, Signal.COMMENT, Signal.FAVOURITE, Signal.FOLLOW, Signal.NOT_INTERESTED], dtype=np.int64
)

# -- calibration constants (see the module doc) -------------------------------------------
AFFINITY_SCALE = 0.15
Z_INTEREST, INTEREST_MID = 2.2, 0.75
Z_QUALITY, QUALITY_MID = 3.0, 0.3
Z_LANGUAGE, Z_COUNTRY, Z_DEVICE = -0.8, 0.1, 0.1
SKIP_A, SKIP_B = 0.8, 0.02  # p_skip = SKIP_B + SKIP_A (1 - s)^2
SKIP_LO, SKIP_SPAN = 0.02, 0.20
WATCH_MU, WATCH_S, WATCH_SIGMA = -0.42, 1.0, 0.55  # ratio = exp(MU + S (s - 0.5) + SIGMA eps)
LIKE_BASE = 0.077  # p_like = LIKE_BASE like_prop s^1.5 (0.5 + min(ratio, 1.5))
RARE_BASE = {SHARE: 0.011, FAVOURITE: 0.016, COMMENT: 0.008, FOLLOW: 0.004}  # x like_prop s^1.5
NI_BASE = 0.025
LONG_VIDEO_SECONDS = 45.0
#: watch ratio x (duration / DURATION_REF) ** -DURATION_EXP (the median upload's length)
DURATION_REF, DURATION_EXP = 20.0, 0.15
LARGE_SCREEN = ("web", "desktop", "tablet", "tv")

_RARE_CODES = np.array([SHARE, FAVOURITE, COMMENT, FOLLOW, NONE], dtype=np.int8)
_RARE_CUM = np.cumsum([RARE_BASE[SHARE], RARE_BASE[FAVOURITE], RARE_BASE[COMMENT], RARE_BASE[FOLLOW]]).astype(
    np.float32
)


@dataclass
class Reactions:
    """What each impression of a batch did (arrays of the batch's length)."""

    ratio: np.ndarray  # float32 watch ratio (loops past 1.0)
    skip: np.ndarray  # bool
    full: np.ndarray  # bool: watched to the end at least once
    like: np.ndarray  # bool
    extra: np.ndarray  # int8: NONE, SHARE, COMMENT, FAVOURITE, FOLLOW, NOT_INTERESTED
    watch_seconds: np.ndarray | None = None  # float32 (None when not asked for)
    #: ``full | like << 1 | skip << 2`` (int8), filled on first use by the simulation's counters
    _outcome: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    #: ``(T, viewer * T + the video's main topic)`` (intp), a by-product of :func:`react`
    #: that the simulation reuses to index ``aud_pref`` (no hidden value: ids only)
    _cell: tuple[int, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ratio)

    @property
    def loops(self) -> np.ndarray:
        return np.floor(self.ratio).astype(np.int32)


def activity(world: World, impressions_per_viewer_hour: float | None = None) -> np.ndarray:
    """Impressions per simulated hour of each viewer (optionally rescaled to a mean)."""
    a = world.aud_activity.astype(np.float64)
    if impressions_per_viewer_hour is not None and len(a):
        m = a.mean()
        a = a * (impressions_per_viewer_hour / m) if m > 0 else np.full_like(a, impressions_per_viewer_hour)
    return a


_HUGE_LAM = 30.0


def _uniform32(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform 32-bit words (uint32): the two halves of ``n / 2`` raw 64-bit draws."""
    raw = rng.bit_generator.random_raw((n + 1) // 2)
    return raw.astype("<u8", copy=False).view("<u4")[:n]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) < 2:
        return parts[0] if parts else np.zeros(0, np.intp)
    return np.concatenate(parts)


class PoissonCounts:
    """Draws one Poisson(``lam[i]``) count per viewer, fast, for a fixed ``lam``.

    Inversion of one 32-bit uniform per viewer against the first ``K`` values of
    each viewer's cumulative distribution, tabulated once as 32-bit thresholds (the
    audience's rates and the step length stay fixed during a run); the few viewers
    past the table go on by inversion from there. Exactly Poisson up to the 2**-32
    rounding of the CDF, and several times cheaper than ``rng.poisson`` over a large
    audience.
    """

    K = 6

    def __init__(self, lam: np.ndarray):
        lam = np.asarray(lam, dtype=np.float64)
        self.lam = lam
        p = np.exp(-lam)
        cdf = p.copy()
        rows = []
        for k in range(self.K):
            rows.append(cdf)
            p = p * lam / (k + 1)
            cdf = cdf + p
        self.cdf_last = rows[-1]  # P(count <= K - 1), where the tail goes on
        #: [K, N]: ``count > k`` exactly when the viewer's uniform 32-bit word ``u >= t[k]``
        #: (``t = P(count <= k) 2**32``, rounded; capped at 2**32 - 1, a 2**-32 error)
        self.t = np.minimum(np.rint(np.stack(rows) * 2.0**32), 2.0**32 - 1).astype(np.uint32)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """The count of each viewer (int64)."""
        return np.bincount(self.impressions(rng), minlength=len(self.lam))

    def impressions(self, rng: np.random.Generator, cut: list[int] | None = None) -> np.ndarray | list[np.ndarray]:
        """The same draw as :meth:`draw`, as one viewer id per impression (intp): the
        viewers with a count of at least 1, then those with at least 2, and so on,
        each level in viewer order (so per-viewer gathers sweep the tables in order).

        ``cut``: viewer bounds ``[0, c1, ..., N]``; then a list of the impressions of
        each range of viewers ``cut[i] <= v < cut[i + 1]``, in the same order.

        ``count > k`` exactly when ``u >= t[k]``: one comparison of the whole audience
        for the first level; a next level compares the whole audience again only while
        the level before holds many viewers, else only those (a count past ``k + 1``
        is past ``k``: the same viewers either way), so a short step, where most
        viewers make no impression, pays about one pass, not ``K``."""
        N = len(self.lam)
        u = _uniform32(rng, N)
        t = self.t
        levels = []
        at = np.flatnonzero(u >= t[0])
        for k in range(self.K):
            if k:
                if 4 * len(at) > N:
                    at = np.flatnonzero(u >= t[k])
                else:
                    at = at[u.take(at) >= t[k].take(at)]
            if not len(at):
                break
            levels.append(at)
        if len(levels) == self.K:  # past the table: a few heavy users count on
            rows = levels[-1]
            uu = u.take(rows).astype(np.float64)
            uu += 0.5
            uu *= 2.0**-32
            more = self._tail(rng, rows, uu) - self.K
            levels.append(np.repeat(rows, more))  # (sorted: rows are)
        if cut is None:
            return _join(levels)
        # each level is sorted: a range of viewers is a slice of it
        starts = [np.searchsorted(lv, cut) for lv in levels]
        return [_join([lv[a[i] : a[i + 1]] for lv, a in zip(levels, starts)]) for i in range(len(cut) - 1)]

    def _tail(self, rng: np.random.Generator, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Counts (at least ``K``) of the viewers ``rows`` past the table, whose uniforms
        are ``u``: inversion on from ``K``; ``rng.poisson`` for the huge rates.

        For a few of them, the next ``_TAIL_GRID`` values of each one's CDF are computed
        at once (a few array passes, where the loop paid a dozen small calls per further
        count); the rare viewer past them, or many viewers, count on one value at a time."""
        c = np.full(len(rows), self.K, np.int64)
        lam = self.lam.take(rows)
        huge = lam > _HUGE_LAM
        if huge.any():  # counts of at least K are then all but certain
            c[huge] = rng.poisson(lam[huge])
        tail = np.flatnonzero(~huge)
        if not len(tail):
            return c
        lam, uu = lam.take(tail), u.take(tail).astype(np.float64)
        k = self.K - 1
        pk = np.exp(-lam)
        for i in range(1, k + 1):
            pk = pk * lam / i
        cdf = self.cdf_last.take(rows.take(tail))
        if len(tail) > _TAIL_GRID_ROWS:  # (many: the loop's passes shrink as rows finish)
            c[tail] += _count_on(lam, uu, pk, cdf, k)
            return c
        # P(count = k) and P(count <= k) for k = K ... K + G - 1, row by row
        pg = lam[:, None] / np.arange(self.K, self.K + _TAIL_GRID, dtype=np.float64)
        np.cumprod(pg, axis=1, out=pg)
        pg *= pk[:, None]
        cg = np.cumsum(pg, axis=1)
        cg += cdf[:, None]
        up = np.count_nonzero(uu[:, None] > cg, axis=1)  # count = K + #{k >= K: u > P(count <= k)}
        far = np.flatnonzero(up == _TAIL_GRID)  # past the grid: count on
        if len(far):
            up[far] += _count_on(lam[far], uu[far], pg[far, -1], cg[far, -1], self.K + _TAIL_GRID - 1)
        c[tail] += up
        return c


#: values of the CDF past the table computed at once for the viewers past it, when they
#: are at most _TAIL_GRID_ROWS (a short step's few heavy users; a long step has thousands,
#: for whom the one-value-at-a-time loop, over fewer rows each pass, is cheaper)
_TAIL_GRID = 24
_TAIL_GRID_ROWS = 256


def _count_on(lam: np.ndarray, uu: np.ndarray, pk: np.ndarray, cdf: np.ndarray, k: int) -> np.ndarray:
    """``#{j > k: uu > P(count <= j)}`` per row, from ``pk = P(count = k)`` and ``cdf = P(count <= k)``."""
    at = np.arange(len(lam))  # the rows still counting
    extra = np.zeros(len(lam), np.int64)
    up = np.zeros(len(lam), np.int64)  # per row of ``at``: its count so far
    cdf, pk = cdf.copy(), pk.copy()
    while True:  # (the CDF rises)
        k += 1
        pk *= lam
        pk /= k
        cdf += pk
        above = uu > cdf
        n_above = np.count_nonzero(above)
        up += above
        if n_above == 0 or k > 50 * _HUGE_LAM:  # (u within rounding of 1: stop)
            break
        # drop the finished rows only once half of them are: six gathers cost
        # more than a few more plain passes over rows that are done
        if 2 * n_above < len(at):
            extra[at] = up
            more = np.flatnonzero(above)
            at, uu, cdf, pk, lam, up = at[more], uu[more], cdf[more], pk[more], lam[more], up[more]
    extra[at] = up
    return extra


def _large_screen(world: World) -> np.ndarray:
    return np.array([any(k in d.lower() for k in LARGE_SCREEN) for d in world.device_names] or [False], dtype=bool)


def large_screen(world: World, device: int) -> bool:
    """Whether device ``device`` of the world is a large screen (fits longer videos)."""
    names = world.device_names
    return 0 <= device < len(names) and any(k in names[device].lower() for k in LARGE_SCREEN)


# Derived per-world tables (the hidden interests as a dense [N * T] matrix, viewer
# keys), built once per world and rebuilt when the arrays behind them are replaced
# (``World.derived.audience``).


def invalidate(world: World) -> None:
    """Forget the derived tables (call after changing hidden arrays in place)."""
    world.derived.audience = None


def _tables(world: World) -> dict:
    stamp = (id(world.aud_topics), id(world.aud_topic_w), id(world.aud_country), world.aud_topics.shape, world.n_topics)
    hit = world.derived.audience
    if hit is not None and hit["stamp"] == stamp:
        return hit
    N, T = world.n_viewers, max(world.n_topics, 1)
    # the hidden interest weights as a dense [N, T] table of bytes (weight * 255): a
    # quarter of float32's memory traffic for the two gathers per impression
    dense = np.zeros((N, T), np.uint8)
    rows = np.arange(N)[:, None]
    dense[rows, world.aud_topics] = np.rint(np.clip(world.aud_topic_w, 0.0, 1.0) * DENSE_SCALE)  # distinct topics
    C = max(len(world.country_codes), 1)
    L = max(len(world.language_codes), 1)
    K = C * L * 2
    vkey = (world.aud_country.astype(np.int32) * L + world.aud_language) * 2 + _large_screen(world)[world.aud_device]
    k = np.arange(K)
    cc, ll, bb = k // (2 * L), (k // 2) % L, k % 2
    match = (
        Z_LANGUAGE * (ll[:, None] != ll[None, :])
        + Z_COUNTRY * (cc[:, None] == cc[None, :])
        + np.where(bb[:, None] == bb[None, :], Z_DEVICE, -Z_DEVICE)
    )
    hit = {
        "stamp": stamp,
        "dense": dense.reshape(-1),
        "T": T,
        "L": L,
        "K": K,
        # (the narrowest type that holds key * K + key: a short step's viewers are few and
        # scattered, and a narrow table holds more of them per cache line)
        "vkey": (vkey * K).astype(np.int16 if K * K < 2**15 else np.int32),
        # -z's (country, language, device) term, negated once here rather than per impression
        "neg_match": (-match).astype(np.float32).reshape(-1),
    }
    world.derived.audience = hit
    return hit


def prepare(world: World) -> None:
    """Build or extend the derived tables now (before :func:`react` runs in several threads)."""
    _video_tables(world, _tables(world))
    _watch_table()


#: hidden interest weights are stored as bytes: weight * DENSE_SCALE
DENSE_SCALE = 255.0


#: columns of the per-video table (:func:`_video_tables`): 4-byte words, the last four float32
_V_PT, _V_KEY, _V_BASE, _V_W0, _V_W1, _V_DUR = range(6)


def _video_tables(world: World, tb: dict) -> np.ndarray:
    """Per video, one row of six 4-byte words (``[n, 6]`` int32; the last four hold
    float32 bits, read through ``.view(np.float32)``): its two topics packed in one int32
    (``_V_PT``); its (country, language, long) key (``_V_KEY``); minus its appeal's video
    term ``-(Z_QUALITY (quality - QUALITY_MID) + Z_INTEREST (1 - INTEREST_MID))``
    (``_V_BASE``); its two topics' weights / DENSE_SCALE (``_V_W0``, ``_V_W1``); its
    length's term of the log watch ratio, ``-DURATION_EXP log(duration / DURATION_REF)``
    (``_V_DUR``). One row
    per impression is one gather touching one or two cache lines, where a table per
    field cost a cache miss each (a short step's impressions find them cold).

    Extended in place as videos are uploaded (the buffer grows geometrically, so a step
    pays only for its new videos), and published as one tuple in ``tb["vid"]``: a
    reader in another thread sees either the old table or the new one, never a mix.
    """
    n = world.n_videos
    hit = tb.get("vid")
    if hit is not None and hit[0] == n and hit[1] is world.video_quality:
        return hit[2]
    have = hit[0] if hit is not None and hit[0] <= n and hit[1] is world.video_quality else 0
    buf = _video_buffer(tb, have, n)
    sl = slice(have, n)
    buf[sl] = _video_rows(
        tb["L"],
        world.video_country[sl],
        world.video_language[sl],
        world.video_duration[sl],
        world.video_quality[sl],
        world.video_topics[sl],
        world.video_topic_w[sl],
    )
    out = buf[:n]
    tb["vid"] = (n, world.video_quality, out)
    return out


def _video_buffer(tb: dict, have: int, n: int) -> np.ndarray:
    """The buffer of :func:`_video_tables` with room for ``n`` rows, its first ``have`` kept
    (grown geometrically)."""
    buf = tb.get("vid_buf") if have else None
    if buf is None or len(buf) < n:
        cap = max(n + n // 2, 1024)
        new = np.empty((cap, 6), np.int32)
        if have:
            assert buf is not None  # tb["vid"] is published only after tb["vid_buf"]
            new[:have] = buf[:have]
        buf = tb["vid_buf"] = new
    return buf


def _video_rows(
    L: int,
    country: np.ndarray,
    language: np.ndarray,
    duration: np.ndarray,
    quality: np.ndarray,
    topics: np.ndarray,
    topic_w: np.ndarray,
) -> np.ndarray:
    """Rows of :func:`_video_tables` of videos with these fields (``[k, 6]`` int32)."""
    k = len(quality)
    rows = np.empty((k, 6), np.int32)
    f = rows.view(np.float32)
    key = country.astype(np.int32) * L + language
    rows[:, _V_KEY] = key * 2 + (duration > LONG_VIDEO_SECONDS)
    b = quality.astype(np.float32) * np.float32(-Z_QUALITY)
    b += np.float32(-Z_INTEREST * (1.0 - INTEREST_MID) + Z_QUALITY * QUALITY_MID)
    f[:, _V_BASE] = b
    t = np.zeros((k, 2), np.int32)
    w = np.zeros((k, 2), np.float32)
    m = min(topics.shape[1], 2)
    t[:, :m] = np.maximum(topics[:, :m], 0)
    w[:, :m] = np.where(topics[:, :m] >= 0, topic_w[:, :m], 0.0)
    rows[:, _V_PT] = (t[:, 0] & 0xFFFF) | (t[:, 1] << 16)  # topic ids < 2**15
    f[:, _V_W0], f[:, _V_W1] = w[:, 0] / np.float32(DENSE_SCALE), w[:, 1] / np.float32(DENSE_SCALE)
    dur = np.maximum(duration.astype(np.float32), np.float32(1.0))
    f[:, _V_DUR] = np.float32(-DURATION_EXP) * np.log(dur / np.float32(DURATION_REF))
    return rows


def video_rows(world: World, fields: dict[str, np.ndarray]) -> np.ndarray:
    """Rows of :func:`_video_tables` of videos not yet added, from ``add_videos``' fields
    (as the world's arrays will hold them): ``simulate.run`` computes a block's uploads'
    rows at once, and :func:`stage_videos` appends each step's (a step pays no table pass)."""

    def field(name: str, like: np.ndarray) -> np.ndarray:
        return np.asarray(fields[name], dtype=like.dtype)

    return _video_rows(
        max(len(world.language_codes), 1),
        field("country", world.video_country),
        field("language", world.video_language),
        field("duration", world.video_duration),
        field("quality", world.video_quality),
        field("topics", world.video_topics),
        field("topic_w", world.video_topic_w),
    )


def stage_videos(world: World, first: int, rows: np.ndarray) -> None:
    """Append the rows (:func:`video_rows`) of the videos just added, ``first`` on, to the
    per-video table, if it is current up to them; else leave it (it computes them from the
    world's arrays when next read)."""
    tb = world.derived.audience
    hit = tb.get("vid") if tb is not None else None
    n = world.n_videos
    if hit is None or hit[0] != first or hit[1] is not world.video_quality or first + len(rows) != n:
        return
    assert tb is not None
    buf = _video_buffer(tb, first, n)
    buf[first:n] = rows
    tb["vid"] = (n, world.video_quality, buf[:n])


def _affinity(
    world: World, tb: dict, viewers: np.ndarray, videos: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(affinity, ``viewer * T + main topic``: the cell of the first gather). ``rows``:
    the videos' rows of :func:`_video_tables`, if gathered already.

    (``viewers`` and ``videos`` as intp: numpy converts any other index array
    to intp inside every gather, a hidden copy each time.)"""
    base = np.multiply(viewers, tb["T"])
    vr: np.ndarray = _video_tables(world, tb).take(videos, axis=0) if rows is None else rows
    pt = vr[:, _V_PT]  # both topics in one word
    t1 = np.right_shift(pt, 16)
    t1 = np.add(base, t1)  # (intp + int32: the cast happens inside the add)
    base += pt & np.int32(0xFFFF)
    fw = vr.view(np.float32)
    dense = tb["dense"]
    # (uint8 x float32 gives float32: no separate conversion pass)
    a = np.multiply(dense.take(base), fw[:, _V_W0])
    a += np.multiply(dense.take(t1), fw[:, _V_W1])
    return a, base


def affinity(world: World, viewers: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """Hidden overlap of the viewers' and the videos' topic mixes, in [0, 1]:
    ``sum_j w_video[j] * w_viewer[topic_j]`` over the video's topics."""
    return _affinity(world, _tables(world), np.asarray(viewers, dtype=np.intp), np.asarray(videos, dtype=np.intp))[0]


# -- random draws --------------------------------------------------------------------------
# One 64-bit draw per impression, cut into four 16-bit fields: the skip, like and
# rare-reaction uniforms (``field / 2**16``, in [0, 1)) and the watch-time noise (a
# normal quantile: ``inv_cdf((field + 0.5) / 2**16)``, tabulated). Four times fewer
# generator calls than a float each, and no normal sampler: the draw that dominated
# the step's cost.
U16 = 65536.0
_WATCH_TABLE: list[np.ndarray] = []


def _watch_table() -> np.ndarray:
    """``WATCH_MU - WATCH_S / 2 + WATCH_SIGMA * z`` for the 2**16 normal quantiles ``z`` (float32)."""
    if not _WATCH_TABLE:
        z = normal_quantiles((np.arange(int(U16)) + 0.5) / U16)
        _WATCH_TABLE.append((WATCH_MU - 0.5 * WATCH_S + WATCH_SIGMA * z).astype(np.float32))
    return _WATCH_TABLE[0]


# P. J. Acklam's rational approximation of the normal quantile function (relative
# error below 1.15e-9: far finer than the float32 table it fills)
_QA = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_QB = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
    1.0,
)
_QC = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_QD = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_Q_LOW = 0.02425


def normal_quantiles(p: np.ndarray) -> np.ndarray:
    """The standard normal quantiles of probabilities ``p`` in (0, 1), vectorised
    (``statistics.NormalDist().inv_cdf`` one value at a time was 60 ms for the table)."""
    p = np.asarray(p, dtype=np.float64)
    z = np.empty_like(p)
    mid = (p >= _Q_LOW) & (p <= 1.0 - _Q_LOW)
    q = p[mid] - 0.5
    r = q * q
    z[mid] = q * np.polyval(_QA, r) / np.polyval(_QB, r)
    tail = ~mid
    lower = np.minimum(p[tail], 1.0 - p[tail])  # the tails are mirror images
    t = np.sqrt(-2.0 * np.log(lower))
    x = np.polyval(_QC, t) / np.polyval(_QD, t)
    z[tail] = np.where(p[tail] < 0.5, x, -x)
    return z


def _fields(rng: np.random.Generator, n: int) -> np.ndarray:
    """``[n, 4]`` uint16: four independent uniform 16-bit fields per impression."""
    raw = rng.bit_generator.random_raw(n)  # (raw words: no bounding, and no GIL held)
    return raw.astype("<u8", copy=False).view("<u2").reshape(n, 4)


def react(
    world: World, rng: np.random.Generator, viewers: np.ndarray, videos: np.ndarray, *, seconds: bool = True
) -> Reactions:
    """Draw the reactions of ``viewers[i]`` to ``videos[i]`` from the hidden truth
    (``seconds=False``: leave ``watch_seconds`` out, for a caller that sums ratios per video)."""
    f32 = np.float32
    # intp indices: numpy converts any other index array to intp in every gather
    viewers, videos = np.asarray(viewers, dtype=np.intp), np.asarray(videos, dtype=np.intp)
    n = len(viewers)
    tb = _tables(world)
    rows = _video_tables(world, tb).take(videos, axis=0)  # every per-video field, one gather
    # e = exp(-affinity / scale) = 1 - interest
    e, cell = _affinity(world, tb, viewers, videos, rows)
    e *= f32(-1.0 / AFFINITY_SCALE)
    np.exp(e, out=e)
    vidkey = np.add(tb["vkey"].take(viewers), rows[:, _V_KEY], dtype=np.intp)
    # -z = -(match + video term + Z_INTEREST * (1 - e))
    nz = tb["neg_match"].take(vidkey)
    nz += rows.view(np.float32)[:, _V_BASE]
    ez = e * f32(Z_INTEREST)
    nz += ez
    # E = e^-z; appeal sig = 1 / (1 + E) in (0, 1): 0.5 at z = 0; 1 - sig = E sig
    E = np.exp(nz, out=nz)
    sig = E + f32(1.0)
    np.reciprocal(sig, out=sig)
    inv = np.multiply(E, sig, out=E)
    del E, nz

    h = _fields(rng, n)
    # skip: u0 < SKIP_B + SKIP_A (1 - sig)^2, thresholds in units of 2**-16
    p_skip = np.multiply(inv, inv, out=inv)
    p_skip *= f32(SKIP_A * U16)
    p_skip += f32(SKIP_B * U16)
    h0 = h[:, 0]
    skip = h0 < p_skip
    ratio = _watch_table().take(h[:, 3])
    ratio += np.multiply(sig, f32(WATCH_S), out=ez)
    ratio += rows.view(np.float32)[:, _V_DUR]  # a longer video is watched less far
    np.exp(ratio, out=ratio)
    sk = np.flatnonzero(skip)
    if len(sk):  # a swipe: a ratio in [SKIP_LO, SKIP_LO + SKIP_SPAN)
        np.put(ratio, sk, f32(SKIP_LO) + f32(SKIP_SPAN) * (h0.take(sk).astype(f32) / p_skip.take(sk)))
    full = ratio >= f32(1.0)

    # g = like_prop sig^1.5, in units of 2**-16
    g = np.sqrt(sig, out=ez)
    g *= sig
    g *= world.aud_like_prop.take(viewers)
    g *= f32(U16)
    p_like = np.minimum(ratio, f32(1.5), out=sig)
    p_like += f32(0.5)
    p_like *= g
    p_like *= f32(LIKE_BASE)
    like = h[:, 1] < p_like
    like &= ~skip

    # one rarer reaction: u2 < g * cum[-1] for the few that react at all
    h2 = h[:, 2]
    g *= _RARE_CUM[-1]
    extra = np.zeros(n, np.int8)
    rare = np.flatnonzero(h2 < g)
    if len(rare):
        u = h2.take(rare).astype(f32) / g.take(rare)
        u *= _RARE_CUM[-1]
        np.put(extra, rare, _RARE_CODES.take(np.searchsorted(_RARE_CUM, u, side="right")))
    if len(sk):  # after a skip: "not interested" (u2 < NI_BASE (1.5 - interest)) or nothing
        ni = h2.take(sk) < f32(NI_BASE * U16) * (f32(0.5) + e.take(sk))
        np.put(extra, sk, np.where(ni, np.int8(NOT_INTERESTED), np.int8(NONE)))
    dur = None
    if seconds:
        dur = world.video_duration.take(videos)
        dur *= ratio
    r = Reactions(ratio=ratio, skip=skip, full=full, like=like, extra=extra, watch_seconds=dur)
    r._cell = (tb["T"], cell)
    return r


def scramble_hidden(world: World, rng: np.random.Generator) -> None:
    """Replace every hidden array with noise (for tests that the recommender ignores it)."""
    n = world.n_videos
    world.video_quality[:n] = rng.random(n).astype(world.video_quality.dtype)
    world.creator_skill[:] = rng.random(world.n_creators).astype(world.creator_skill.dtype)
    world.aud_topics[:] = rng.integers(0, max(world.n_topics, 1), world.aud_topics.shape).astype(world.aud_topics.dtype)
    w = rng.random(world.aud_topic_w.shape)
    world.aud_topic_w[:] = (w / w.sum(axis=1, keepdims=True)).astype(world.aud_topic_w.dtype)
    world.aud_like_prop[:] = rng.lognormal(0, 1, world.n_viewers).astype(world.aud_like_prop.dtype)
    invalidate(world)
