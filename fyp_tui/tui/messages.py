"""Messages the app's worker threads post back to the UI thread (small dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from fyp_tui.live.views import StripItem


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


@dataclass
class FeedReply(Message):
    """A feed-queue job finished (posted from the queue's thread to the feed screen)."""

    kind: str  # "begin", "swap", "forward", "back", "react", "panel", "watched"
    result: object = None
    error: BaseException | None = None
    key_time: float | None = None
    video: int | None = None
