"""Uploads: simulated creators posting new videos into tier 0 within a step, and
the person posting one from the studio; each new video's sound, topics, hashtags,
caption and (hidden) quality are drawn here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import TAGS_PER_VIDEO, TOPICS_PER_VIDEO, World


@dataclass
class UploadTables:
    """What :func:`upload` draws from, kept from step to step (``World.derived.uploads``):
    videos per sound over the first ``n`` videos (a video's sound never changes once
    it is added, so only new videos are counted), the creators' cumulative upload
    rates and the hashtags by topic (each rebuilt if its source array changed)."""

    n: int
    usage: np.ndarray  # int64 [n_sounds]: videos per sound among the first n
    rate: np.ndarray  # snapshot of creator_upload_rate
    cum_rate: np.ndarray  # float64 cumulative sum of it
    hashtag_topic: np.ndarray  # snapshot
    n_topics: int
    tags: tuple[np.ndarray, np.ndarray, np.ndarray]  # see _hashtags_by_topic


def _upload_tables(world: World) -> UploadTables:
    """``world.derived.uploads``, brought up to date."""
    u = world.derived.uploads
    n, S = world.n_videos, world.n_sounds
    if u is None or u.n > n or len(u.usage) != S:
        u = UploadTables(
            0, np.zeros(S, np.int64), np.zeros(0, np.float32), np.zeros(0), np.zeros(0, np.int16), -1, _NO_TAGS
        )
        world.derived.uploads = u
    if n > u.n:
        u.usage += np.bincount(world.video_sound[u.n : n], minlength=S)[:S]
        u.n = n
    r = world.creator_upload_rate
    if u.rate.shape != r.shape or not (u.rate == r).all():
        u.rate = r.copy()
        u.cum_rate = np.cumsum(r.astype(np.float64))
    ht = world.hashtag_topic
    if u.n_topics != world.n_topics or u.hashtag_topic.shape != ht.shape or not (u.hashtag_topic == ht).all():
        u.hashtag_topic, u.n_topics = ht.copy(), world.n_topics
        u.tags = _hashtags_by_topic(world)
    return u


_NO_TAGS = (np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64))


def _hashtags_by_topic(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hashtag ids sorted by topic, start offset per topic, generic tag ids)."""
    ht = world.hashtag_topic.astype(np.int64)
    topical = np.flatnonzero(ht >= 0)
    order = topical[np.argsort(ht[topical], kind="stable")]
    starts = np.searchsorted(ht[order], np.arange(world.n_topics + 1))
    return order, starts, np.flatnonzero(ht < 0)


def _draw_tags(world: World, rng: np.random.Generator, topics: np.ndarray) -> np.ndarray:
    """1-4 hashtags per video: from its main topic's vocabulary, often one generic (#fyp ...)."""
    m = len(topics)
    tags = np.full((m, TAGS_PER_VIDEO), -1, np.int32)
    if m == 0 or world.n_hashtags == 0:
        return tags
    order, starts, generic = _upload_tables(world).tags
    lo, hi = starts[topics], starts[topics + 1]
    size = hi - lo
    n_topical = np.minimum(1 + rng.binomial(2, 0.45, m), TAGS_PER_VIDEO)
    for j in range(TAGS_PER_VIDEO - 1):  # tag slots, not videos
        pick = lo + np.floor(rng.random(m) ** 1.6 * np.maximum(size, 1)).astype(np.int64)
        ok = (j < n_topical) & (size > 0)
        tags[ok, j] = order[np.minimum(pick[ok], len(order) - 1)]
    if len(generic):
        g = rng.random(m) < 0.6
        slot = np.minimum(n_topical, TAGS_PER_VIDEO - 1)
        tags[np.flatnonzero(g), slot[g]] = generic[rng.integers(0, len(generic), int(g.sum()))]
    # dedupe within a row (keep first), then pack to the left
    srt = np.sort(np.where(tags < 0, np.iinfo(np.int32).max, tags), axis=1)
    dup = np.zeros_like(srt, dtype=bool)
    dup[:, 1:] = srt[:, 1:] == srt[:, :-1]
    srt[dup] = np.iinfo(np.int32).max
    srt = np.sort(srt, axis=1)
    return np.where(srt == np.iinfo(np.int32).max, -1, srt).astype(np.int32)


def _captions(world: World, rng: np.random.Generator, tags: np.ndarray) -> list[str]:
    m = len(tags)
    words = world.caption_words or ["video"]
    n_words = rng.integers(3, 9, m)
    picks = rng.integers(0, len(words), (m, 8))
    names = world.hashtag_names
    out = []
    # strings: one caption per new upload, from plain lists (no numpy scalars per word)
    for row, k, trow in zip(picks.tolist(), n_words.tolist(), tags.tolist()):
        text = " ".join([words[w] for w in row[:k]])
        text = text[:1].upper() + text[1:]
        tag_text = " ".join(["#" + names[t] for t in trow if t >= 0])
        out.append(f"{text} {tag_text}".strip())
    return out


