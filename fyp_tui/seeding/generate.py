"""Scenario + seed -> a complete :class:`~fyp_tui.engine.world.World` (no SQL).

Faker builds small vocabularies once per locale (handles, display names, caption
words, song titles); numpy draws every bulk row from them. One ``Faker`` per run,
seeded with ``seed_instance(seed)``; numpy streams come from
``np.random.SeedSequence(seed).spawn(...)``, one per stage, so each stage's draws
do not depend on how much another stage consumed.

What comes out looks like the platform: follower counts heavy-tailed (Pareto), a
few sounds used by many videos (Zipf), hashtags from a vocabulary per topic plus
generic ones (#fyp, #viral), durations mostly 7-60 s with a tail to 3 min, hidden
quality skewed (most mediocre, few excellent), uploads spread over the days before
t=0, each viewer's interests concentrated on a few topics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fyp_tui.engine.world import TAGS_PER_VIDEO, TOPICS_PER_VIDEO, TOPICS_PER_VIEWER, Status, World, empty_video_arrays
from fyp_tui.seeding.scenario import Scenario
from fyp_tui.seeding.vocab import COUNTRIES, EMOJI, GENERIC_HASHTAGS, PORTUGUESE_WORDS, TAG_SUFFIXES, TOPICS

Progress = Callable[[str, int, int], None]

#: Stages reported to ``progress(label, done, total)``.
STAGES = ("vocabularies", "creators", "sounds", "hashtags", "videos", "audience", "warm-up")

AUDIENCE_CHUNK = 131_072

FAKER_PROVIDERS = ("faker.providers.person", "faker.providers.internet", "faker.providers.lorem")

#: Faker locale -> providers its formats need besides FAKER_PROVIDERS (ru_RU's user
#: names may end in ``{{year}}``); a seed test covers every listed country
LOCALE_PROVIDERS: dict[str, tuple[str, ...]] = {"ru_RU": ("faker.providers.date_time",)}


def build_world(scenario: Scenario, seed: int, progress: Progress | None = None) -> World:
    """Generate the scenario's world for ``seed``: deterministic, pure numpy + Faker vocabularies.

    ``progress(label, done, total)`` is called as stages finish (``total`` is
    ``len(STAGES)``); labels are human-readable ("creators", ...).
    """
    w = scenario.world
    report = progress or (lambda label, done, total: None)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    r_places, r_creators, r_sounds, r_tags, r_videos, r_aud, r_vocab, r_caps, r_warm = streams
    n_stages = len(STAGES)

    # -- places, topics, vocabularies ------------------------------------------------
    report("vocabularies", 0, n_stages)
    countries: list[str] = list(w["countries"])
    languages: list[str] = []
    for c in countries:
        lang = COUNTRIES[c][0]
        if lang not in languages:
            languages.append(lang)
    if w["english_share"] > 0 and "en" not in languages:
        languages.append("en")
    country_lang = np.array([languages.index(COUNTRIES[c][0]) for c in countries], np.int16)
    en_idx = languages.index("en") if "en" in languages else -1
    cw = np.asarray(w["country_weights"] or [1.0 / (i + 1) for i in range(len(countries))], np.float64)
    country_p = cw / cw.sum()

    topic_names = list(TOPICS)[: w["n_topics"]]
    T = len(topic_names)
    topic_pop = r_places.lognormal(0.0, w["topic_skew"], T) if w["topic_skew"] > 0 else np.ones(T)
    topic_p = topic_pop / topic_pop.sum()

    vocab = _Vocab(countries, languages, seed=seed, size=w["vocab_size"], rng=r_vocab)
    report("creators", 1, n_stages)

    # -- creators ------------------------------------------------------------------------
    C = w["n_creators"]
    creator_country = r_creators.choice(len(countries), size=C, p=country_p).astype(np.int16)
    creator_language = _languages_for(creator_country, country_lang, en_idx, w["english_share"], r_creators)
    creator_topic = r_creators.choice(T, size=C, p=topic_p).astype(np.int16)
    skill = r_creators.beta(w["skill_a"], w["skill_b"], C)
    skill_z = (skill - skill.mean()) / (skill.std() + 1e-9)
    followers = w["follower_scale"] * r_creators.pareto(w["follower_alpha"], C) * np.exp(0.5 * skill_z)
    creator_followers = np.clip(np.floor(followers), 0, w["follower_max"]).astype(np.int64)
    history_h = w["history_days"] * 24.0
    pace = w["n_videos"] / history_h * w["upload_pace"]  # uploads per simulated hour, whole world
    activity = r_creators.lognormal(0.0, 0.8, C) * (1.0 + 0.25 * np.log1p(creator_followers))
    creator_upload_rate = (pace * activity / activity.sum()).astype(np.float32)
    creator_skill = skill.astype(np.float32)
    handles, display_names = vocab.creators(creator_country, r_creators)
    report("sounds", 2, n_stages)

    # -- sounds --------------------------------------------------------------------------
    S = w["n_sounds"]
    sound_original = r_sounds.random(S) < w["original_sound_share"]
    owner_w = np.sqrt(creator_followers.astype(np.float64) + 1.0)
    owners = r_sounds.choice(C, size=S, p=owner_w / owner_w.sum())
    sound_titles, sound_artists = vocab.sounds(sound_original, owners, handles, display_names, country_p, r_sounds)
    rank = r_sounds.permutation(S)
    sound_w = 1.0 / np.power(rank + 1.0, w["sound_zipf"])
    sound_w[sound_original] *= 0.25  # a creator's own audio rarely travels far
    sound_p = sound_w / sound_w.sum()
    report("hashtags", 3, n_stages)

    # -- hashtags ------------------------------------------------------------------------
    per_topic = w["hashtags_per_topic"]
    hashtag_names, hashtag_topic = _hashtags(topic_names, per_topic, r_tags)
    n_generic = len(GENERIC_HASHTAGS)
    report("videos", 4, n_stages)

    # -- videos --------------------------------------------------------------------------
    V = w["n_videos"]
    arrays = empty_video_arrays(V, T)
    # who posted the history: creators in proportion to their upload rates (all
    # alike when the scenario stops uploads with upload_pace = 0)
    up_p = creator_upload_rate.astype(np.float64)
    up_p = up_p / up_p.sum() if up_p.sum() > 0 else None
    video_creator = r_videos.choice(C, size=V, p=up_p).astype(np.int32)
    warmup_h = min(float(w.get("warmup_hours", 0.0)), 0.5 * history_h)
    # the seeded history ends where the warm-up begins (the engine uploads the rest)
    upload_time = np.sort(r_videos.uniform(-history_h, -warmup_h, V))
    t1 = np.where(
        r_videos.random(V) < w["creator_focus"],
        creator_topic[video_creator],
        r_videos.choice(T, size=V, p=topic_p),
    ).astype(np.int16)
    t2 = r_videos.choice(T, size=V, p=topic_p).astype(np.int16)
    same = t2 == t1
    t2[same] = ((t1[same] + 1 + r_videos.integers(0, T - 1, same.sum())) % T).astype(np.int16)
    w1 = r_videos.uniform(0.55, 1.0, V).astype(np.float32)
    w2 = np.float32(1.0) - w1
    quality = np.clip(creator_skill[video_creator] + r_videos.normal(0.0, w["quality_noise"], V), 0.0, 1.0)
    duration = np.exp(r_videos.normal(np.log(w["duration_median"]), w["duration_sigma"], V))
    duration = np.clip(np.round(duration), w["duration_min"], w["duration_max"])

    arrays["video_creator"][:] = video_creator
    arrays["video_sound"][:] = r_videos.choice(S, size=V, p=sound_p)
    arrays["video_duration"][:] = duration
    arrays["video_topics"][:, 0] = t1
    arrays["video_topics"][:, 1] = t2
    arrays["video_topic_w"][:, 0] = w1
    arrays["video_topic_w"][:, 1] = w2
    arrays["video_language"][:] = creator_language[video_creator]
    arrays["video_country"][:] = creator_country[video_creator]
    arrays["video_upload_time"][:] = upload_time
    arrays["video_quality"][:] = quality
    arrays["video_tags"][:] = _video_tags(t1, t2, w2, per_topic, T, n_generic, w, r_videos)
    arrays["video_tier"][:] = 0
    arrays["video_status"][:] = Status.ACTIVE
    arrays["video_tier_entered"][:] = upload_time
    arrays["video_dirty"][:] = True
    captions = vocab.captions(arrays["video_language"], r_caps)
    report("audience", 5, n_stages)

    # -- audience ------------------------------------------------------------------------
    aud = _audience(w, T, topic_p, country_p, country_lang, en_idx, r_aud)

    assert TOPICS_PER_VIDEO == 2 and TOPICS_PER_VIEWER == 3 and TAGS_PER_VIDEO == 4
    # World's array fields by name: typed Any, since mypy cannot match a dict's keys to fields
    columns: dict[str, Any] = {**arrays, **aud}
    world = World(
        topic_names=topic_names,
        country_codes=countries,
        language_codes=languages,
        device_names=list(w["devices"]),
        creator_handles=handles,
        sound_titles=sound_titles,
        hashtag_names=hashtag_names,
        caption_words=vocab.all_words(),
        video_captions=captions,
        creator_country=creator_country,
        creator_language=creator_language,
        creator_topic=creator_topic,
        creator_followers=creator_followers,
        creator_upload_rate=creator_upload_rate,
        creator_skill=creator_skill,
        sound_original=sound_original,
        sound_trend=np.zeros(S, np.float64),
        hashtag_topic=hashtag_topic,
        hashtag_trend=np.zeros(len(hashtag_names), np.float64),
        n_videos=V,
        **columns,
        clock=0.0,
        seed=int(seed),
        scenario=scenario.name,
        saved_videos=0,
    )
    world.extra.update(world_extra(scenario, display_names, sound_artists, vocab.words_by_language()))
    report("warm-up", n_stages - 1, n_stages)
    warm_up(world, warmup_h, r_warm)
    report("done", n_stages, n_stages)
    return world


def warm_up(world: World, hours: float, rng: np.random.Generator) -> None:
    """Run the engine over the ``hours`` before t=0, so a new world opens in full swing.

    A seeded video uploaded well before that (more than a tier-0 fill time) has
    had its test pool already: it starts stalled in tier 0, in the catalogue. The
    recent ones start live in tier 0; the engine then serves, judges, promotes and
    uploads for ``hours`` from ``-hours`` to 0, so the pools, the adapted bars and
    the trends of a new world are those of a world already running, not a backlog
    of untouched uploads. The clock ends at exactly 0.
    """
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.simulate import step, step_hours

    if hours <= 0:
        return
    params = EngineParams.from_world(world)
    n = world.n_videos
    start = -float(hours)
    old = world.video_upload_time[:n] < start - params.fill_hours
    world.video_status[:n][old] = Status.STALLED
    world.clock = start
    steps, dt = step_hours(world, params, hours)
    for _ in range(steps):
        step(world, params, rng, dt)
    world.clock = 0.0


def world_extra(
    scenario: Scenario, display_names: list[str], sound_artists: list[str], words_by_language: dict
) -> dict:
    """The ``World.extra`` keys a seeded world carries (the store round-trips them)."""
    return {
        "engine": dict(scenario.engine),  # the scenario's [engine] table, for EngineParams.from_dict
        "world_settings": dict(scenario.world),  # the validated [world] table
        "description": scenario.description,
        "creator_display_names": display_names,  # one per creator
        "sound_artists": sound_artists,  # one per sound
        "caption_words_by_language": words_by_language,  # language code -> words
    }


# ---------------------------------------------------------------------------------------
def _languages_for(country: np.ndarray, country_lang: np.ndarray, en_idx: int, english_share: float, rng) -> np.ndarray:
    lang = country_lang[country].astype(np.int16)
    if en_idx >= 0 and english_share > 0:
        switch = rng.random(len(country)) < english_share
        lang[switch] = en_idx
    return lang


def _zipf_p(n: int, s: float) -> np.ndarray:
    p = 1.0 / np.power(np.arange(1, n + 1, dtype=np.float64), s)
    return p / p.sum()


def _hashtags(topic_names: list[str], per_topic: int, rng) -> tuple[list[str], np.ndarray]:
    """Block layout: topic t owns ids [t*per_topic, (t+1)*per_topic); generic tags last."""
    used = set(GENERIC_HASHTAGS)
    names: list[str] = []
    for topic in topic_names:
        bases = [topic, *TOPICS[topic]]
        core = [b for b in bases if b not in used]
        combos = [b + s for b in bases for s in TAG_SUFFIXES if b + s not in used and not b.endswith(s)]
        combos = [combos[i] for i in rng.permutation(len(combos))]
        picked: list[str] = []
        for name in core + combos:
            if len(picked) == per_topic:
                break
            if name not in used:
                used.add(name)
                picked.append(name)
        n = 2
        while len(picked) < per_topic:  # tiny vocabularies: number them
            name = f"{topic}{n}"
            n += 1
            if name not in used:
                used.add(name)
                picked.append(name)
        names.extend(picked)
    names.extend(GENERIC_HASHTAGS)
    tag_topic = np.repeat(np.arange(len(topic_names), dtype=np.int16), per_topic)
    tag_topic = np.concatenate([tag_topic, np.full(len(GENERIC_HASHTAGS), -1, np.int16)])
    return names, tag_topic


def _video_tags(t1, t2, w2, per_topic: int, T: int, n_generic: int, w: dict, rng) -> np.ndarray:
    """Up to 4 distinct tags per video, -1 padded at the end: main topic's, second topic's, generic."""
    V = len(t1)
    local_p = _zipf_p(per_topic, w["tag_zipf"])
    tags = np.full((V, TAGS_PER_VIDEO), -1, np.int32)
    tags[:, 0] = t1.astype(np.int32) * per_topic + rng.choice(per_topic, size=V, p=local_p)
    second = rng.choice(per_topic, size=V, p=local_p)
    tags[:, 1] = np.where(rng.random(V) < 0.6, t1.astype(np.int32) * per_topic + second, -1)
    other = t2.astype(np.int32) * per_topic + rng.choice(per_topic, size=V, p=local_p)
    tags[:, 2] = np.where(rng.random(V) < np.clip(w2 * 1.5, 0, 1), other, -1)
    generic = T * per_topic + rng.choice(n_generic, size=V, p=_zipf_p(n_generic, 1.0))
    tags[:, 3] = np.where(rng.random(V) < w["generic_tag_share"], generic, -1)
    for j in range(1, TAGS_PER_VIDEO):  # drop repeats
        for i in range(j):
            dup = (tags[:, j] == tags[:, i]) & (tags[:, j] >= 0)
            tags[dup, j] = -1
    order = np.argsort(tags < 0, axis=1, kind="stable")  # pack -1 to the end, keep order
    return np.take_along_axis(tags, order, axis=1)


def _audience(w: dict, T: int, topic_p, country_p, country_lang, en_idx: int, rng) -> dict[str, np.ndarray]:
    N = w["n_viewers"]
    country = rng.choice(len(country_p), size=N, p=country_p).astype(np.int16)
    language = _languages_for(country, country_lang, en_idx, w["english_share"], rng)
    dev_w = np.asarray(w["device_weights"], np.float64)
    device = rng.choice(len(dev_w), size=N, p=dev_w / dev_w.sum()).astype(np.int8)
    sig = w["activity_sigma"]
    if w["activity_mean"] > 0:
        activity = rng.lognormal(np.log(w["activity_mean"]) - sig * sig / 2, sig, N).astype(np.float32)
    else:
        activity = np.zeros(N, np.float32)
    ls = w["like_propensity_sigma"]
    like_prop = rng.lognormal(-ls * ls / 2, ls, N).astype(np.float32)

    # three distinct topics per viewer, drawn by popularity (redraw collisions)
    topics = rng.choice(T, size=(N, TOPICS_PER_VIEWER), p=topic_p).astype(np.int16)
    for j in range(1, TOPICS_PER_VIEWER):
        while True:
            clash = (topics[:, [j]] == topics[:, :j]).any(axis=1)
            k = int(clash.sum())
            if k == 0:
                break
            topics[clash, j] = rng.choice(T, size=k, p=topic_p)
    g = rng.standard_gamma(w["interest_concentration"], size=(N, TOPICS_PER_VIEWER)) + 1e-12
    g = -np.sort(-g, axis=1)  # heaviest interest first
    topic_w = (g / g.sum(axis=1, keepdims=True)).astype(np.float32)

    # the platform's learned estimate: a noisy copy of the truth (history before t=0)
    pn = np.float32(w["pref_noise"])
    pref = np.empty((N, T), np.float16)
    rows_all = np.arange(N)
    for lo in range(0, N, AUDIENCE_CHUNK):
        hi = min(N, lo + AUDIENCE_CHUNK)
        noise = rng.random((hi - lo, T), dtype=np.float32)
        noise /= noise.sum(axis=1, keepdims=True)
        block = noise * pn
        rows = rows_all[: hi - lo, None]  # a viewer's topics are distinct: plain fancy add is exact
        block[rows, topics[lo:hi]] += (1 - pn) * topic_w[lo:hi]
        pref[lo:hi] = block
    return {
        "aud_country": country,
        "aud_language": language,
        "aud_device": device,
        "aud_activity": activity,
        "aud_topics": topics,
        "aud_topic_w": topic_w,
        "aud_like_prop": like_prop,
        "aud_pref": pref,
    }


class _Vocab:
    """Per-locale vocabularies from one seeded Faker; numpy picks from them."""

    def __init__(self, countries: list[str], languages: list[str], *, seed: int, size: int, rng) -> None:
        from faker import Faker

        self.countries = countries
        self.languages = languages
        people = [COUNTRIES[c][1] for c in countries]
        word_locale: dict[str, str] = {}
        for c in countries:
            word_locale.setdefault(COUNTRIES[c][0], COUNTRIES[c][2])
        word_locale.setdefault("en", "en_US")
        faker_locales = list(dict.fromkeys(people + [loc for loc in word_locale.values() if loc != "pt"]))
        # only the providers used here: loading all of them costs ~50 ms per locale
        providers = [*FAKER_PROVIDERS, *(p for loc in faker_locales for p in LOCALE_PROVIDERS.get(loc, ()))]
        fake = Faker(faker_locales, providers=list(dict.fromkeys(providers)))
        fake.seed_instance(seed)
        self.handles: list[list[str]] = []
        self.names: list[list[str]] = []
        for loc in people:
            f = fake[loc]
            self.handles.append([_clean_handle(f.user_name()) for _ in range(size)])
            self.names.append([f.name() for _ in range(size)])
        self.words: dict[str, list[str]] = {}
        for lang in languages:
            loc = word_locale[lang]
            if loc == "pt":
                words = list(PORTUGUESE_WORDS)
            else:
                words = [wd for wd in dict.fromkeys(fake[loc].get_words_list()) if wd and " " not in wd]
            self.words[lang] = words[:2000]
        self.rng = rng

    def all_words(self) -> list[str]:
        return list(dict.fromkeys(wd for lang in self.languages for wd in self.words[lang]))

    def words_by_language(self) -> dict[str, list[str]]:
        return {lang: list(self.words[lang]) for lang in self.languages}

    def creators(self, country: np.ndarray, rng) -> tuple[list[str], list[str]]:
        C = len(country)
        size = len(self.handles[0])
        pick = rng.integers(0, size, C)
        pick_name = rng.integers(0, size, C)
        style = rng.choice(5, size=C, p=[0.35, 0.3, 0.15, 0.1, 0.1])
        num = rng.integers(1, 1000, C)
        year = rng.integers(88, 100, C) % 100
        handles: list[str] = []
        seen: set[str] = set()
        for i in range(C):
            base = self.handles[country[i]][pick[i]]
            s = style[i]
            h = (
                base
                if s == 0
                else f"{base}{num[i]}"
                if s == 1
                else f"{base}_{year[i]:02d}"
                if s == 2
                else f"its{base}"
                if s == 3
                else f"{base}.official"
            )
            if h in seen:
                h = f"{h}{i}"
            seen.add(h)
            handles.append(h)
        names = [self.names[country[i]][pick_name[i]] for i in range(C)]
        return handles, names

    def sounds(self, original, owners, handles, display_names, country_p, rng) -> tuple[list[str], list[str]]:
        S = len(original)
        lang = self.languages
        lang_of_country = [lang.index(COUNTRIES[c][0]) for c in self.countries]
        c_pick = rng.choice(len(self.countries), size=S, p=country_p)
        n_words = rng.integers(1, 5, S)
        starts = rng.integers(0, 1 << 30, S)
        size = len(self.names[0])
        artist_pick = rng.integers(0, size, S)
        remix = rng.random(S) < 0.12
        titles: list[str] = []
        artists: list[str] = []
        for i in range(S):
            if original[i]:
                titles.append(f"original sound - {handles[owners[i]]}")
                artists.append(display_names[owners[i]])
                continue
            words = self.words[lang[lang_of_country[c_pick[i]]]]
            k = int(n_words[i])
            start = int(starts[i]) % max(1, len(words))
            title = " ".join(words[(start + 7 * j) % len(words)] for j in range(k))
            title = title[:1].upper() + title[1:]
            if remix[i]:
                title += " (sped up)"
            titles.append(title)
            artists.append(self.names[c_pick[i]][artist_pick[i]])
        return titles, artists

    def captions(self, video_language: np.ndarray, rng) -> list[str]:
        V = len(video_language)
        out = np.empty(V, dtype=object)
        for li, lang in enumerate(self.languages):
            idx = np.flatnonzero(video_language == li)
            if len(idx) == 0:
                continue
            words = np.asarray(self.words[lang], dtype=object)
            pool_n = int(min(4096, max(64, len(idx))))
            lens = rng.integers(2, 9, pool_n)
            picks = rng.integers(0, len(words), (pool_n, 8))
            emoji = rng.integers(-len(EMOJI), len(EMOJI), pool_n)  # negative: no emoji
            pool = []
            for j in range(pool_n):
                text = " ".join(words[picks[j, : lens[j]]])
                text = text[:1].upper() + text[1:]
                if emoji[j] >= 0:
                    text += " " + EMOJI[emoji[j]]
                pool.append(text)
            out[idx] = np.asarray(pool, dtype=object)[rng.integers(0, pool_n, len(idx))]
        return out.tolist()


def _clean_handle(name: str) -> str:
    h = "".join(ch for ch in name.lower() if ch.isalnum() or ch in "._")
    return h.strip("._")[:20] or "user"
