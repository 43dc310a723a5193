"""The report of a run: what ``fyp-tui simulate`` prints (:class:`Report`) and the
summaries it is made of: the tier funnel, the most viewed videos, the trending
sounds and hashtags, and the events counted by kind. Each reads the world and never
changes it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from fyp_tui.engine import trends
from fyp_tui.engine.events import Milestone, Promoted, Reignited, Stalled, TrendingHashtag, TrendingSound
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import Signal, Status, World


@dataclass
class Report:
    seed: int
    hours: float
    clock_start: float
    clock_end: float
    steps: int
    impressions: int
    catalogue_impressions: int
    dropped_impressions: int
    uploads: int
    wall_seconds: float
    impressions_per_second: float
    funnel: list[dict]
    slices: dict[str, dict]
    top_videos: list[dict]
    trending: dict[str, list[dict]]
    events: dict[str, int]
    #: one row per simulated hour (:class:`~fyp_tui.engine.hourly.Hourly`)
    hourly: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=2)

    def deterministic(self) -> dict:
        """The report without wall time (equal for the same world, seed and hours)."""
        d = self.to_dict()
        d.pop("wall_seconds")
        d.pop("impressions_per_second")
        return d


def funnel(world: World, params: EngineParams) -> list[dict]:
    """Per tier, over every video in the world: entered, promoted, stalled, still active."""
    n = world.n_videos
    tier = np.minimum(world.video_tier[:n].astype(np.int64), params.top_tier)
    st = world.video_status[:n]
    K = params.top_tier + 1
    at = np.bincount(tier, minlength=K)
    stalled = np.bincount(tier[st == Status.STALLED], minlength=K)
    entered = np.cumsum(at[::-1])[::-1]
    out = []
    for t in range(K):
        out.append(
            {
                "tier": t,
                "budget": params.ladder[t] if t < params.top_tier else None,
                "entered": int(entered[t]),
                "promoted": int(entered[t + 1]) if t + 1 < K else 0,
                "stalled": int(stalled[t]),
                "active": int(at[t] - stalled[t]),
            }
        )
    return out


def top_videos(world: World, k: int = 10) -> list[dict]:
    n = world.n_videos
    views = world.video_counts[:n, Signal.VIEW]
    k = min(k, n)
    if k == 0:
        return []
    part = np.argpartition(-views, k - 1)[:k] if k < n else np.arange(n)
    part = part[np.lexsort((part, -views[part]))]
    out = []
    for v in part:
        c = world.video_counts[v]
        vw = max(int(c[Signal.VIEW]), 1)
        out.append(
            {
                "video_id": int(v),
                "creator": world.creator_handles[int(world.video_creator[v])],
                "topic": world.topic_names[int(world.video_topics[v, 0])],
                "tier": int(world.video_tier[v]),
                "status": Status(int(world.video_status[v])).name.lower(),
                "views": int(c[Signal.VIEW]),
                "likes": int(c[Signal.LIKE]),
                "shares": int(c[Signal.SHARE]),
                "completion_rate": round(int(c[Signal.FULL_WATCH]) / vw, 4),
            }
        )
    return out


def trending(world: World, k: int = 10) -> dict[str, list[dict]]:
    """The trending lists, each item with its ``trend``: the trending score it is ranked
    by (decayed engagement damped by fatigue, :func:`~fyp_tui.engine.trends.sound_score`)."""
    ss, hs = trends.sound_score(world), trends.hashtag_score(world)
    return {
        "sounds": [
            {"sound_id": int(s), "title": world.sound_titles[int(s)], "trend": round(float(ss[s]), 3)}
            for s in trends.trending_sounds(world, k)
        ],
        "hashtags": [
            {"hashtag_id": int(h), "name": world.hashtag_names[int(h)], "trend": round(float(hs[h]), 3)}
            for h in trends.trending_hashtags(world, k)
        ],
    }


EVENT_KEYS = {
    Promoted: "promoted",
    Stalled: "stalled",
    Reignited: "reignited",
    Milestone: "milestones",
    TrendingSound: "trending_sounds",
    TrendingHashtag: "trending_hashtags",
}
