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
* otherwise the watch ratio is lognormal, ``exp(-0.19 + 0.35 z + 0.55 eps)``;
  ``floor(ratio)`` is the number of loops, ``ratio >= 1`` a completion;
* like: ``p = 0.042 * like_prop * e^z * (0.5 + min(ratio, 1.5))`` (not after a skip);
* one rarer reaction per impression, with probabilities proportional to
  ``like_prop * e^z``: share 0.0055, favourite 0.009, comment 0.0045, follow 0.0022;
  after a skip, "not interested" with ``0.025 (1.5 - interest)``.

So engagement falls sharply (about 5x) for a viewer whose interests do not match.

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

import weakref
from dataclasses import dataclass

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
LARGE_SCREEN = ("web", "desktop", "tablet", "tv")

_RARE_CODES = np.array([SHARE, FAVOURITE, COMMENT, FOLLOW, NONE], dtype=np.int8)
_RARE_CUM = np.cumsum([RARE_BASE[SHARE], RARE_BASE[FAVOURITE], RARE_BASE[COMMENT], RARE_BASE[FOLLOW]]).astype(np.float32)


@dataclass
class Reactions:
    """What each impression of a batch did (arrays of the batch's length)."""

    ratio: np.ndarray  # float32 watch ratio (loops past 1.0)
    skip: np.ndarray  # bool
    full: np.ndarray  # bool: watched to the end at least once
    like: np.ndarray  # bool
    extra: np.ndarray  # int8: NONE, SHARE, COMMENT, FAVOURITE, FOLLOW, NOT_INTERESTED
    watch_seconds: np.ndarray  # float32

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


def sample_viewers(rng: np.random.Generator, rate: np.ndarray, dt: float) -> np.ndarray:
    """Who opens the app in the next ``dt`` hours: each viewer ~ Poisson(rate * dt) impressions.

    Returned sorted by viewer (so per-viewer gathers are cache-friendly).
    """
    counts = rng.poisson(rate * dt)
    return np.repeat(np.arange(len(rate), dtype=np.int32), counts)


def _large_screen(world: World) -> np.ndarray:
    return np.array([any(k in d.lower() for k in LARGE_SCREEN) for d in world.device_names] or [False], dtype=bool)


# Derived per-world tables (the hidden interests as a dense [N * T] matrix, viewer
# keys), built once per world and rebuilt when the arrays behind them are replaced.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def invalidate(world: World) -> None:
    """Forget the derived tables (call after changing hidden arrays in place)."""
    _CACHE.pop(world, None)


def _tables(world: World) -> dict:
    stamp = (id(world.aud_topics), id(world.aud_topic_w), id(world.aud_country), world.aud_topics.shape, world.n_topics)
    hit = _CACHE.get(world)
    if hit is not None and hit["stamp"] == stamp:
        return hit
    N, T = world.n_viewers, max(world.n_topics, 1)
    dense = np.zeros((N, T), np.float16)
    rows = np.arange(N)[:, None]
    dense[rows, world.aud_topics] = world.aud_topic_w  # a viewer's topics are distinct
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
        "vkey": (vkey * K).astype(np.int32),
        "match": match.astype(np.float32).reshape(-1),
    }
    _CACHE[world] = hit
    return hit


def affinity(world: World, viewers: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """Hidden overlap of the viewers' and the videos' topic mixes, in [0, 1]:
    ``sum_j w_video[j] * w_viewer[topic_j]`` over the video's topics."""
    tb = _tables(world)
    base = viewers.astype(np.int64) * tb["T"]
    vt = world.video_topics[videos]
    vw = world.video_topic_w[videos]
    a = tb["dense"][base + vt[:, 0]].astype(np.float32) * vw[:, 0]
    a += tb["dense"][base + vt[:, 1]].astype(np.float32) * vw[:, 1]
    return a


def react(world: World, rng: np.random.Generator, viewers: np.ndarray, videos: np.ndarray) -> Reactions:
    """Draw the reactions of ``viewers[i]`` to ``videos[i]`` from the hidden truth."""
    n = len(viewers)
    tb = _tables(world)
    a = affinity(world, viewers, videos)
    interest = np.float32(1.0) - np.exp(a * np.float32(-1.0 / AFFINITY_SCALE))
    dur = world.video_duration[videos]
    L = tb["L"]
    vidkey = (world.video_country[videos].astype(np.int32) * L + world.video_language[videos]) * 2 + (dur > LONG_VIDEO_SECONDS)
    z = np.float32(Z_INTEREST) * interest
    z += np.float32(Z_QUALITY) * world.video_quality[videos]
    z += tb["match"][tb["vkey"][viewers] + vidkey]
    z += np.float32(-Z_INTEREST * INTEREST_MID - Z_QUALITY * QUALITY_MID)
    sig = np.float32(1.0) / (np.float32(1.0) + np.exp(-z))  # appeal in (0, 1): 0.5 at z = 0

    inv = np.float32(1.0) - sig
    p_skip = np.float32(SKIP_B) + np.float32(SKIP_A) * inv * inv
    u0 = rng.random(n, dtype=np.float32)
    skip = u0 < p_skip
    eps = rng.standard_normal(n, dtype=np.float32)
    eps *= np.float32(WATCH_SIGMA)
    eps += np.float32(WATCH_S) * sig
    eps += np.float32(WATCH_MU - 0.5 * WATCH_S)
    ratio = np.exp(eps)
    ratio = np.where(skip, np.float32(SKIP_LO) + np.float32(SKIP_SPAN) * (u0 / p_skip), ratio)
    full = ratio >= np.float32(1.0)

    g = world.aud_like_prop[viewers] * sig * np.sqrt(sig)
    p_like = np.float32(LIKE_BASE) * g * (np.float32(0.5) + np.minimum(ratio, np.float32(1.5)))
    like = rng.random(n, dtype=np.float32) < p_like
    like &= ~skip

    u2 = rng.random(n, dtype=np.float32)
    extra = _RARE_CODES[np.searchsorted(_RARE_CUM, u2 / g, side="right")]
    ni = u2 < np.float32(NI_BASE) * (np.float32(1.5) - interest)
    extra = np.where(skip, np.where(ni, np.int8(NOT_INTERESTED), np.int8(NONE)), extra).astype(np.int8)
    return Reactions(ratio=ratio, skip=skip, full=full, like=like, extra=extra, watch_seconds=ratio * dur)


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
