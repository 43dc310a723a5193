"""Engine settings: the tier ladder, the promotion rule, serving and audience knobs.

A scenario's ``[engine]`` table is parsed by :meth:`EngineParams.from_dict` (flat
keys, plus an optional ``[engine.weights]`` sub-table); every unknown key or bad
value raises :class:`~fyp_tui.errors.UsageError` naming the key. Then
:meth:`EngineParams.for_world` fits the ladder to the world's size.

Where the defaults come from
----------------------------
* **Ladder** ``(300, 3_000, 15_000, 120_000, 500_000, 2_000_000)`` then site-wide:
  the "traffic pool" figures widely repeated about the platform's recommender
  (first pool a few hundred views, then thousands, tens of thousands, hundreds of
  thousands, millions). They fit an audience of hundreds of millions; a world of
  100k simulated viewers could never fill them, so :meth:`for_world` scales them.
* **Signal weights** rank share > follow > comment > favourite > like, as the
  platform's own description of its signals ("likes, shares, follows, watched to
  the end") and the issue ask: shares count more than comments, comments more than
  likes; skips and "not interested" count against.
* **Freshness**: heat halves every 24 simulated hours, so a hot video's heat lasts
  days, not weeks; a video whose heat falls under 2 % (about 5.6 days) fades.
* **Control slice** 3 % of impressions served uniformly at random, the size of a
  typical A/B "holdout" bucket.

The audience calibration (watch ratio, like/share/follow rates) lives in
:mod:`fyp_tui.engine.audience`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeGuard

import numpy as np

from fyp_tui.errors import UsageError

DEFAULT_LADDER = (300, 3_000, 15_000, 120_000, 500_000, 2_000_000)

#: Promotion bar per bounded tier, rising: a bigger pool asks for more.
DEFAULT_BARS = (-0.17, 0.29, 0.44, 0.51, 0.54, 0.56)

#: Target share of decided videos promoted, per bounded tier.
DEFAULT_PROMOTE_SHARE = (0.25, 0.3, 0.3, 0.3, 0.35, 0.35)

#: Score weights per signal rate (``rate = count in tier / views in tier``).
#: Positive signals add, ``skip`` and ``not_interested`` subtract.
DEFAULT_WEIGHTS: dict[str, float] = {
    "completion": 1.0,
    "like": 1.5,
    "favourite": 2.0,
    "comment": 2.5,
    "follow": 3.0,
    "share": 3.5,
    "skip": 0.5,
    "not_interested": 3.0,
    # watch time (issue 12): times the tier's mean watch ratio (watch time / duration,
    # loops included, capped at WATCH_RATIO_CAP) minus WATCH_RATIO_MID
    "watch": 0.4,
    # creator weight (issue 12): times the creator's reach, log10(1 + followers) / 7:
    # established creators find it easier to climb (the source article, point 6)
    "creator": 0.2,
}

#: the watch ratio the tier score's watch term is centred on (the audience's typical
#: mean, so the bars keep their meaning) and its cap (a full watch and three loops)
WATCH_RATIO_MID = 0.8
WATCH_RATIO_CAP = 4.0


_BUDGETS: dict[tuple, np.ndarray] = {}
_WEIGHT_VECTORS: dict[tuple, np.ndarray] = {}


@dataclass(frozen=True)
class EngineParams:
    # -- the ladder ---------------------------------------------------------------------
    #: impression budget of each bounded tier; a video promoted past the last one
    #: is served site-wide (``Status.TOP``) until it fades.
    ladder: tuple[int, ...] = DEFAULT_LADDER
    #: promotion bar per bounded tier (the score's lower confidence bound must reach it);
    #: a single number is used for every tier.
    bars: tuple[float, ...] = DEFAULT_BARS
    #: the platform nudges each tier's bar so that about this share of its decided
    #: videos is promoted (one per bounded tier; a single number for all)
    promote_share: tuple[float, ...] = DEFAULT_PROMOTE_SHARE
    #: how fast the bars adapt: per simulated hour, a bar moves by this times (share
    #: promoted in the recent window - promote_share) (0: fixed bars)
    bar_rate: float = 0.15
    #: the window of recent decisions the bars adapt to (a half-life, hours)
    bar_window_hours: float = 1.0
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS), hash=False)
    #: z of the normal confidence bound on the score (1.645: one-sided 95 %)
    z: float = 1.645
    #: no decision before this many impressions in a tier (except at budget end)
    min_sample: int = 20
    #: a tier's decision is looked at every this share of its budget (a quarter,
    #: half, three quarters) and at the budget: never at every step
    early_fraction: float = 0.25

    # -- scaling to the world (for_world) -------------------------------------------------
    #: impressions the full-size ladder uses per upload (promotion ~30 % a tier);
    #: worlds with fewer impressions per upload get a proportionally smaller ladder
    reference_impressions_per_upload: float = 60_000.0
    #: fallback when the world has no uploads: audience size of the full ladder
    reference_viewers: int = 1_000_000
    #: smallest tier-0 budget after scaling
    min_budget: int = 30
    #: each scaled tier's budget is at least this multiple of the one before
    min_ratio: float = 2.0
    #: set by for_world; a scaled ladder is not scaled again
    scaled: bool = False

    # -- serving --------------------------------------------------------------------------
    #: share of impressions served uniformly at random from all live videos
    control_fraction: float = 0.03
    #: in-topic hashtags reach interested viewers: of a video's targeted (pool or catalogue)
    #: impressions, this share goes to viewers at random (not matched by topic) when
    #: none of its hashtags is of its main topic, less by a ``tags_to_target``-th for
    #: each one that is (none with ``tags_to_target`` of them)
    untagged_broad_share: float = 0.5
    tags_to_target: int = 3
    #: unused since the step serves video first (they sized the earlier best-of-N
    #: candidates per impression); accepted so older scenario files still load
    candidates: int = 3
    interest_candidates: int = 2
    #: the simulation step gives each targeted impression a video of the viewer's top
    #: learned topic, or of the second one with this probability (the second topic is
    #: always the fallback when the first has no slot left; 0 matches the calibration
    #: of the earlier best-of-3-candidates serving)
    second_topic_share: float = 0.0
    #: the platform refreshes each viewer's top topics from aud_pref this often (a
    #: daily model refresh; the refresh reads the whole [viewers, topics] matrix)
    pref_refresh_hours: float = 24.0
    #: worker threads of one step (a fixed number, not the machine's core count, so a
    #: run gives the same result everywhere; 1: single-threaded)
    threads: int = 1
    #: unused since the step serves video first (no impression is drawn past a
    #: budget any more); accepted so older scenario files still load
    serve_passes: int = 3
    #: a video asks for its tier's budget over fill_hours * fill_growth^tier hours
    #: (spare supply goes to the catalogue, not faster through the pools)
    fill_hours: float = 4.0
    fill_growth: float = 1.5
    #: a site-wide video asks like a budget of this multiple of the last bounded one
    top_weight: float = 2.0
    #: heat (serving weight) halves every this many simulated hours since the
    #: video entered its tier (upload, promotion or re-ignition)
    half_life_hours: float = 24.0
    #: a live video whose heat falls below this stalls ("faded")
    fade_floor: float = 0.02
    #: the person's feed's weak lifts (FeedSession makes them its RankingParams'
    #: country_beta, language_beta, device_beta): same country, same language, and a
    #: video length that fits the person's device (the simulated audience's own
    #: locality and device terms live in the audience model)
    country_bonus: float = 0.05
    language_bonus: float = 0.15
    device_bonus: float = 0.05
    #: followers see new uploads: serving weight x (1 + creator_boost * reach),
    #: reach = log10(1 + followers) / 7 (in [0, ~1.2])
    creator_boost: float = 1.0
    #: the catalogue (stalled videos) recommends a video in proportion to this power of
    #: the tier it reached: what climbed further keeps being watched more
    catalogue_tier_boost: float = 3.0
    #: online learning of the platform's estimate of viewer interests (aud_pref)
    learning_rate: float = 0.05
    #: if set, the audience's activity is rescaled to this mean (impressions per
    #: viewer per simulated hour); None keeps the seeded activity
    impressions_per_viewer_hour: float | None = None

    # -- trends ---------------------------------------------------------------------------
    #: decayed engagement of sounds and hashtags halves every this many hours
    trend_half_life_hours: float = 6.0
    #: trends rise and fall (issue 12): a sound's or hashtag's trending score is its
    #: decayed engagement damped by its fatigue, the same engagement averaged over this
    #: half-life (hours): a sudden rise trends for hours to days, a steady favourite fades
    trend_fatigue_hours: float = 36.0
    #: serving weight x (1 + trend_boost * heat), heat = trend / max trend in [0, 1]
    trend_boost: float = 1.5
    #: size of the trending lists (events when an item enters them)
    trending_k: int = 10
    #: a stalled video whose sound or hashtag is trending with heat >= this ...
    reignite_heat: float = 0.5
    #: ... is re-ignited with this probability per simulated hour ...
    reignite_rate: float = 0.003
    #: ... if it entered its tier at least this long ago (so at most once a day) ...
    reignite_cooldown_hours: float = 24.0
    #: ... and that rate halves for every this many hours since the video's upload: a
    #: trend revives mostly recent videos, so the revived stay a bounded crowd however
    #: long the world runs (a flat rate over every stalled video grows with the world's age)
    reignite_age_half_life_hours: float = 336.0

    # -- the living world -----------------------------------------------------------------
    #: multiplies every simulated creator's upload rate
    upload_scale: float = 1.0
    #: largest simulated step used by ``run`` (hours) ...
    max_step_hours: float = 1.0
    #: ... shortened so that one step serves about this many impressions
    step_impressions: int = 1_000_000
    #: lifetime views at which Milestone events fire: this, x10, x100 ...
    first_milestone: int = 1_000

    # -----------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_bounded(self) -> int:
        """Number of budgeted tiers; tier ``n_bounded`` is the site-wide tier."""
        return len(self.ladder)

    @property
    def top_tier(self) -> int:
        return len(self.ladder)

    def budgets(self) -> np.ndarray:
        """Budget per tier, the site-wide tier last (``iinfo(int64).max``: unbounded).

        Read-only and shared (cached per ladder: the simulation asks several times a step)."""
        hit = _BUDGETS.get(self.ladder)
        if hit is None:
            hit = np.array([*self.ladder, np.iinfo(np.int64).max], dtype=np.int64)
            hit.flags.writeable = False
            _BUDGETS[self.ladder] = hit
        return hit

    def bar_array(self) -> np.ndarray:
        """Promotion bar per tier, ``inf`` for the site-wide tier (never promoted)."""
        return np.array([*self.bars, np.inf], dtype=np.float64)

    def weight_vector(self) -> np.ndarray:
        """Weights in :class:`~fyp_tui.engine.world.Signal` column order (skip, NI negative).

        Read-only and shared (cached per set of weights: the engine asks for it on every
        decision, and building it costs more than the decision of one video)."""
        key = tuple(self.weights.items())
        hit = _WEIGHT_VECTORS.get(key)
        if hit is not None:
            return hit
        from fyp_tui.engine.world import N_SIGNALS, Signal

        w = np.zeros(N_SIGNALS, np.float64)
        w[Signal.FULL_WATCH] = self.weights["completion"]
        w[Signal.LIKE] = self.weights["like"]
        w[Signal.SHARE] = self.weights["share"]
        w[Signal.FAVOURITE] = self.weights["favourite"]
        w[Signal.COMMENT] = self.weights["comment"]
        w[Signal.FOLLOW] = self.weights["follow"]
        w[Signal.SKIP] = -self.weights["skip"]
        w[Signal.NOT_INTERESTED] = -self.weights["not_interested"]
        w.flags.writeable = False
        if len(_WEIGHT_VECTORS) > 256:  # (weights are few in practice; bound it anyway)
            _WEIGHT_VECTORS.clear()
        _WEIGHT_VECTORS[key] = w
        return w

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> EngineParams:
        """Parse a scenario's ``[engine]`` table; UsageError names a bad key."""
        d = dict(d or {})
        known = {f.name for f in fields(cls)} - {"scaled"}
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            if key not in known:
                raise UsageError(f"unknown key engine.{key} (allowed: {', '.join(sorted(known))})")
            kwargs[key] = _coerce(cls, key, value)
        if "ladder" in kwargs and "bars" not in kwargs and isinstance(kwargs["ladder"], tuple):
            # a ladder of another length keeps the default bars' shape: rising, then flat
            default = DEFAULT_BARS
            n = len(kwargs["ladder"])
            kwargs["bars"] = tuple(default[min(i, len(default) - 1)] for i in range(n))
        if "ladder" in kwargs and "promote_share" not in kwargs and isinstance(kwargs["ladder"], tuple):
            default = DEFAULT_PROMOTE_SHARE
            n = len(kwargs["ladder"])
            kwargs["promote_share"] = tuple(default[min(i, len(default) - 1)] for i in range(n))
        return cls(**kwargs)

    @classmethod
    def from_world(cls, world) -> EngineParams:
        """The world's scenario settings (``world.extra["engine"]``), fitted to its size."""
        return cls.from_dict((world.extra or {}).get("engine", {})).for_world(world)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "scaled":
                continue
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, dict) else v)
        return out

    def for_world(self, world) -> EngineParams:
        """A copy whose ladder fits the world's traffic (see the module doc).

        ``scale = impressions per upload / reference_impressions_per_upload``
        (capped at 1): a world whose audience makes fewer impressions per new video
        gets proportionally smaller pools, so even ``tiny`` shows every tier. The
        first budget is at least ``min_budget`` and each budget at least
        ``min_ratio`` times the one before. A scaled ladder is not scaled again.
        """
        if self.scaled:
            return self
        scale = ladder_scale(self, world)
        ladder: list[int] = []
        for i, b in enumerate(self.ladder):
            v = max(int(round(b * scale)), self.min_budget if i == 0 else 1)
            if ladder:
                v = max(v, int(math.ceil(ladder[-1] * self.min_ratio)))
            ladder.append(v)
        return replace(self, ladder=tuple(ladder), scaled=True)