def _quality_noise(world: World) -> float:
    return float((world.extra or {}).get("quality_noise", 0.1))


@dataclass
class Pending:
    """Uploads drawn ahead for a time window (:func:`draw_uploads`), sorted by upload
    time, waiting to join the world as the clock passes their times (:func:`add_due`)."""

    times: np.ndarray  # float64, sorted
    fields: dict[str, np.ndarray]  # add_videos' keyword arrays (upload_time aside)
    captions: list[str]
    at: int = 0  # the uploads before this one have joined the world


def upload(world: World, params: EngineParams, rng: np.random.Generator, t0: float, t1: float) -> np.ndarray:
    """Simulated creators upload in ``(t0, t1]``: Poisson per creator's rate; returns new ids."""
    pending = draw_uploads(world, params, rng, t0, t1)
    return add_due(world, pending, None) if pending is not None else np.zeros(0, np.int64)


def draw_uploads(world: World, params: EngineParams, rng: np.random.Generator, t0: float, t1: float) -> Pending | None:
    """The simulated creators' uploads in ``(t0, t1]`` (None if none), drawn as the world
    stands at ``t0``; :func:`add_due` adds them. ``simulate.run`` draws a block of short
    steps' uploads at once: the same law as each step's own (Poisson splitting), at a
    fraction of the fixed cost of a draw per step."""
    dt = t1 - t0
    C = world.n_creators
    if C == 0 or params.upload_scale <= 0 or world.n_sounds == 0:
        return None
    tables = _upload_tables(world)
    # each creator's uploads are Poisson at its rate: drawn as the Poisson total, each
    # upload's creator picked by rate (Poisson splitting: the same law as one count
    # per creator, without a draw for each of them every step)
    cum = tables.cum_rate
    total = float(cum[-1])
    m = int(rng.poisson(total * params.upload_scale * dt)) if total > 0 else 0
    if m == 0:
        return None
    creators = np.minimum(np.searchsorted(cum, rng.random(m) * total, side="right"), C - 1).astype(np.int32)
    times = t0 + dt * rng.random(m)
    order = np.argsort(times, kind="stable")
    creators, times = creators[order], times[order]
    T = max(world.n_topics, 1)
    skill = world.creator_skill[creators].astype(np.float64)
    quality = np.minimum(np.maximum(skill + _quality_noise(world) * rng.standard_normal(m), 0.0), 1.0)
    main = np.where(rng.random(m) < 0.8, world.creator_topic[creators], rng.integers(0, T, m)).astype(np.int16)
    second = rng.integers(0, T, m).astype(np.int16)
    if T > 1:  # a second topic other than the main one (as seeded videos have)
        same = second == main
        second[same] = ((main[same] + 1 + rng.integers(0, T - 1, int(same.sum()))) % T).astype(np.int16)
    w0 = rng.uniform(0.6, 0.95, m)
    topics = np.stack([main, second], axis=1)[:, :TOPICS_PER_VIDEO]
    topic_w = np.stack([w0, 1 - w0], axis=1)[:, :TOPICS_PER_VIDEO].astype(np.float32)
    sw = (1.0 + tables.usage) * (1.0 + 3.0 * trends.sound_heat(world))
    cum = np.cumsum(sw)
    sound = np.minimum(np.searchsorted(cum, rng.random(m) * cum[-1], side="right"), world.n_sounds - 1)
    duration = np.minimum(np.maximum(np.exp(np.log(20.0) + 0.65 * rng.standard_normal(m)), 5.0), 180.0).astype(
        np.float32
    )
    tags = _draw_tags(world, rng, main.astype(np.int64))
    captions = _captions(world, rng, tags)
    fields = {
        "creator": creators,
        "sound": sound.astype(np.int32),
        "duration": duration,
        "topics": topics,
        "topic_w": topic_w,
        "language": world.creator_language[creators],
        "country": world.creator_country[creators],
        "quality": quality.astype(np.float32),
        "tags": tags,
    }
    return Pending(times, fields, captions)


def add_due(world: World, pending: Pending, until: float | None) -> np.ndarray:
    """Add the pending uploads timed before ``until`` (all of them if None) to the world,
    in tier 0; returns their ids."""
    a = pending.at
    b = len(pending.times) if until is None else int(np.searchsorted(pending.times, until, side="left"))
    if b <= a:
        return np.zeros(0, np.int64)
    pending.at = b
    return world.add_videos(
        **{k: v[a:b] for k, v in pending.fields.items()},
        upload_time=pending.times[a:b],
        captions=pending.captions[a:b],
    )


