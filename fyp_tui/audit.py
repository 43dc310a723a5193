"""Sock-puppet audits: scripted bots scroll their own feed on a copy of the world.

Researchers audit the real platform this way: fresh accounts that behave in one
scripted way (linger on one topic, like another, ...) and a record of what the
feed turns into. ``fyp-tui audit`` does the same with the very
:class:`~fyp_tui.engine.feed.FeedSession` the app uses, each bot on its own
``world.copy()`` (the real world is never changed, and bots do not influence one
another), with no journal.

A bot file is TOML (see the README, "Bot files")::

    [[bot]]
    name = "cooking-lurker"
    videos = 300
    country = "US"        # optional: the world's most common
    language = "en"       # optional: likewise
    linger = ["cooking"]  # watched to the end and looped once
    like = []             # watched to the end, then liked
    share = []            # watched to the end, then shared
    follow = []           # watched to the end, then the creator followed
    not_interested = []   # marked "not interested"
    watch_seconds = 2.0   # time on everything else
    knob = 0.3            # (extra) the echo-chamber knob of the bot's profile

A video is "about" a topic when that is its main topic.

Every bot is checked against the world before any runs: a bot file naming a
topic, country or language the world lacks is one UsageError. The built-in bots
are fitted to the world instead (:func:`fit_default_bots`). A bot whose feed runs
dry stops there and is reported with what it saw (``ran_out``).

What a bot does with a video is :func:`behaviour`, the one reading of these
rules: ``fyp-tui play`` and the app's ``--autoplay`` (:mod:`fyp_tui.live.autoplay`)
follow it too, with one bot named by :func:`read_bot_ref` (a built-in bot's name,
from ``bots/default.toml`` or ``bots/play.toml``, or a bot file).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from fyp_tui.errors import UsageError
from fyp_tui.text import clip

WINDOW = 25  # videos per window of target_share_by_window
LAST = 50  # videos in the *_last_50 figures

_TOPIC_LISTS = ("linger", "like", "share", "follow", "not_interested")
BOT_KEYS = ("name", "videos", "country", "language", *_TOPIC_LISTS, "watch_seconds", "knob")
MAX_VIDEOS = 100_000  # per bot; also the bound of ``fyp-tui audit --videos``


@dataclass(frozen=True)
class BotSpec:
    name: str
    videos: int = 300
    country: str | None = None
    language: str | None = None
    linger: tuple[str, ...] = ()
    like: tuple[str, ...] = ()
    share: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    not_interested: tuple[str, ...] = ()
    watch_seconds: float = 2.0
    knob: float = 0.3

    @property
    def targets(self) -> tuple[str, ...]:
        """The topics the bot engages with (linger, like, share, follow)."""
        seen: dict[str, None] = {}
        for t in (*self.linger, *self.like, *self.share, *self.follow):
            seen.setdefault(t, None)
        return tuple(seen)


def default_bots_path() -> Path:
    return Path(str(resources.files("fyp_tui") / "bots" / "default.toml"))


def load_bots(path: str | Path | None = None) -> list[BotSpec]:
    """Read and check a bot file (None: the built-in default bots). A file that is
    not a regular one (a FIFO, ``/dev/zero``), over a megabyte, or nested too deep
    to parse is a UsageError."""
    from fyp_tui.files import parse_toml, read_text

    name = str(path) if path is not None else str(default_bots_path())
    text, p = read_text(name, "--bots", missing=f"no bot file at {clip(name)}")
    label = clip(p.name or name, 60)
    return parse_bots(parse_toml(text, label), label=label)


def parse_bots(data: dict, *, label: str = "bots") -> list[BotSpec]:
    extra = set(data) - {"bot"}
    if extra:
        raise UsageError(f"{label}: unknown key {sorted(extra)[0]!r} (a bot file has only [[bot]] tables)")
    raw = data.get("bot")
    if not isinstance(raw, list) or not raw:
        raise UsageError(f"{label}: no [[bot]] table")
    bots: list[BotSpec] = []
    names: set[str] = set()
    for i, b in enumerate(raw):
        where = f"{label}: bot {i + 1}"
        if not isinstance(b, dict):
            raise UsageError(f"{where}: must be a table")
        unknown = set(b) - set(BOT_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(BOT_KEYS)})")
        name = b.get("name")
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{where}: name must be a non-empty string")
        name = name.strip()
        where = f"{label}: bot {clip(name, 40)!r}"
        if name in names:
            raise UsageError(f"{where}: name used twice")
        names.add(name)
        kw: dict = {"name": name}
        if "videos" in b:
            v = b["videos"]
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_VIDEOS:
                raise UsageError(f"{where}: videos must be an integer >= 1 and <= {MAX_VIDEOS:,}, got {v!r}")
            kw["videos"] = v
        for key in ("country", "language"):
            if key in b:
                if not isinstance(b[key], str) or not b[key].strip():
                    raise UsageError(f"{where}: {key} must be a code like {'US' if key == 'country' else 'en'!r}")
                kw[key] = b[key].strip()
        for key in _TOPIC_LISTS:
            if key in b:
                v = b[key]
                if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
                    raise UsageError(f"{where}: {key} must be a list of topic names")
                kw[key] = tuple(v)
        for key, lo, hi in (("watch_seconds", 0.0, 3600.0), ("knob", 0.0, 1.0)):
            if key in b:
                v = b[key]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise UsageError(f"{where}: {key} must be a number in [{lo:g}, {hi:g}], got {v!r}")
                kw[key] = float(v)
        bots.append(BotSpec(**kw))
    return bots


# -- fitting bots to a world ----------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedBot:
    """A bot with its names turned into the world's ids (checked before any bot runs)."""

    spec: BotSpec
    topics: dict[str, frozenset[int]]  # each of _TOPIC_LISTS -> topic ids
    targets: frozenset[int]
    country: int | None
    language: int | None