def ladder_scale(params: EngineParams, world) -> float:
    supply = float(np.sum(world.aud_activity, dtype=np.float64))
    if params.impressions_per_viewer_hour is not None:
        supply = params.impressions_per_viewer_hour * world.n_viewers
    demand = float(np.sum(world.creator_upload_rate, dtype=np.float64)) * params.upload_scale
    if demand > 0 and supply > 0:
        scale = (supply / demand) / params.reference_impressions_per_upload
    else:
        scale = world.n_viewers / params.reference_viewers
    return float(min(1.0, max(scale, 0.0)))


# -- validation --------------------------------------------------------------------------

_POSITIVE = {
    "z",
    "tags_to_target",
    "reference_impressions_per_upload",
    "half_life_hours",
    "trend_half_life_hours",
    "trend_fatigue_hours",
    "max_step_hours",
    "min_ratio",
    "reference_viewers",
    "min_budget",
    "candidates",
    "step_impressions",
    "first_milestone",
    "top_weight",
    "pref_refresh_hours",
    "fill_hours",
    "serve_passes",
    "threads",
    "bar_window_hours",
    "early_fraction",
    "reignite_age_half_life_hours",
}
_NON_NEGATIVE = {
    "bar_rate",
    "catalogue_tier_boost",
    "min_sample",
    "country_bonus",
    "language_bonus",
    "device_bonus",
    "creator_boost",
    "trend_boost",
    "reignite_rate",
    "reignite_cooldown_hours",
    "upload_scale",
    "trending_k",
    "reignite_heat",
    "interest_candidates",
}
_UNIT = {
    "second_topic_share",
    "untagged_broad_share",
    "control_fraction",
    "early_fraction",
    "fade_floor",
    "learning_rate",
}
_INTS = {
    "threads",
    "tags_to_target",
    "serve_passes",
    "interest_candidates",
    "min_sample",
    "reference_viewers",
    "min_budget",
    "candidates",
    "trending_k",
    "step_impressions",
    "first_milestone",
}


