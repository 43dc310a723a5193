"""Trending sounds and hashtags: decayed engagement, observable.

Each sound and hashtag carries ``trend``: the engagement its videos earned, decayed
with a half-life of ``trend_half_life_hours``, and a fatigue: that trend averaged
over ``trend_fatigue_hours``. What trends is the trending score, the trend damped by
the fatigue (:func:`sound_score`): a sudden rise trends within hours and fades over
a day or two as its fatigue catches up, and a sound everyone uses all the time
does not lead for ever (issue 12: trends rise and fall, as on the platform). Engagement of an impression is the
positive part of the tier-score weights (a share counts 8, a like 2 ...). A video's
trend heat is the largest of its sound's and its topical hashtags' ``trend / max``,
in [0, 1]. Generic tags (``#fyp``, ``#viral``: ``hashtag_topic == -1``) ride on
everything, so they are tracked but never count as trending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fyp_tui.engine.events import Event, TrendingHashtag, TrendingSound
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import World

_ENGAGEMENT: dict[int, tuple[np.ndarray, np.ndarray, list[float]]] = {}


def _weights(params: EngineParams) -> tuple[np.ndarray, np.ndarray, list[float]]:
    w = params.weight_vector()
    hit = _ENGAGEMENT.get(id(w))
    if hit is None or hit[0] is not w:
        e = np.maximum(w, 0.0)
        e.flags.writeable = False
        if len(_ENGAGEMENT) > 256:
            _ENGAGEMENT.clear()
        hit = _ENGAGEMENT[id(w)] = (w, e, e.tolist())  # (holding w keeps its id unique)
    return hit


def engagement_weights(params: EngineParams) -> np.ndarray:
    """The positive part of the score weights (read-only, cached per weight vector)."""
    return _weights(params)[1]


#: ``world.extra`` keys of the fatigue arrays (saved with the world like any extra array)
SOUND_FATIGUE = "sound_trend_fatigue"
HASHTAG_FATIGUE = "hashtag_trend_fatigue"


def fatigue(world: World) -> tuple[np.ndarray, np.ndarray]:
    """The sounds' and hashtags' fatigue: their decayed engagement averaged over
    ``trend_fatigue_hours`` (``world.extra``; a world without it starts from its trends
    as they are, as if they had held steady)."""
    extra = world.extra
    out = []
    for key, trend in ((SOUND_FATIGUE, world.sound_trend), (HASHTAG_FATIGUE, world.hashtag_trend)):
        a = extra.get(key)
        if not isinstance(a, np.ndarray) or a.shape != trend.shape:
            old = a if isinstance(a, np.ndarray) else np.zeros(0)
            a = trend.astype(np.float64).copy()
            k = min(len(old), len(a))
            a[:k] = old[:k]  # (sounds or hashtags added since: they start steady)
            extra[key] = a
        out.append(a)
    return out[0], out[1]


def decay(world: World, params: EngineParams, dt: float) -> None:
    """Decay the trends by ``dt`` hours, and move the fatigue toward them (an average
    over ``trend_fatigue_hours``, exact for trends that hold steady over the step)."""
    fs, fh = fatigue(world)
    g = 0.5 ** (dt / params.trend_fatigue_hours)
    fs *= g
    fs += (1.0 - g) * world.sound_trend
    fh *= g
    fh += (1.0 - g) * world.hashtag_trend
    f = 0.5 ** (dt / params.trend_half_life_hours)
    world.sound_trend *= f
    world.hashtag_trend *= f


def _damped(trend: np.ndarray, tired: np.ndarray) -> np.ndarray:
    """Trending score: ``trend / (1 + tired / scale)``, scale the mean fatigue of those
    with any. A steady favourite (tired = trend) saturates near ``scale``; a sudden rise
    (trend well above its fatigue) scores its trend until the fatigue catches up."""
    pos = tired[tired > 0]
    if not len(pos):
        return trend.astype(np.float64, copy=True)
    scale = float(pos.sum()) / len(pos)  # (pos.mean(), without its Python wrapper)
    return trend / (1.0 + tired / scale)


def sound_score(world: World) -> np.ndarray:
    """Each sound's trending score (see :func:`_damped`)."""
    return _damped(world.sound_trend, fatigue(world)[0])