def _index(names: list[str], value: str, what: str, where: str) -> int:
    low = [n.lower() for n in names]
    if value.lower() not in low:
        raise UsageError(f"{where}: unknown {what} {value!r} (this world has: {', '.join(names)})")
    return low.index(value.lower())


def resolve_bots(world, bots: list[BotSpec], *, label: str | None = None) -> list[ResolvedBot]:
    """Check every bot's topics, country and language against ``world`` (all bots,
    before any runs); UsageError names the first the world lacks."""
    out = []
    for bot in bots:
        where = f"{label}: bot {bot.name!r}" if label else f"bot {bot.name!r}"
        topics = {
            k: frozenset(_index(world.topic_names, t, "topic", where) for t in getattr(bot, k)) for k in _TOPIC_LISTS
        }
        country = _index(world.country_codes, bot.country, "country", where) if bot.country else None
        language = _index(world.language_codes, bot.language, "language", where) if bot.language else None
        targets = frozenset(_index(world.topic_names, t, "topic", where) for t in bot.targets)
        out.append(ResolvedBot(bot, topics, targets, country, language))
    return out


def _ranked(counts: np.ndarray) -> list[int]:
    """Ids with a count > 0, most common first (ties: lower id first)."""
    ids = np.flatnonzero(counts > 0)
    return [int(i) for i in ids[np.argsort(-counts[ids], kind="stable")]]


def _present(codes: list[str], counts: np.ndarray, code: str) -> bool:
    """``code`` is one of ``codes`` and has viewers or videos."""
    return code in codes and counts[codes.index(code)] > 0


def _most_common(values: np.ndarray, n: int) -> int:
    return int(np.bincount(values.astype(np.int64), minlength=n).argmax()) if len(values) else 0


