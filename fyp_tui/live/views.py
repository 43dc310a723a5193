"""Plain, immutable view data the live layer hands to the shells.

Widgets render these and never touch the World: the live layer copies what a
screen needs out of the engine (under its lock when the copy must be
consistent) and the widgets format it. Nothing here imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from fyp_tui.engine.explain import OUTLOOK_WORDS as _OUTLOOK_WORDS
from fyp_tui.text import printable


def _printable_deep(value: object) -> object:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, tuple):
        return tuple(_printable_deep(v) for v in value)
    return value


class Printable:
    """Base of the view dataclasses: every string in them (world data: captions, handles,
    names, titles) is made printable on the way in, control characters shown as
    escapes, so nothing from the world can drive the terminal (issue 13)."""

    __slots__ = ()

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]  # (subclasses are dataclasses)
            value = getattr(self, f.name)
            clean = _printable_deep(value)
            if clean != value:
                object.__setattr__(self, f.name, clean)


#: a tier's outlook in words (the same in the app and ``fyp-tui explain``)
OUTLOOK_WORDS = _OUTLOOK_WORDS


@dataclass(frozen=True, slots=True)
class CardData(Printable):
    """One video as the feed card shows it."""

    video: int
    creator: int
    handle: str
    display_name: str
    caption: str
    hashtags: tuple[str, ...]
    sound: int
    sound_title: str
    sound_artist: str
    sound_trending: bool
    topic: int
    topic_name: str
    duration: float  # seconds
    following: bool = False
    liked: bool = False
    favourited: bool = False
    shared: bool = False
    first_viewer: bool = False
    mine: bool = False  # posted by this person from the studio
    position: int = 0  # index in the session's history (0 = first card)
    reshown: bool = False  # came back with "previous"
    mute_tag: str = ""  # the hashtag "not interested > mute hashtag" mutes ("": none)


@dataclass(frozen=True, slots=True)
class Counters(Printable):
    """Live counters of one video (lifetime) and where it stands on the ladder."""

    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    favourites: int = 0
    tier: int = 0
    status: str = "active"  # active | stalled | top
    tier_views: int = 0
    budget: int = 0  # budget of the current tier (0: unbounded)


@dataclass(frozen=True, slots=True)
class Contribution(Printable):
    name: str
    value: float


@dataclass(frozen=True, slots=True)
class WhyData(Printable):
    """ "Why this video": the ranking score's named contributions and the tier."""

    video: int
    score: float
    contributions: tuple[Contribution, ...]
    source: str  # candidate source: "test pool", "followed creator", ...
    tier: int
    status: str
    tier_views: int
    budget: int
    tier_score: float  # lower confidence bound of the tier score
    bar: float  # the promotion bar in force for this tier
    notes: tuple[str, ...] = ()
    tier_ucb: float = 0.0  # upper confidence bound of the tier score
    next_look: int | None = None  # impressions in the tier at its next decision
    outlook: str = "no views"  # what that look would decide now (engine.explain.outlook)


@dataclass(frozen=True, slots=True)
class TierStep(Printable):
    """One rung of a video's climb."""

    tier: int
    outcome: str  # "promoted", "stalled: below bar", "in progress", ...
    impressions: int
    budget: int
    score: float
    bar: float
    time: float  # simulated hours when decided (or now)
    tipped_by: str | None = None  # the person's signal that decided it (credited decisions only)
    instead: str | None = None  # what it would have done without it ("stalled", "moved up", "waited")


@dataclass(frozen=True, slots=True)
class SpreadData(Printable):
    video: int
    steps: tuple[TierStep, ...]
    rates: tuple[tuple[str, float], ...]  # signal name -> rate in the current tier
    views_series: tuple[float, ...]  # views sampled over simulated time (this session)
    series_span: float  # simulated hours the series covers
    views: int = 0
    comments: tuple[tuple[str, str], ...] = ()  # (who, text): the person's own, then a few of the audience's


@dataclass(frozen=True, slots=True)
class ProfileData(Printable):
    name: str
    topics: tuple[tuple[str, float], ...]  # learned interest per topic
    diversity: float  # 0..1 over the last 50 videos
    diversity_series: tuple[float, ...]
    knob: float
    follows: tuple[str, ...]
    liked: tuple[str, ...]
    favourited: tuple[str, ...]
    seen: int = 0
    #: videos the person saw among their first viewers that climbed later (a memory, not credit)
    found_early: tuple[str, ...] = ()
    device: str = ""  # the person's device (d on the Profile cycles through the world's)


@dataclass(frozen=True, slots=True)
class PostedVideo(Printable):
    video: int
    caption: str
    tier: int
    status: str
    views: int
    tier_views: int
    budget: int
    score: float
    bar: float
    rates: tuple[tuple[str, float], ...] = ()
    steps: tuple[TierStep, ...] = ()
    views_series: tuple[float, ...] = ()
    likes: int = 0
    shares: int = 0
    watched: bool = False  # judged early now: the clock runs slow for it
    post_mortem: tuple[str, ...] = ()  # why it stalled (stalled videos only)


@dataclass(frozen=True, slots=True)
class CreatorAccount(Printable):
    """A person's own creator account (made by their first post)."""

    handle: str
    followers: int
    posts: int
    country: str
    language: str
    made: bool  # False: the handle it will have once the first post makes it
    creator: int | None = None


@dataclass(frozen=True, slots=True)
class SoundChoice(Printable):
    sound: int
    title: str
    artist: str
    trending: bool


@dataclass(frozen=True, slots=True)
class WorldData(Printable):
    clock: float
    funnel: tuple[tuple[int, int, int], ...]  # (tier, active videos, stalled videos)
    top: int  # videos past the last budgeted tier
    trending_sounds: tuple[str, ...]
    trending_hashtags: tuple[str, ...]
    top_videos: tuple[tuple[int, str, str, int, int], ...]  # (id, handle, caption, tier, views)
    n_videos: int = 0
    n_viewers: int = 0
    #: each trending item's rank change in the last simulated hour or more: "▲2", "▼1", "new", "" (same)
    sound_moves: tuple[str, ...] = ()
    hashtag_moves: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StripItem(Printable):
    """One line of the event strip."""

    time: float
    text: str
    mine: bool = False  # tipped by the person, or about their own video
    kind: str = "info"  # promoted | stalled | trending | milestone | info
    #: the person's own reactions decided it (a credited tip; ``mine`` also marks their
    #: own video's news). Sent from the class host's protocol version 2 on.
    tipped: bool = field(default=False, metadata={"since": 2})


@dataclass(frozen=True)
class OpenInfo:
    """The world is open: its clock, and whether the person still has to pick topics."""

    clock: float
    needs_onboarding: bool


@dataclass(frozen=True)
class AdvanceOutcome:
    """One clock tick done: the new simulated time and the strip lines it made."""

    clock: float
    items: list[StripItem]
