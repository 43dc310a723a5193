"""Messages the app's worker threads post back to the UI thread (small dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from fyp_tui.live.views import (
    CardData,
    CreatorAccount,
    PostedVideo,
    ProfileData,
    SoundChoice,
    SpreadData,
    StripItem,
    WhyData,
    WorldData,
)


@dataclass
class WorldLoaded(Message):
    """The world is loaded and the feed session is ready."""

    clock: float
    needs_onboarding: bool


@dataclass
class WorldFailed(Message):
    """Loading or opening the world failed; ``message`` is for the person."""

    message: str
    title: str = "Could not open the world"


@dataclass
class StepFailed(Message):
    """A simulation tick failed: the clock stops, the feed goes on."""

    message: str


@dataclass
class WorldAdvanced(Message):
    """A simulation tick finished: the new clock and the events worth showing."""

    clock: float
    items: list[StripItem] = field(default_factory=list)
    hours: float = 0.0

    def can_replace(self, message: Message) -> bool:
        # Only when nothing would be lost: a tick with events is always delivered.
        return isinstance(message, WorldAdvanced) and not message.items


@dataclass
class CheckpointDone(Message):
    """A checkpoint write finished (``error`` set when it failed)."""

    error: str | None = None
    final: bool = False


# -- the feed queue's replies (posted from the queue's thread to the feed screen) --------


@dataclass
class FeedBegun(Message):
    """The feed session started: its first card (None when there is nothing to show)."""

    card: CardData | None


@dataclass
class MovedForward(Message):
    """The session moved to the next card (None: nothing new to show)."""

    card: CardData | None
    items: list[StripItem]
    key_time: float | None = None


@dataclass
class MovedBack(Message):
    """The session moved back a card (None: this was the first card).

    ``shown`` is the video the screen already showed from its back stack, if it did.
    """

    card: CardData | None
    items: list[StripItem]
    key_time: float | None = None
    shown: int | None = None


@dataclass
class CardLeft(Message):
    """The card left was recorded (after a swap, or on quit): the events worth showing."""

    items: list[StripItem]


@dataclass
class Reacted(Message):
    """A reaction was applied: the card as it now stands."""

    card: CardData
    items: list[StripItem]


@dataclass
class PanelReady(Message):
    """The side panel's Why and Spread for ``video``."""

    video: int
    why: WhyData
    spread: SpreadData

    def can_replace(self, message: Message) -> bool:
        # refreshed every second: only the newest matters
        return isinstance(message, PanelReady)


@dataclass
class SettingsSaved(Message):
    """The person's starting settings (onboarding topics, or a bot's profile) are saved."""


@dataclass
class NavigationFailed(Message):
    """Starting the feed or moving forward or back failed."""

    error: BaseException


@dataclass
class PanelFailed(Message):
    """Reading the side panel failed (it keeps what it shows)."""

    error: BaseException


@dataclass
class JobFailed(Message):
    """A job a screen sent to the live layer's queue failed (a reaction, a setting...)."""

    error: BaseException


# -- the other screens' replies ----------------------------------------------------------


@dataclass
class ProfileReady(Message):
    """The profile as it now stands (after a reload, or a turn of the knob)."""

    data: ProfileData

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProfileReady)


@dataclass
class InterestsRefreshed(Message):
    """The learned interests were reset: the profile as it now stands."""

    data: ProfileData


@dataclass
class StudioChoices(Message):
    """What the Studio's form offers: the topics, and the sounds (trending first)."""

    topics: list[str]
    sounds: list[SoundChoice]


@dataclass
class MyVideosReady(Message):
    """The person's posted videos, newest first, each with its climb so far."""

    videos: list[PostedVideo]
    account: CreatorAccount | None = None  # the person's creator account

    def can_replace(self, message: Message) -> bool:
        # reloaded on every tick while the Studio shows: only the newest matters
        return isinstance(message, MyVideosReady)


@dataclass
class PostRefused(Message):
    """The live layer refused a post (bad input): one line for the form."""

    reason: str


@dataclass
class VideoPosted(Message):
    """The person's video is live in tier 0: its id and the strip line saying so."""

    video: int
    items: list[StripItem]


@dataclass
class OverviewReady(Message):
    """The world screen's overview (funnel, trends, top videos)."""

    data: WorldData
    account: CreatorAccount | None = None  # the person's creator account

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, OverviewReady)