def fit_default_bots(world, bots: list[BotSpec] | None = None) -> tuple[list[BotSpec], list[str]]:
    """The built-in bots fitted to ``world`` (instead of failing on it), and notes
    saying what changed (see :func:`fit_each`)."""
    out: list[BotSpec] = []
    notes: list[str] = []
    for fitted, said in fit_each(world, load_bots(None) if bots is None else bots):
        notes.extend(said)
        if fitted is not None:
            out.append(fitted)
    return out, notes


def fit_each(world, bots: list[BotSpec]) -> list[tuple[BotSpec | None, list[str]]]:
    """Each of ``bots`` (a set of built-in bots) fitted to ``world``, with the notes
    saying what changed for it; None for a bot the world cannot have.

    * A topic the world lacks (or that is no video's main topic) is replaced by the
      world's most common main topic not already used by another built-in bot (all
      used: the most common); the topic's name in the bot's name follows.
    * The bot in another country keeps its country and language when the world has
      both; otherwise it takes the most common country after the default one (the
      audience's most common) whose language differs from the default language
      (none differs: simply the second most common country) and that country's
      most common language. A world with one country skips it.
    """
    n = world.n_videos
    topic_counts = np.bincount(world.video_topics[:n, 0].astype(np.int64), minlength=world.n_topics)
    by_topic = _ranked(topic_counts)
    low_topics = [t.lower() for t in world.topic_names]

    def has_topic(name: str) -> bool:
        return name.lower() in low_topics and topic_counts[low_topics.index(name.lower())] > 0

    used = {t.lower() for b in bots for t in (*b.targets, *b.not_interested) if has_topic(t)}
    swap: dict[str, str] = {}
    for b in bots:
        for t in (*b.targets, *b.not_interested):
            if has_topic(t) or t in swap:
                continue
            free = [i for i in by_topic if low_topics[i] not in used] or by_topic or list(range(world.n_topics))
            new = world.topic_names[free[0]]
            used.add(new.lower())
            swap[t] = new

    n_c = len(world.country_codes)
    n_l = len(world.language_codes)
    c_counts = np.bincount(world.aud_country.astype(np.int64), minlength=n_c)[:n_c] * (n + 1)
    c_counts = c_counts + np.bincount(world.video_country[:n].astype(np.int64), minlength=n_c)[:n_c]
    l_counts = np.bincount(world.aud_language.astype(np.int64), minlength=n_l)[:n_l] * (n + 1)
    l_counts = l_counts + np.bincount(world.video_language[:n].astype(np.int64), minlength=n_l)[:n_l]
    countries = _ranked(c_counts)
    home_country = _most_common(world.aud_country, n_c) if world.n_viewers else 0
    home_language = _most_common(world.aud_language, n_l) if world.n_viewers else 0

    def language_of(c: int) -> int:
        aud = world.aud_language[world.aud_country == c]
        if len(aud):
            return _most_common(aud, n_l)
        vids = world.video_language[:n][world.video_country[:n] == c]
        return _most_common(vids, n_l) if len(vids) else home_language

    out: list[BotSpec] = []
    fitted: list[tuple[BotSpec | None, list[str]]] = []
    for b in bots:
        name = b.name
        changes: dict = {}
        notes: list[str] = []
        for key in _TOPIC_LISTS:
            topics = getattr(b, key)
            if any(t in swap for t in topics):
                changes[key] = tuple(swap.get(t, t) for t in topics)
                for t in topics:
                    if t in swap:
                        name = name.replace(t, swap[t])
                        notes.append(f"bot {b.name!r}: this world has no {t!r} videos; {swap[t]!r} instead")
        if b.country or b.language:
            ok_c = b.country is None or _present(world.country_codes, c_counts, b.country)
            ok_l = b.language is None or _present(world.language_codes, l_counts, b.language)
            if not (ok_c and ok_l):
                others = [c for c in countries if c != home_country]
                if not others:
                    notes.append(f"bot {b.name!r} skipped: this world has one country")
                    fitted.append((None, notes))
                    continue
                c = next((c for c in others if language_of(c) != home_language), others[0])
                code, lang = world.country_codes[c], world.language_codes[language_of(c)]
                changes["country"], changes["language"] = code, lang
                name = f"{code.lower()}-viewer"
                notes.append(
                    f"bot {b.name!r}: this world has no {b.country or ''}{'/' if b.country and b.language else ''}"
                    f"{b.language or ''} audience; {code}/{lang} instead"
                )
        if name != b.name:
            taken = {x.name for x in out} | {x.name for x in bots if x is not b}
            base, i = name, 2
            while name in taken:
                name, i = f"{base}-{i}", i + 1
            changes["name"] = name
        out.append(replace(b, **changes) if changes else b)
        fitted.append((out[-1], notes))
    return fitted


