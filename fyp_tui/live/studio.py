"""The creator studio: post a video as the person, and follow the climb of what they posted."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fyp_tui.engine.world import Signal
from fyp_tui.live.ladder import budget, status_name
from fyp_tui.live.views import PostedVideo, SoundChoice, StripItem

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession


class Studio:
    """The studio screen's data and its one action, posting."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live

    def sounds(self) -> list[SoundChoice]:
        """Every sound, the trending ones first (marked)."""
        w = self.live.world
        trending_now = self.live.trending.sounds
        artists = (w.extra or {}).get("sound_artists") or []
        trending = list(trending_now())
        rest = [s for s in range(w.n_sounds) if s not in trending_now()]
        return [
            SoundChoice(s, w.sound_titles[s], artists[s] if s < len(artists) else "", s in trending_now())
            for s in [*sorted(trending, key=lambda s: -w.sound_trend[s]), *rest]
        ]

    def hashtag_ids(self, text: str) -> tuple[list[int], list[str]]:
        """Parse "#a b, c": (known ids, unknown names)."""
        names = [t.strip().lstrip("#").lower() for t in text.replace(",", " ").split() if t.strip().lstrip("#")]
        index = {n.lower(): i for i, n in enumerate(self.live.world.hashtag_names)}
        known, unknown = [], []
        for n in names:
            (known.append(index[n]) if n in index else unknown.append(n))
        return list(dict.fromkeys(known)), unknown

    def post_video(
        self, *, caption: str, hashtags: list[int], sound: int, duration: float, topic: int
    ) -> tuple[int, list[StripItem]]:
        """Upload a video as the person: it enters tier 0 now. (video id, the strip line)."""
        from fyp_tui.engine.uploads import post_video

        live = self.live
        with live.lock:
            w = live.world
            video = post_video(
                w,
                live.params,
                profile=live.profile_id,
                creator=self.person_creator(),
                sound=int(sound),
                duration=float(duration),
                topic=int(topic),
                hashtags=list(hashtags),
                caption=caption,
                now=float(w.clock),
            )
            live.history.track(int(video))
            live.feed_session.posted(int(video))  # committed now, not at the next checkpoint
        return int(video), [StripItem(float(live.world.clock), "your video is live in tier 0", True, "info")]

    def person_creator(self) -> int:
        """The creator account the person posts as (caller holds the lock).

        Creators are fixed after seeding, so a person posts through a small
        account of their own country: the one with the fewest followers (an
        observable rule; ties by id). The choice is kept in
        ``world.extra["profile_creators"]`` so it survives restarts."""
        live = self.live
        w = live.world
        chosen = w.extra.setdefault("profile_creators", {})
        key = str(live.profile_id)
        if key in chosen:
            return int(chosen[key])
        country = live.feed_session.person.country
        cands = np.flatnonzero(w.creator_country == country)
        if len(cands) == 0:
            cands = np.arange(w.n_creators)
        c = int(cands[np.lexsort((cands, w.creator_followers[cands]))[0]])
        chosen[key] = c
        return c

    def my_videos(self) -> list[PostedVideo]:
        """The person's posted videos, newest first, each with its climb so far."""
        from fyp_tui.engine.ladder import promotion_bar, tier_score

        live = self.live
        w, p = live.world, live.params
        ids = np.flatnonzero(w.video_profile[: w.n_videos] == live.profile_id)
        out = []
        for v in ids[::-1]:
            v = int(v)
            sp = live.panel.spread(v)
            tier = int(w.video_tier[v])
            _s, lcb, _u = tier_score(w, p, [v])
            bar = float(promotion_bar(p, [tier], w)[0])
            out.append(
                PostedVideo(
                    video=v,
                    caption=w.video_captions[v],
                    tier=tier,
                    status=status_name(w, v),
                    views=int(w.video_counts[v, Signal.VIEW]),
                    tier_views=int(w.video_tier_counts[v, Signal.VIEW]),
                    budget=budget(p, tier),
                    score=float(lcb[0]) if math.isfinite(lcb[0]) else 0.0,
                    bar=bar if math.isfinite(bar) else 0.0,
                    rates=sp.rates,
                    steps=sp.steps,
                    views_series=sp.views_series,
                )
            )
        return out
