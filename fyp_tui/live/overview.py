"""The world at a glance: the tier funnel, what trends, the top videos."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from fyp_tui import fmt
from fyp_tui.engine.world import Signal, Status
from fyp_tui.live.views import WorldData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession


#: rank changes are against the lists as they were at least this many simulated hours ago
MOVE_HOURS = 1.0
#: lists remembered (a snapshot every quarter hour of simulated time at most)
_KEPT = 200


def moves(now: list[int], before: list[int] | None) -> tuple[str, ...]:
    """For each item of ``now`` (ranked), its move since ``before``: ``▲n`` up n places,
    ``▼n`` down, ``new`` (not listed then), ``""`` (same place, or nothing to compare)."""
    if before is None:
        return tuple("" for _ in now)
    was = {item: i for i, item in enumerate(before)}
    out = []
    for i, item in enumerate(now):
        j = was.get(item)
        out.append("new" if j is None else f"▲{j - i}" if j > i else f"▼{i - j}" if j < i else "")
    return tuple(out)


class Overview:
    """The world screen's data."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        # (clock, ranked sounds, ranked hashtags) as the world screen read them, oldest first
        self._lists: deque[tuple[float, list[int], list[int]]] = deque(maxlen=_KEPT)

    def _before(self, clock: float) -> tuple[list[int], list[int]] | None:
        """The lists as they were at least MOVE_HOURS ago (the newest such), if known."""
        for t, s, h in reversed(self._lists):
            if t <= clock - MOVE_HOURS:
                return s, h
        return None

    def _remember(self, clock: float, sounds: list[int], tags: list[int]) -> None:
        if not self._lists or clock - self._lists[-1][0] >= 0.25 or clock < self._lists[-1][0]:
            self._lists.append((clock, sounds, tags))

    def data(self, top_k: int = 8) -> WorldData:
        """The funnel per tier, the trending sounds and hashtags, the ``top_k`` live videos
        with the most views (none unwatched)."""
        from fyp_tui.engine.trends import trending_hashtags, trending_sounds

        live = self.live
        w, p = live.world, live.params
        n = w.n_videos
        with live.lock:
            tier = w.video_tier[:n].astype(np.int64)
            status = w.video_status[:n].astype(np.int64)
            views = w.video_counts[:n, Signal.VIEW].copy()
            clock = float(w.clock)
            # (ranked past the five shown, so a move up from further down shows as a move)
            all_s = [int(x) for x in trending_sounds(w, 20)]
            all_h = [int(x) for x in trending_hashtags(w, 20)]
        ts, th = all_s[:5], all_h[:5]
        before = self._before(clock)
        self._remember(clock, all_s, all_h)
        funnel = []
        for t in range(p.top_tier):
            funnel.append(
                (
                    t,
                    int(((tier == t) & (status == Status.ACTIVE)).sum()),
                    int(((tier == t) & (status == Status.STALLED)).sum()),
                )
            )
        top = int((status == Status.TOP).sum())
        # live videos that have been watched, by views (the higher tier first on a tie)
        live_videos = np.flatnonzero((status != Status.STALLED) & (views > 0))
        order = live_videos[np.lexsort((-tier[live_videos], -views[live_videos]))][:top_k]
        tops = tuple(
            (
                int(v),
                w.creator_handles[int(w.video_creator[v])],
                fmt.short(w.video_captions[v], 40),
                int(tier[v]),
                int(views[v]),
            )
            for v in order
        )
        return WorldData(
            clock=float(w.clock),
            funnel=tuple(funnel),
            top=top,
            trending_sounds=tuple(w.sound_titles[s] for s in ts),
            trending_hashtags=tuple(f"#{w.hashtag_names[h]}" for h in th),
            sound_moves=moves(ts, before[0] if before else None),
            hashtag_moves=moves(th, before[1] if before else None),
            top_videos=tops,
            n_videos=n,
            n_viewers=w.n_viewers,
        )