# -- one bot, by name or from a file (fyp-tui play, the app's --autoplay) ---------------------


def play_bots_path() -> Path:
    """Built-in bots made to be watched (``fyp-tui play``, ``--autoplay``), besides the audit's."""
    return Path(str(resources.files("fyp_tui") / "bots" / "play.toml"))


def builtin_bot_sets() -> list[list[BotSpec]]:
    """The built-in bot files, each a set fitted to a world together: the audit's
    default bots, then :func:`play_bots_path`'s."""
    return [load_bots(None), load_bots(play_bots_path())]


@dataclass(frozen=True)
class BotRef:
    """``--bot NAME|FILE`` as given: a bot from a file, or a built-in bot's name."""

    text: str
    spec: BotSpec | None = None  # from a file; None: a built-in bot, looked up once the world is open
    label: str | None = None  # the bot file's name

    @property
    def name(self) -> str:
        """The bot's name (a built-in bot's as given: fitted to a world it may change)."""
        return self.spec.name if self.spec is not None else self.text.strip()


def _is_file(text: str) -> bool:
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, ~nouser
        return False


def read_bot_ref(text: str) -> BotRef:
    """Read ``--bot NAME|FILE`` before any world is open: a bot file (TOML, one bot;
    ``FILE:NAME`` picks one of several) is read and checked now; any other text is a
    built-in bot's name, looked up by :func:`resolve_bot_ref`."""
    text = (text or "").strip()
    if not text:
        raise UsageError("--bot is empty: give a built-in bot's name or a bot file")
    looks_like_path = any(c in text for c in "/\\") or text.lower().endswith(".toml") or text.startswith("~")
    builtin = {b.name.lower() for bots in builtin_bot_sets() for b in bots}
    if not looks_like_path and text.lower() in builtin:
        return BotRef(text)
    path, pick = text, None
    if not _is_file(text) and ":" in text:
        head, _, tail = text.rpartition(":")
        if head and _is_file(head):
            path, pick = head, tail.strip()
    if not (looks_like_path or _is_file(path)):
        return BotRef(text)  # perhaps a built-in bot's name on the world (``gaming-lurker``)
    bots = load_bots(path)
    label = Path(path).name or path
    if pick is not None:
        found = [b for b in bots if b.name.lower() == pick.lower()]
        if not found:
            raise UsageError(f"{label}: no bot named {pick!r} (it has: {', '.join(b.name for b in bots)})")
        return BotRef(text, found[0], label)
    if len(bots) > 1:
        names = ", ".join(b.name for b in bots)
        raise UsageError(f"{label} holds {len(bots)} bots ({names}): pick one with --bot {path}:NAME")
    return BotRef(text, bots[0], label)


def resolve_bot_ref(world, ref: BotRef) -> tuple[ResolvedBot, list[str]]:
    """The bot ``ref`` names, checked against ``world`` (a bot file's) or fitted to it
    (a built-in bot's, as the audit fits them: the notes say what changed). A built-in
    bot is found by its own name or by its name on this world."""
    if ref.spec is not None:
        return resolve_bots(world, [ref.spec], label=ref.label)[0], []
    want = ref.text.strip().lower()
    names: list[str] = []
    for bots in builtin_bot_sets():
        for own, (fitted, notes) in zip(bots, fit_each(world, bots)):
            names.append(own.name)
            if want not in (own.name.lower(), fitted.name.lower() if fitted is not None else None):
                continue
            if fitted is None:
                why = notes[-1].split(": ", 1)[-1] if notes else "it does not fit this world"
                raise UsageError(f"bot {own.name!r} cannot play on this world: {why}")
            return resolve_bots(world, [fitted])[0], notes
    raise UsageError(f"no bot named {ref.text.strip()!r}: give a built-in bot ({', '.join(names)}) or a bot file")


