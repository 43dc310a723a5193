"""A video as the feed card shows it: its metadata, the person's marks on it, its counters."""

from __future__ import annotations

from typing import Any

from fyp_tui.engine.world import Signal, World
from fyp_tui.live.ladder import budget, status_name
from fyp_tui.live.views import CardData, Counters


def make_card(
    world: World,
    person: Any,
    v: int,
    *,
    profile_id: int,
    profile_name: str,
    trending: frozenset[int],
    first_viewer: bool,
    shared: bool,
    reshown: bool = False,
) -> CardData:
    """The card of video ``v`` for ``person`` (caller holds the lock)."""
    w = world
    c = int(w.video_creator[v])
    s = int(w.video_sound[v])
    extra = w.extra or {}
    names = extra.get("creator_display_names") or []
    artists = extra.get("sound_artists") or []
    topic = int(w.video_topics[v, 0])
    mine = int(w.video_profile[v]) == profile_id
    tags = [int(t) for t in w.video_tags[v] if t >= 0]
    topical = [t for t in tags if w.hashtag_topic[t] >= 0]  # what FeedSession.react mutes by default
    mute = (topical or tags)[:1]
    return CardData(
        video=v,
        creator=c,
        handle=profile_name if mine else w.creator_handles[c],
        display_name="" if mine else (names[c] if c < len(names) else ""),
        caption=w.video_captions[v],
        hashtags=tuple(w.hashtag_names[t] for t in w.video_tags[v] if t >= 0),
        sound=s,
        sound_title=w.sound_titles[s],
        sound_artist=artists[s] if s < len(artists) else "",
        sound_trending=s in trending,
        topic=topic,
        topic_name=w.topic_names[topic],
        duration=float(w.video_duration[v]),
        following=c in person.follows,
        liked=v in person.liked,
        favourited=v in person.favourites,
        shared=shared,
        first_viewer=first_viewer,
        mine=mine,
        position=max(len(person.history) - 1, 0),
        reshown=reshown,
        mute_tag=w.hashtag_names[mute[0]] if mute else "",
    )


def counters(world: World, params: Any, video: int) -> Counters:
    """Live counters of ``video``, read without the lock (display only)."""
    w = world
    c = w.video_counts[video]
    tier = int(w.video_tier[video])
    return Counters(
        views=int(c[Signal.VIEW]),
        likes=int(c[Signal.LIKE]),
        comments=int(c[Signal.COMMENT]),
        shares=int(c[Signal.SHARE]),
        favourites=int(c[Signal.FAVOURITE]),
        tier=tier,
        status=status_name(w, video),
        tier_views=int(w.video_tier_counts[video, Signal.VIEW]),
        budget=budget(params, tier),
    )