def hashtag_score(world: World) -> np.ndarray:
    """Each hashtag's trending score (see :func:`_damped`)."""
    return _damped(world.hashtag_trend, fatigue(world)[1])


def _engagement(params: EngineParams, delta: np.ndarray) -> np.ndarray:
    """Engagement of each row of counter deltas ``[k, N_SIGNALS]``: ``delta @ engagement_weights``.

    Large batches add the few weighted columns one by one: a float matrix-vector
    product goes to BLAS, which may run it on extra threads (CPU time for nothing)."""
    w = engagement_weights(params)
    if len(delta) < 512:
        return delta @ w if delta.dtype == np.float64 else delta.astype(np.float64) @ w
    e = np.zeros(len(delta))
    for j in np.flatnonzero(w).tolist():
        col = delta[:, j] * w[j]
        e += col
    return e


def add_engagement(world: World, params: EngineParams, videos: np.ndarray, delta: np.ndarray) -> None:
    """Credit the sounds and hashtags of ``videos`` with the engagement in ``delta`` ``[k, N_SIGNALS]``."""
    delta = np.asarray(delta).reshape(-1, world.video_counts.shape[1])
    videos = np.asarray(videos).reshape(-1)
    if len(videos) <= 16:  # a few videos (a person's reaction): plain Python, in place
        w = _weights(params)[2]
        st, ht = world.sound_trend, world.hashtag_trend
        for v, row in zip(videos.tolist(), delta.tolist()):
            ev = sum([a * b for a, b in zip(row, w) if b])
            if ev:
                st[world.video_sound[v]] += ev
                for t in world.video_tags[v].tolist():
                    if t >= 0:
                        ht[t] += ev
        return
    add_engagement_values(world, videos, _engagement(params, delta))


def add_engagement_values(
    world: World, videos: np.ndarray, e: np.ndarray, into: tuple[np.ndarray, np.ndarray] | None = None
) -> None:
    """Credit the sounds and hashtags of ``videos`` with the engagement ``e`` (one value per
    video) in their trends, or in ``into`` (the sounds' and hashtags' arrays to add to:
    e.g. their :func:`fatigue`)."""
    sound_to, tag_to = into if into is not None else (world.sound_trend, world.hashtag_trend)
    hit = np.flatnonzero(e)
    if not len(hit):
        return
    if 2 * len(hit) < len(e):  # (rows without engagement add nothing: leave them out)
        videos, e = videos.take(hit), e.take(hit)
    tags = world.video_tags.take(videos, axis=0)
    sound_to += np.bincount(world.video_sound.take(videos), weights=e, minlength=world.n_sounds)[: world.n_sounds]
    if tags.size:  # tag ids + 1 (no tag, -1, falls in bin 0 and is dropped)
        flat = tags.reshape(-1) + np.int32(1)
        ew = np.repeat(e, tags.shape[1])
        tag_to += np.bincount(flat, weights=ew, minlength=world.n_hashtags + 1)[1 : world.n_hashtags + 1]


def add_engagement_columns(
    world: World,
    videos: np.ndarray,
    es: list[np.ndarray],
    intos: list[tuple[np.ndarray, np.ndarray] | None],
) -> None:
    """:func:`add_engagement_values` of each engagement vector ``es[i]`` (one value per
    video of ``videos``) into ``intos[i]``, the videos' sounds and tags read once for all
    (the same sums: a row without engagement adds nothing either way)."""
    keep = [i for i, e in enumerate(es) if e.any()]
    if not keep:
        return
    tags = world.video_tags.take(videos, axis=0)
    sound = world.video_sound.take(videos)
    flat = tags.reshape(-1) + np.int32(1) if tags.size else None
    for i in keep:
        e = es[i]
        into = intos[i]
        sound_to, tag_to = into if into is not None else (world.sound_trend, world.hashtag_trend)
        sound_to += np.bincount(sound, weights=e, minlength=world.n_sounds)[: world.n_sounds]
        if flat is not None:  # tag ids + 1 (no tag, -1, falls in bin 0 and is dropped)
            ew = np.repeat(e, tags.shape[1])
            tag_to += np.bincount(flat, weights=ew, minlength=world.n_hashtags + 1)[1 : world.n_hashtags + 1]