# -- what a bot does with a video -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What a bot does with one video: its reactions, then its watch."""

    reactions: tuple[str, ...]  # FeedSession.react kinds, in order
    seconds: float  # watch time
    loops: int


def behaviour(bot: ResolvedBot, topic: int, duration: float, *, watch_seconds: float | None = None) -> Behaviour:
    """The bot-file rules for a video whose main topic is ``topic``: "not interested"
    and a skim; like, share, follow after watching to the end; linger: to the end
    and once more; anything else skimmed for ``watch_seconds`` (default: the bot's),
    or less when the video is shorter. The audit, ``fyp-tui play`` and the app's
    autoplay all follow these."""
    sets = bot.topics
    skim = min(bot.spec.watch_seconds if watch_seconds is None else float(watch_seconds), duration)
    if topic in sets["not_interested"]:
        return Behaviour(("not_interested_video",), skim, 0)
    if topic in bot.targets:
        reactions = tuple(kind for kind in ("like", "share", "follow") if topic in sets[kind])
        if topic in sets["linger"]:
            return Behaviour(reactions, 2.0 * duration, 1)
        return Behaviour(reactions, duration, 0)
    return Behaviour((), skim, 0)


# -- running --------------------------------------------------------------------------------


@dataclass
class BotResult:
    name: str
    videos: int
    target_share_by_window: list[float]
    videos_to_50: int | None
    videos_to_80: int | None
    entropy_last_50: float
    topics_last_50: dict[str, int]
    countries_last_50: dict[str, int]
    videos_requested: int | None = None  # how many it was to scroll (None: as many as seen)
    ran_out: bool = False  # its feed had nothing left to recommend before then
    shown: list[int] = field(default_factory=list, repr=False)  # video ids, in order

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "videos": self.videos,
            "target_share_by_window": self.target_share_by_window,
            "videos_to_50": self.videos_to_50,
            "videos_to_80": self.videos_to_80,
            "entropy_last_50": self.entropy_last_50,
            "topics_last_50": self.topics_last_50,
            "countries_last_50": self.countries_last_50,
            "videos_requested": self.videos if self.videos_requested is None else self.videos_requested,
            "ran_out": self.ran_out,
        }


@dataclass
class AuditReport:
    bots: list[BotResult]
    notes: list[str] = field(default_factory=list)
    #: ``--reference``: each published figure beside the measured one (see :func:`run_reference`)
    reference: list[dict] | None = None

    def to_dict(self) -> dict:
        d = {"bots": [b.to_dict() for b in self.bots], "notes": list(self.notes)}
        if self.reference is not None:
            d["reference"] = [dict(r) for r in self.reference]
        return d


def run_bot(
    world,
    params,
    bot: BotSpec | ResolvedBot,
    rng: np.random.Generator,
    *,
    videos: int | None = None,
    profile_id: int = -1,
) -> BotResult:
    """Drive one bot through ``videos`` (default: its own count) on ``world`` (mutated:
    pass a copy). Returns its :class:`BotResult`; a feed that runs dry ends the bot
    early (``ran_out``, ``videos`` = the number it saw)."""
    from fyp_tui.engine.feed import FeedSession
    from fyp_tui.engine.viewer import PersonState

    r = bot if isinstance(bot, ResolvedBot) else resolve_bots(world, [bot])[0]
    spec = r.spec
    person = PersonState.new(world, country=r.country, language=r.language, knob=spec.knob)
    session = FeedSession(world, params, person, profile_id, rng, journal=None)
    n = int(videos if videos is not None else spec.videos)
    shown: list[int] = []
    ran_out = False
    for _ in range(n):
        try:
            v = session.next()
        except UsageError:  # "nothing left to recommend": every video seen or filtered out
            ran_out = True
            break
        shown.append(v)
        b = behaviour(r, int(world.video_topics[v, 0]), float(world.video_duration[v]))
        for kind in b.reactions:
            session.react(v, kind)
        session.watched(v, b.seconds, b.loops)
    result = summarize(world, spec.name, shown, set(r.targets))
    result.videos_requested = n
    result.ran_out = ran_out
    return result


