"""Domain events: what the engine tells the shells happened.

Events are small slotted dataclasses, treated as immutable (not ``frozen=True``:
a frozen dataclass's ``__init__`` costs several times more, and a simulation step
that decides a backlog of videos builds tens of thousands of events). The engine returns them from each step or
reaction; the store persists tier decisions as ``tier_event`` rows; the app shows
them in its event strip. ``tipped_by`` names the person's reaction ("share",
"like", ...) when that reaction is what tipped the decision, else ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Event:
    time: float  # simulated hours


@dataclass(slots=True)
class Promoted(Event):
    video: int
    from_tier: int
    to_tier: int
    score: float  # lower confidence bound of the tier score
    bar: float  # the promotion bar it was compared with
    impressions: int  # impressions in the tier when decided
    budget: int  # next tier's budget (the audience it now reaches)
    tipped_by: str | None = None
    profile: int | None = None


@dataclass(slots=True)
class Stalled(Event):
    video: int
    tier: int
    score: float  # upper confidence bound (or point score when the budget was spent)
    bar: float
    impressions: int
    reason: str  # "below bar", "faded", ...
    tipped_by: str | None = None
    profile: int | None = None


@dataclass(slots=True)
class Reignited(Event):
    video: int
    tier: int
    reason: str  # e.g. "trending sound"


@dataclass(slots=True)
class TrendingSound(Event):
    sound: int
    score: float


@dataclass(slots=True)
class TrendingHashtag(Event):
    hashtag: int
    score: float


@dataclass(slots=True)
class Milestone(Event):
    video: int
    views: int  # the round number just crossed: 1k, 10k, 100k, 1M ...


@dataclass(slots=True)
class Uploaded(Event):
    video: int
    creator: int
    profile: int | None = None


TierEvent = Promoted | Stalled | Reignited
