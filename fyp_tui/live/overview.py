"""The world at a glance: the tier funnel, what trends, the top videos."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fyp_tui import fmt
from fyp_tui.engine.world import Signal, Status
from fyp_tui.live.views import WorldData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession


class Overview:
    """The world screen's data."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live

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
            ts = [int(x) for x in trending_sounds(w, 5)]
            th = [int(x) for x in trending_hashtags(w, 5)]
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
            top_videos=tops,
            n_videos=n,
            n_viewers=w.n_viewers,
        )
