"""The event strip: which engine events are worth a line, and the line's words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fyp_tui import fmt
from fyp_tui.engine.events import (
    Event,
    Milestone,
    Promoted,
    Reignited,
    Stalled,
    TrendingHashtag,
    TrendingSound,
    Uploaded,
)
from fyp_tui.engine.world import World
from fyp_tui.live.views import StripItem

#: Non-personal events shown per tick in the strip (the rest is noise at this pace).
STRIP_PER_TICK = 3


#: what a decision would have been without the person (``Promoted.instead`` / ``Stalled.instead``)
INSTEAD = {
    "stalled": "it would have stalled",
    "moved up": "it would have moved up",
    "waited": "it would still be waiting",
}


def without(e: Promoted | Stalled) -> str:
    """ "without your share it would have stalled": the counterfactual of a credited decision."""
    return f"without your {e.tipped_by} {INSTEAD.get(e.instead or '', 'it would have gone the other way')}"


def strip_items(
    events: list[Event],
    *,
    world: World,
    params: Any,
    profile_id: int,
    current: int | None,
    people: Mapping[int, str] | None = None,
) -> list[StripItem]:
    """Events worth a line: all of the person's, and a few of the world's.

    ``current`` is the video on the person's screen: its events rank first.
    ``people`` (a classroom host: profile id -> name) names whoever else tipped a
    decision, "@alex's share pushed ... into tier 3", and ranks it first among the world's.
    """
    w = world
    mine: list[StripItem] = []
    other: list[tuple[float, StripItem]] = []
    for e in events:
        video = getattr(e, "video", None)
        own_video = video is not None and int(w.video_profile[video]) == profile_id
        tipped = getattr(e, "tipped_by", None) is not None and getattr(e, "profile", None) == profile_id
        # tipped by someone else in the class (a host names them): ranks with the person's own video
        by_class = (
            not tipped
            and people is not None
            and getattr(e, "tipped_by", None) is not None
            and getattr(e, "profile", None) in people
        )
        who = (
            "your video"
            if own_video
            else (
                "this video"
                if video == current
                else (f"@{w.creator_handles[int(w.video_creator[video])]}'s video" if video is not None else "")
            )
        )
        if isinstance(e, Promoted):
            reach = "site-wide" if e.to_tier >= params.top_tier else f"{e.budget:,} viewers"
            if tipped:
                text = f"your {e.tipped_by} pushed {who} into tier {e.to_tier}: {reach} ({without(e)})"
            elif own_video:  # celebrated: the person's own post climbed
                text = f"🎉 Your video moved up to tier {e.to_tier}: {reach}"
            elif by_class and people is not None and e.profile is not None:
                text = f"@{people[e.profile]}'s {e.tipped_by} pushed {who} into tier {e.to_tier}: {reach}"
            else:
                text = f"{who} moved up to tier {e.to_tier}: {reach}"
            item = StripItem(e.time, text, tipped or own_video, "promoted", tipped=tipped)
            rank = 10.0 + e.to_tier
        elif isinstance(e, Stalled):
            if tipped:
                text = f"your {e.tipped_by} stalled {who} in tier {e.tier} ({without(e)})"
            elif by_class and people is not None and e.profile is not None:
                text = f"@{people[e.profile]}'s {e.tipped_by} stalled {who} in tier {e.tier}"
            else:
                text = f"{who} stalled in tier {e.tier} ({e.reason})"
            item = StripItem(e.time, text, tipped or own_video, "stalled", tipped=tipped)
            rank = 1.0 + e.tier
        elif isinstance(e, Reignited):
            item = StripItem(e.time, f"{who} re-ignited in tier {e.tier}: {e.reason}", own_video, "trending")
            rank = 5.0
        elif isinstance(e, TrendingSound):
            item = StripItem(e.time, f"♫ {fmt.short(w.sound_titles[e.sound])} is trending", False, "trending")
            rank = 8.0
        elif isinstance(e, TrendingHashtag):
            item = StripItem(e.time, f"#{w.hashtag_names[e.hashtag]} is trending", False, "trending")
            rank = 8.0
        elif isinstance(e, Milestone):
            item = StripItem(e.time, f"{who} passed {fmt.count(e.views)} views", own_video, "milestone")
            rank = 6.0 + math.log10(max(e.views, 1))
        elif isinstance(e, Uploaded):
            if e.profile != profile_id:
                continue
            item = StripItem(e.time, "your video is live in tier 0", True, "info")
            rank = 0.0
        else:
            continue
        if item.mine:
            mine.append(item)
        else:
            if video is not None and video == current:
                rank += 100.0
            if by_class:
                rank += 50.0
            other.append((rank, item))
    other.sort(key=lambda ri: -ri[0])
    chosen = sorted((it for _r, it in other[:STRIP_PER_TICK]), key=lambda it: it.time)
    return chosen + mine