def caption_language(world: World, caption: str, default: int) -> int:
    """The language a caption is written in: the one whose caption words it uses most
    (the seeded vocabularies, ``world.extra["caption_words_by_language"]``); ``default``
    (the creator's) when no language's words appear or two tie with it."""
    vocab = (world.extra or {}).get("caption_words_by_language") or {}
    words = [w.strip(".,!?¿¡:;\"'()").casefold() for w in caption.split() if not w.startswith("#")]
    hits: dict[int, int] = {}
    for code, vocabulary in vocab.items():  # a handful of languages
        if code not in world.language_codes:
            continue
        known = {v.casefold() for v in vocabulary}
        n = sum(w in known for w in words)
        if n:
            hits[world.language_codes.index(code)] = n
    if not hits:
        return int(default)
    best = max(hits.values())
    if hits.get(int(default), 0) == best:
        return int(default)
    return min(lang for lang, n in hits.items() if n == best)


def handle_for(world: World, name: str) -> str:
    """A creator handle from a person's name: lower case letters, digits and ``_``,
    made unique among the world's handles with a number."""
    base = "".join(ch if ch.isalnum() else "_" for ch in name.strip().casefold()).strip("_")[:24] or "creator"
    taken = set(world.creator_handles)
    handle, k = base, 1
    while handle in taken:
        k += 1
        handle = f"{base}{k}"
    return handle


def add_person_creator(world: World, *, name: str, country: int, language: int, topic: int) -> int:
    """A person's own creator account: a handle from their name, their country and
    language, no followers and no uploads of its own; its (hidden) skill is the
    world's median creator skill. Returns its id."""
    skill = float(np.median(world.creator_skill)) if world.n_creators else 0.5
    return world.add_creator(
        handle=handle_for(world, name),
        name=name.strip() or "creator",
        country=country,
        language=language,
        topic=topic,
        skill=skill,
    )


def post_video(
    world: World,
    params: EngineParams,
    rng: np.random.Generator,
    *,
    profile: int,
    creator: int,
    sound: int,
    duration: float,
    topic: int,
    hashtags,
    caption: str,
    now: float,
) -> int:
    """A person's own upload (the studio, ``fyp-tui post``): enters tier 0 at once; returns its id.

    Nothing about it is special to the audience or the ladder: its hidden quality
    is drawn from its creator's skill as every upload's is (so a good post can still
    flop); its topic mix is the chosen topic, weighted as an upload's main topic is,
    with the topic of its first hashtag of another topic (else any other) second;
    its language is its caption's (:func:`caption_language`), its country the
    creator's. ``hashtags`` are hashtag ids (at most ``TAGS_PER_VIDEO``).
    """
    del params  # the ladder needs nothing more: tier 0, status ACTIVE
    if not 0 <= creator < world.n_creators:
        raise ValueError(f"no creator {creator}")
    if not 0 <= sound < world.n_sounds:
        raise ValueError(f"no sound {sound}")
    if not 0 <= topic < world.n_topics:
        raise ValueError(f"no topic {topic}")
    tags = list(dict.fromkeys(int(h) for h in hashtags))
    if len(tags) > TAGS_PER_VIDEO:
        raise ValueError(f"at most {TAGS_PER_VIDEO} hashtags")
    if any(not 0 <= h < world.n_hashtags for h in tags):
        raise ValueError(f"unknown hashtag in {tags}")
    T = world.n_topics
    quality = min(max(float(world.creator_skill[creator]) + _quality_noise(world) * rng.standard_normal(), 0.0), 1.0)
    others = [
        int(world.hashtag_topic[h]) for h in tags if world.hashtag_topic[h] >= 0 and world.hashtag_topic[h] != topic
    ]
    if others:
        second = others[0]
    elif T > 1:
        second = (topic + 1 + int(rng.integers(0, T - 1))) % T
    else:
        second = topic
    w0 = float(rng.uniform(0.6, 0.95)) if second != topic else 1.0
    row = np.full((1, TAGS_PER_VIDEO), -1, np.int32)
    row[0, : len(tags)] = tags
    language = caption_language(world, caption, int(world.creator_language[creator]))
    ids = world.add_videos(
        creator=np.array([creator], np.int32),
        sound=np.array([sound], np.int32),
        duration=np.array([duration], np.float32),
        topics=np.array([[topic, second]], np.int16),
        topic_w=np.array([[w0, 1.0 - w0]], np.float32),
        language=np.array([language], np.int16),
        country=world.creator_country[[creator]],
        upload_time=np.array([now], np.float64),
        quality=np.array([quality], np.float32),
        tags=row,
        captions=[caption],
        profile=np.array([profile], np.int32),
    )
    return int(ids[0])