def summarize(world, name: str, shown: list[int], targets: set[int]) -> BotResult:
    ids = np.asarray(shown, np.int64)
    topics = world.video_topics[ids, 0].astype(np.int64) if len(ids) else np.zeros(0, np.int64)
    hit = np.isin(topics, sorted(targets)).astype(np.float64)
    windows = [round(float(hit[i : i + WINDOW].mean()), 4) for i in range(0, len(hit), WINDOW)]
    # rolling share of the last WINDOW videos, first reached at video n (1-based)
    to = {}
    if len(hit) >= WINDOW and targets:
        roll = np.convolve(hit, np.ones(WINDOW), "valid") / WINDOW  # roll[i] = share of videos i..i+WINDOW-1
        for level in (0.5, 0.8):
            reached = np.flatnonzero(roll >= level - 1e-12)
            to[level] = int(reached[0] + WINDOW) if len(reached) else None
    last = ids[-LAST:]
    last_topics = world.video_topics[last, 0].astype(np.int64)
    counts = np.bincount(last_topics, minlength=world.n_topics)
    p = counts[counts > 0] / max(len(last), 1)
    entropy = float(-(p * np.log2(p)).sum()) if len(last) else 0.0
    by_topic = {world.topic_names[i]: int(c) for i, c in sorted(enumerate(counts), key=lambda x: (-x[1], x[0])) if c}
    by_country = Counter(world.country_codes[int(c)] for c in world.video_country[last])
    return BotResult(
        name=name,
        videos=len(ids),
        target_share_by_window=windows,
        videos_to_50=to.get(0.5),
        videos_to_80=to.get(0.8),
        entropy_last_50=round(entropy, 4),
        topics_last_50=by_topic,
        countries_last_50=dict(sorted(by_country.items(), key=lambda x: (-x[1], x[0]))),
        shown=shown,
    )


def run_audit(
    world,
    bots: list[BotSpec] | None = None,
    *,
    params=None,
    videos: int | None = None,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
    label: str | None = None,
) -> AuditReport:
    """Run every bot on its own copy of ``world`` (which is left unchanged).

    ``bots=None``: the built-in bots, fitted to the world (:func:`fit_default_bots`;
    the report's notes say what changed). Every bot is checked against the world
    before any runs (``label``, e.g. the bot file's name, prefixes the message)."""
    from fyp_tui.engine.params import EngineParams

    notes: list[str] = []
    if bots is None:
        bots, notes = fit_default_bots(world)
    resolved = resolve_bots(world, bots, label=label)
    if params is None:
        params = EngineParams.from_world(world)
    # common random numbers: every bot draws from the same stream, so bots that differ
    # only in one behaviour (Boeker & Urman's view, like and follow bots) see the same
    # feed until that behaviour first differs, and what separates them is theirs, not luck
    results = []
    for i, bot in enumerate(resolved):
        if progress is not None:
            progress(bot.spec.name, i, len(resolved))
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        results.append(run_bot(world.copy(), params, bot, rng, videos=videos, profile_id=-(i + 1)))
    if progress is not None:
        progress("done", len(resolved), len(resolved))
    return AuditReport(results, notes)


# -- the published audits, redone (fyp-tui audit --reference) ----------------------------------

