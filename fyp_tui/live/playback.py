"""Watch time of the card on screen, kept from an injected monotonic clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Playback:
    """Watch time of the card on screen: on-screen seconds while focused, and play position.

    Timestamps come from an injected monotonic clock, so tests can drive it.
    """

    duration: float
    watch: float = 0.0  # seconds on screen while the app had focus
    played: float = 0.0  # seconds of playback (stops while paused)
    _watch_since: float | None = None
    _play_since: float | None = None

    def update(self, now: float, *, visible: bool, playing: bool) -> None:
        """Close the running intervals at ``now`` and open the ones that apply."""
        if self._watch_since is not None:
            self.watch += max(0.0, now - self._watch_since)
        if self._play_since is not None:
            self.played += max(0.0, now - self._play_since)
        self._watch_since = now if visible else None
        self._play_since = now if (visible and playing) else None

    def position(self, now: float) -> float:
        """Seconds played so far, including the running interval."""
        extra = 0.0 if self._play_since is None else max(0.0, now - self._play_since)
        return self.played + extra

    def watched(self, now: float) -> float:
        extra = 0.0 if self._watch_since is None else max(0.0, now - self._watch_since)
        return self.watch + extra

    def loops(self, now: float) -> int:
        """Completed plays of the whole video."""
        if self.duration <= 0:
            return 0
        return int(self.position(now) // self.duration)
