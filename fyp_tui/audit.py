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
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from fyp_tui.errors import UsageError

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
    """Read and check a bot file (None: the built-in default bots)."""
    if path is not None and not str(path).strip():
        raise UsageError("--bots is empty")
    p = Path(path).expanduser() if path is not None else default_bots_path()
    label = p.name or str(p)
    if p.is_dir():
        raise UsageError(f"bot file {path} is a directory")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no bot file at {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read bot file {p}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{label}: not valid TOML ({exc})") from None
    return parse_bots(data, label=label)


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
        where = f"{label}: bot {name!r}"
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
        }


@dataclass
class AuditReport:
    bots: list[BotResult]

    def to_dict(self) -> dict:
        return {"bots": [b.to_dict() for b in self.bots]}


def _index(names: list[str], value: str, what: str, where: str) -> int:
    low = [n.lower() for n in names]
    if value.lower() not in low:
        raise UsageError(f"{where}: unknown {what} {value!r} (this world has: {', '.join(names)})")
    return low.index(value.lower())


def run_bot(world, params, bot: BotSpec, rng: np.random.Generator, *, videos: int | None = None, profile_id: int = -1):
    """Drive one bot through ``videos`` (default: its own count) on ``world`` (mutated:
    pass a copy). Returns its :class:`BotResult`."""
    from fyp_tui.engine.feed import FeedSession
    from fyp_tui.engine.viewer import PersonState

    where = f"bot {bot.name!r}"
    topic_sets = {k: {_index(world.topic_names, t, "topic", where) for t in getattr(bot, k)} for k in _TOPIC_LISTS}
    country = _index(world.country_codes, bot.country, "country", where) if bot.country else None
    language = _index(world.language_codes, bot.language, "language", where) if bot.language else None
    person = PersonState.new(world, country=country, language=language, knob=bot.knob)
    session = FeedSession(world, params, person, profile_id, rng, journal=None)
    engaged = topic_sets["linger"] | topic_sets["like"] | topic_sets["share"] | topic_sets["follow"]
    n = int(videos if videos is not None else bot.videos)
    shown: list[int] = []
    for _ in range(n):
        v = session.next()
        shown.append(v)
        t = int(world.video_topics[v, 0])
        d = float(world.video_duration[v])
        if t in topic_sets["not_interested"]:
            session.react(v, "not_interested_video")
            session.watched(v, min(bot.watch_seconds, d), 0)
        elif t in engaged:
            for kind in ("like", "share", "follow"):
                if t in topic_sets[kind]:
                    session.react(v, kind)
            if t in topic_sets["linger"]:
                session.watched(v, 2.0 * d, 1)
            else:
                session.watched(v, d, 0)
        else:
            session.watched(v, min(bot.watch_seconds, d), 0)
    targets = {_index(world.topic_names, t, "topic", where) for t in bot.targets}
    return summarize(world, bot.name, shown, targets)


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
    bots: list[BotSpec],
    *,
    params=None,
    videos: int | None = None,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditReport:
    """Run every bot on its own copy of ``world`` (which is left unchanged)."""
    from fyp_tui.engine.params import EngineParams

    if params is None:
        params = EngineParams.from_world(world)
    streams = np.random.SeedSequence(seed).spawn(len(bots))
    results = []
    for i, (bot, ss) in enumerate(zip(bots, streams)):
        if progress is not None:
            progress(bot.name, i, len(bots))
        results.append(run_bot(world.copy(), params, bot, np.random.default_rng(ss), videos=videos, profile_id=-(i + 1)))
    if progress is not None:
        progress("done", len(bots), len(bots))
    return AuditReport(results)


def format_report(report: AuditReport) -> str:
    """A plain-text table for the terminal."""
    lines = []
    for b in report.bots:
        share = " ".join(f"{s:.0%}".rjust(4) for s in b.target_share_by_window)
        reach = (
            f"50% at {b.videos_to_50 if b.videos_to_50 is not None else '-'}, "
            f"80% at {b.videos_to_80 if b.videos_to_80 is not None else '-'}"
        )
        lines.append(f"{b.name} ({b.videos} videos)")
        lines.append(f"  target share per {WINDOW}: {share or '-'}")
        lines.append(f"  target share reached: {reach}")
        top = ", ".join(f"{k} {v}" for k, v in list(b.topics_last_50.items())[:6])
        lines.append(f"  last {LAST}: entropy {b.entropy_last_50:.2f} bits; topics {top}")
        lines.append("  countries: " + ", ".join(f"{k} {v}" for k, v in b.countries_last_50.items()))
    return "\n".join(lines)


def max_entropy_bits(n_topics: int) -> float:
    return math.log2(max(n_topics, 1))