WSJ = "WSJ 2021"
BU = "Boeker & Urman 2022"
CONTROL = "random-feed control"
#: the lingering bot's niche share is read over these videos (1-based, inclusive): the
#: WSJ's bot was at 93 % by about its 224th
WSJ_WINDOW = (200, 249)
WSJ_SHARE = 0.93


def reference_bots_path() -> Path:
    return Path(str(resources.files("fyp_tui") / "bots" / "reference.toml"))


def reference_bots(world) -> tuple[list[BotSpec], list[str]]:
    """The reference bot set fitted to ``world``: topics as the default bots fit them;
    the two location bots in the world's first and second country (one country: the
    second is skipped)."""
    bots, notes = fit_default_bots(world, load_bots(reference_bots_path()))
    out: list[BotSpec] = []
    codes = world.country_codes
    for b in bots:
        if b.name.startswith("bu-location-"):
            i = int(b.name.rsplit("-", 1)[1]) - 1
            if i >= len(codes):
                notes.append(f"bot {b.name!r} skipped: this world has one country")
                continue
            b = replace(b, name=f"{codes[i].lower()}-location", country=codes[i])
        out.append(b)
    return out, notes


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def reference_figures(world, results: list[BotResult], bots: list[BotSpec], seed: int = 0) -> list[dict]:
    """Each published figure beside the measured one: ``{study, figure, published,
    measured}`` (numbers where the study gives one, else its finding in words)."""
    by = {r.name: r for r in results}
    specs = {b.name: b for b in bots}
    out: list[dict] = []
    wsj = by.get("wsj-linger")
    if wsj is not None:
        lo, hi = WSJ_WINDOW
        shown = wsj.shown[lo - 1 : hi]
        niche = [world.topic_names.index(t) for t in specs["wsj-linger"].targets if t in world.topic_names]
        share = 0.0
        if shown and niche:
            ids = np.asarray(shown, np.int64)
            share = float(np.isin(world.video_topics[ids, 0], niche).mean())
        out.append(
            {
                "study": WSJ,
                "figure": f"niche share of a lingering bot's videos {lo}-{hi}",
                "published": WSJ_SHARE,
                "measured": round(share, 3) if shown else None,
            }
        )
        out.append(
            {
                "study": WSJ,
                "figure": "videos until the niche is 80 % of the last 25",
                "published": "about 200 (93 % by video 224)",
                "measured": wsj.videos_to_80,
            }
        )
    view, like, follow = by.get("bu-view"), by.get("bu-like"), by.get("bu-follow")
    if view and like and follow:
        n = {
            k: (b.videos_to_50 if b.videos_to_50 is not None else math.inf)
            for k, b in (("follow", follow), ("like", like), ("view", view))
        }
        ranked = sorted(n, key=lambda k: (n[k], ("follow", "like", "view").index(k)))
        order = ranked[0]
        for k1, k2 in zip(ranked, ranked[1:]):
            order += (" = " if n[k1] == n[k2] else " > ") + k2
        held = n["follow"] <= n["like"] <= n["view"]
        out.append(
            {
                "study": BU,
                "figure": "strength of personalisation by signal (videos to 50 % of the interest)",
                "published": "follow > like > view",
                "measured": (
                    f"{order} (follow {follow.videos_to_50}, like {like.videos_to_50}, view {view.videos_to_50})"
                    + ("" if held else ": the published order does not hold")
                ),
            }
        )
    locs = [r for r in results if r.name.endswith("-location")]
    if len(locs) == 2:
        a, b = locs
        ca, cb = a.name.split("-")[0].upper(), b.name.split("-")[0].upper()

        def country_share(r: BotResult, code: str) -> float:
            return r.countries_last_50.get(code, 0) / max(sum(r.countries_last_50.values()), 1)

        out.append(
            {
                "study": BU,
                "figure": "location: own-country share of the last 50, against the other location's bot",
                "published": "location influences the feed",
                "measured": (
                    f"{ca} bot {_pct(country_share(a, ca))} {ca} ({cb} bot {_pct(country_share(b, ca))}); "
                    f"{cb} bot {_pct(country_share(b, cb))} {cb} ({ca} bot {_pct(country_share(a, cb))})"
                ),
            }
        )
    control = by.get("control")
    if control is not None:
        out.append(
            {
                "study": CONTROL,
                "figure": "topic entropy of the last 50 (bits)",
                "published": round(random_feed_entropy(world, LAST, seed), 2),
                "measured": control.entropy_last_50,
            }
        )
    return out