def sound_heat(world: World) -> np.ndarray:
    """Heat of sounds in [0, 1]: trending score over the highest."""
    return _heat(sound_score(world), world.n_sounds)


def hashtag_heat(world: World) -> np.ndarray:
    """Heat of topical hashtags in [0, 1]; generic tags get 0."""
    return _heat(_topical(world, hashtag_score(world)), world.n_hashtags)


def _topical(world: World, score: np.ndarray) -> np.ndarray:
    """Hashtags' scores with the generic tags' (``hashtag_topic == -1``) set to 0."""
    return np.where(world.hashtag_topic >= 0, score, 0.0)


def _heat(t: np.ndarray, n: int) -> np.ndarray:
    """Scores over the highest (``n`` zeros if none is above 0)."""
    m = t.max() if n and len(t) else 0.0
    if m <= 0:
        return np.zeros(n)
    return t / m


def _top(values: np.ndarray, k: int) -> np.ndarray:
    k = min(k, int((values > 0).sum()))
    if k <= 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-values, k - 1)[:k] if k < len(values) else np.arange(len(values))
    order = np.lexsort((part, -values[part]))  # by trend desc, then id
    return part[order].astype(np.int64)


def trending_sounds(world: World, k: int = 10) -> np.ndarray:
    """Ids of the ``k`` sounds with the highest trending score (ties by id), > 0 only."""
    return _top(sound_score(world), k)


def trending_hashtags(world: World, k: int = 10) -> np.ndarray:
    """Ids of the ``k`` topical hashtags with the highest trending score (generic tags excluded)."""
    return _top(_topical(world, hashtag_score(world)), k)


@dataclass
class TrendingLists:
    """The trending lists as :func:`trending_lists` last computed them, with the trends
    they came from (``World.derived.trending``)."""

    k: int
    sound_trend: np.ndarray
    hashtag_trend: np.ndarray
    sounds: np.ndarray
    hashtags: np.ndarray


def trending_lists(world: World, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(trending_sounds(world, k), trending_hashtags(world, k))`` (read-only), kept
    until the trends change: a step's end computes them, and the next step's start
    reads them back unless something (a person's reaction) moved the trends between."""
    c = world.derived.trending
    st, ht = world.sound_trend, world.hashtag_trend
    if (
        c is not None
        and c.k == k
        and c.sound_trend.shape == st.shape
        and c.hashtag_trend.shape == ht.shape
        and (c.sound_trend == st).all()
        and (c.hashtag_trend == ht).all()
    ):
        return c.sounds, c.hashtags
    return _keep_lists(world, k, trending_sounds(world, k), trending_hashtags(world, k))


def _keep_lists(world: World, k: int, s: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s.flags.writeable = False
    h.flags.writeable = False
    world.derived.trending = TrendingLists(k, world.sound_trend.copy(), world.hashtag_trend.copy(), s, h)
    return s, h


def heats_and_lists(world: World, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(sound_heat, hashtag_heat, *trending_lists(world, k))``, each trending score
    computed once for both (a step's end reads all four)."""
    ss, hs = sound_score(world), _topical(world, hashtag_score(world))
    s, h = _keep_lists(world, k, _top(ss, k), _top(hs, k))
    return _heat(ss, world.n_sounds), _heat(hs, world.n_hashtags), s, h


def trend_events(world: World, before_s: np.ndarray, before_h: np.ndarray, k: int, now: float) -> list[Event]:
    """Events for sounds and hashtags that entered the top ``k`` since ``before_*``."""
    out: list[Event] = []
    top_s, top_h = trending_lists(world, k)
    was_s, was_h = set(np.asarray(before_s).tolist()), set(np.asarray(before_h).tolist())
    for s in top_s.tolist():
        if s not in was_s:
            out.append(TrendingSound(time=float(now), sound=s, score=float(world.sound_trend[s])))
    for h in top_h.tolist():
        if h not in was_h:
            out.append(TrendingHashtag(time=float(now), hashtag=h, score=float(world.hashtag_trend[h])))
    return out
