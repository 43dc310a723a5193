"""The sounds trending now, computed once per value of the simulated clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession


class TrendingSounds:
    """The engine's ``trending_sounds``, cached until the clock moves."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self._at: float | None = None
        self._sounds: frozenset[int] = frozenset()

    def sounds(self) -> frozenset[int]:
        from fyp_tui.engine.trends import trending_sounds

        w = self.live.world
        if self._at != w.clock:
            self._at = w.clock
            self._sounds = frozenset(int(x) for x in trending_sounds(w, self.live.params.trending_k))
        return self._sounds