def random_feed_entropy(world, n: int, seed: int = 0, trials: int = 20) -> float:
    """Median topic entropy (bits) of ``n`` videos drawn uniformly from the live pool
    (every video if none is live): the feed of a recommender that knows nothing."""
    from fyp_tui.engine.world import Status

    k = world.n_videos
    pool = np.flatnonzero(world.video_status[:k] != Status.STALLED)
    if not len(pool):
        pool = np.arange(k)
    rng = np.random.default_rng([seed, 12])
    out = []
    for _ in range(trials):
        t = world.video_topics[rng.choice(pool, size=min(n, len(pool)), replace=False), 0].astype(np.int64)
        p = np.bincount(t, minlength=world.n_topics) / max(len(t), 1)
        p = p[p > 0]
        out.append(float(-(p * np.log2(p)).sum()))
    return float(np.median(out))


def run_reference(
    world,
    *,
    params=None,
    videos: int | None = None,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditReport:
    """``fyp-tui audit --reference``: the reference bot set (:func:`reference_bots`) run
    like any audit, and each published figure beside the measured one."""
    bots, notes = reference_bots(world)
    report = run_audit(world, bots, params=params, videos=videos, seed=seed, progress=progress)
    report.notes = notes + report.notes
    report.reference = reference_figures(world, report.bots, bots, seed)
    return report


def format_report(report: AuditReport) -> str:
    """A plain-text table for the terminal (names from the bot file and the world
    with their control characters escaped)."""
    from fyp_tui.text import printable

    def one(value: object) -> str:
        return printable(value, one_line=True)

    lines = []
    for b in report.bots:
        share = " ".join(f"{s:.0%}".rjust(4) for s in b.target_share_by_window)
        reach = (
            f"50% at {b.videos_to_50 if b.videos_to_50 is not None else '-'}, "
            f"80% at {b.videos_to_80 if b.videos_to_80 is not None else '-'}"
        )
        if b.ran_out:
            lines.append(
                f"{one(b.name)} ({b.videos} of {b.videos_requested} videos: ran out, nothing left to recommend)"
            )
        else:
            lines.append(f"{one(b.name)} ({b.videos} videos)")
        lines.append(f"  target share per {WINDOW}: {share or '-'}")
        lines.append(f"  target share reached: {reach}")
        top = ", ".join(f"{one(k)} {v}" for k, v in list(b.topics_last_50.items())[:6])
        lines.append(f"  last {LAST}: entropy {b.entropy_last_50:.2f} bits; topics {top}")
        lines.append("  countries: " + ", ".join(f"{one(k)} {v}" for k, v in b.countries_last_50.items()))
    if report.reference is not None:
        lines.append("published audits, redone:")

        def shown(x: object, share: bool) -> str:
            if x is None:
                return "-"
            if isinstance(x, float):
                return f"{x:.0%}" if share else f"{x:.2f}"
            return one(x)

        for r in report.reference:
            is_share = "share" in r["figure"]
            lines.append(f"  {one(r['study'])} · {one(r['figure'])}")
            lines.append(
                f"    published: {shown(r['published'], is_share)}   measured: {shown(r['measured'], is_share)}"
            )
    lines.extend(f"note: {one(n)}" for n in report.notes)
    return "\n".join(lines)


def max_entropy_bits(n_topics: int) -> float:
    return math.log2(max(n_topics, 1))
