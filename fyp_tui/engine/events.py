"""Domain events: what the engine tells the shells happened.

Events are small slotted dataclasses, treated as immutable (not ``frozen=True``:
a frozen dataclass's ``__init__`` costs several times more, and a simulation step
that decides a backlog of videos builds tens of thousands of events). The engine returns them from each step or
reaction; the store persists tier decisions as ``tier_event`` rows; the app shows
them in its event strip. ``tipped_by`` names the person's signal ("share",
"like", ...) when the decision is theirs: without it, the same look at the
tier's counts would have decided otherwise (:mod:`fyp_tui.engine.ledger`); else ``None``.
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
    tipped_by: str | None = None  # the person's signal without which it would not have moved up
    profile: int | None = None  # whose
    instead: str | None = None  # what it would have done without it: "stalled" or "waited"


@dataclass(slots=True)
class Stalled(Event):
    video: int
    tier: int
    score: float  # upper confidence bound (or point score when the budget was spent)
    bar: float
    impressions: int
    reason: str  # "below bar", "faded", ...
    tipped_by: str | None = None  # the person's signal without which it would not have stalled
    profile: int | None = None  # whose
    instead: str | None = None  # what it would have done without it: "moved up" or "waited"


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
#: the same, for ``isinstance``: the events that are tier decisions (checkpointed as ``tier_event`` rows)
TIER_EVENTS = (Promoted, Stalled, Reignited)