def _is_num(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def _coerce(cls, key: str, value: Any) -> Any:
    if key == "ladder":
        if not isinstance(value, (list, tuple)) or not value:
            raise UsageError(f"engine.ladder must be a non-empty list of budgets, got {value!r}")
        return tuple(value)
    if key in ("bars", "promote_share"):
        if _is_num(value):
            return (float(value),)
        if not isinstance(value, (list, tuple)) or not value:
            raise UsageError(f"engine.{key} must be a number or a list of numbers, got {value!r}")
        return tuple(value)
    if key == "weights":
        if not isinstance(value, dict):
            raise UsageError(f"engine.weights must be a table, got {value!r}")
        out = dict(DEFAULT_WEIGHTS)
        for k, v in value.items():
            if k not in DEFAULT_WEIGHTS:
                raise UsageError(f"unknown key engine.weights.{k} (allowed: {', '.join(DEFAULT_WEIGHTS)})")
            out[k] = v
        return out
    if key == "impressions_per_viewer_hour" and value is None:
        return None
    return value


def _validate(p: EngineParams) -> None:
    def bad(key: str, what: str, value: Any) -> UsageError:
        return UsageError(f"engine.{key} must be {what}, got {value!r}")

    ladder = p.ladder
    if not isinstance(ladder, tuple) or not ladder:
        raise bad("ladder", "a non-empty list of budgets", ladder)
    for b in ladder:
        if not isinstance(b, (int, np.integer)) or isinstance(b, bool) or b < 1:
            raise bad("ladder", "a list of integers >= 1", list(ladder))
    if any(b2 <= b1 for b1, b2 in zip(ladder, ladder[1:])):
        raise bad("ladder", "strictly increasing", list(ladder))
    object.__setattr__(p, "ladder", tuple(int(b) for b in ladder))

    if _is_num(p.bars):
        object.__setattr__(p, "bars", (float(p.bars),))
    if _is_num(p.promote_share):
        object.__setattr__(p, "promote_share", (float(p.promote_share),))
    if isinstance(p.bars, list):
        object.__setattr__(p, "bars", tuple(p.bars))
    if isinstance(p.promote_share, list):
        object.__setattr__(p, "promote_share", tuple(p.promote_share))
    bars = p.bars
    if not isinstance(bars, tuple) or not bars or not all(_is_num(b) for b in bars):
        raise bad("bars", "a number or a list of numbers", bars)
    if len(bars) == 1:
        bars = bars * len(ladder)
    elif bars is DEFAULT_BARS:  # the defaults fit any ladder: rising, then flat
        bars = tuple(DEFAULT_BARS[min(i, len(DEFAULT_BARS) - 1)] for i in range(len(ladder)))
    if len(bars) != len(ladder):
        raise bad("bars", f"one bar per tier of the ladder ({len(ladder)})", list(bars))
    object.__setattr__(p, "bars", tuple(float(b) for b in bars))

    share = p.promote_share
    if not isinstance(share, tuple) or not share or not all(_is_num(b) and 0 < b < 1 for b in share):
        raise bad("promote_share", "a number or a list of numbers between 0 and 1 (exclusive)", share)
    if len(share) == 1:
        share = share * len(ladder)
    elif share is DEFAULT_PROMOTE_SHARE:
        share = tuple(DEFAULT_PROMOTE_SHARE[min(i, len(DEFAULT_PROMOTE_SHARE) - 1)] for i in range(len(ladder)))
    if len(share) != len(ladder):
        raise bad("promote_share", f"one share per tier of the ladder ({len(ladder)})", list(share))
    object.__setattr__(p, "promote_share", tuple(float(b) for b in share))

    if not isinstance(p.weights, dict):
        raise bad("weights", "a table", p.weights)
    for k in DEFAULT_WEIGHTS:
        v = p.weights.get(k)
        if not _is_num(v) or v < 0:
            raise bad(f"weights.{k}", "a number >= 0", v)
    extra = set(p.weights) - set(DEFAULT_WEIGHTS)
    if extra:
        raise UsageError(f"unknown key engine.weights.{sorted(extra)[0]} (allowed: {', '.join(DEFAULT_WEIGHTS)})")

    for f in fields(p):
        k = f.name
        if k in ("ladder", "bars", "promote_share", "weights", "scaled"):
            continue
        v = getattr(p, k)
        if k == "impressions_per_viewer_hour":
            if v is not None and (not _is_num(v) or v <= 0):
                raise bad(k, "a number > 0", v)
            continue
        if k in _INTS:
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise bad(k, "an integer", v)
        elif not _is_num(v):
            raise bad(k, "a number", v)
        if k in _POSITIVE and not v > 0:
            raise bad(k, "> 0", v)
        if k in _NON_NEGATIVE and not v >= 0:
            raise bad(k, ">= 0", v)
        if k in _UNIT and not 0 <= v <= 1:
            raise bad(k, "between 0 and 1", v)
        if k in ("min_ratio", "fill_growth") and v < 1:
            raise bad(k, ">= 1", v)
        if k == "candidates" and v > 16:
            raise bad(k, "at most 16", v)
