"""The person as the feed has learned them: interests, follows, the echo-chamber meter and knob."""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from fyp_tui import fmt
from fyp_tui.live.views import ProfileData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: Diversity samples kept for the profile's chart (one per card watched).
DIVERSITY_MAX = 200


class ProfileView:
    """The profile screen's data, and the person's own settings (topics, the knob)."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self.diversity_series: deque[float] = deque(maxlen=DIVERSITY_MAX)

    def onboard(self, topics: list[int], *, country: int | None = None, language: int | None = None) -> None:
        """The topics the person picked at first start (queue); a bot starting a profile
        also gives its country and language (None: the profile's own)."""
        with self.live.lock:
            person = self.live.feed_session.person
            if country is not None:
                person.country = int(country)
            if language is not None:
                person.language = int(language)
            self.live.feed_session.onboard(topics)

    def diversity(self, *, shown_only: bool = False) -> float:
        """Topic diversity of the last 50 videos, 0..1 (entropy over its maximum; caller holds the lock).
        ``shown_only``: leave out the next card, preloaded but not shown yet."""
        from fyp_tui.engine.viewer import topic_entropy

        session = self.live.feed_session
        history = session.person.history
        ahead = self.live.feed.preloaded()
        end = len(history) - 1 if shown_only and history and ahead == history[-1] else len(history)
        recent = np.asarray(history[max(0, end - 50) : end], dtype=np.int64)
        w = self.live.world
        bits = topic_entropy(w.video_topics[recent, 0], w.n_topics)
        n = min(len(recent), w.n_topics)
        top = math.log2(n) if n > 1 else 1.0
        return max(0.0, min(bits / top, 1.0))

    def note_diversity(self) -> None:
        """One sample of the diversity for the chart, after a card was watched (caller holds the lock)."""
        self.diversity_series.append(self.diversity())

    def data(self) -> ProfileData:
        """What the profile screen shows."""
        live = self.live
        w = live.world
        with live.lock:
            p = live.feed_session.person
            interests = p.interests.copy()
            follows = sorted(p.follows)
            liked = sorted(p.liked, key=lambda v: -v)[:20]
            favs = sorted(p.favourites, key=lambda v: -v)[:20]
            knob = float(p.knob)
            diversity = self.diversity()
            seen = len(p.seen)
            early = live.feed_session.found_early()[:20]
            device = int(p.device)
        order = np.argsort(-interests, kind="stable")
        topics = tuple((w.topic_names[i], float(interests[i])) for i in order)

        def vid(v: int) -> str:
            return f"@{w.creator_handles[int(w.video_creator[v])]}: {fmt.short(w.video_captions[v], 40)}"

        return ProfileData(
            name=live.profile_name,
            topics=topics,
            diversity=diversity,
            diversity_series=tuple(self.diversity_series),
            knob=knob,
            follows=tuple(f"@{w.creator_handles[c]}" for c in follows),
            liked=tuple(vid(v) for v in liked),
            favourited=tuple(vid(v) for v in favs),
            seen=seen,
            found_early=tuple(f"{fmt.tier_name(t)}  {vid(v)}" for v, t in early),
            device=w.device_names[device] if 0 <= device < len(w.device_names) else "",
        )

    def next_device(self) -> None:
        """Switch the person's device to the world's next one (queue)."""
        with self.live.lock:
            session = self.live.feed_session
            n = max(len(self.live.world.device_names), 1)
            session.set_device((int(session.person.device) + 1) % n)

    def others(self) -> list[tuple[str, int]]:
        """(name, cards watched) of every profile of the world, this one included (queue)."""
        from fyp_tui.store.profiles import list_profiles

        return [(r["name"], r["cards_watched"]) for r in list_profiles(engine=self.live.store.engine)]

    def refresh_interests(self) -> None:
        """Reset the learned interests; follows and filters stay."""
        with self.live.lock:
            self.live.feed_session.refresh()

    def set_knob(self, knob: float) -> float:
        """Set the echo-chamber knob (clamped to 0..1, stored to two decimals); returns the clamped value."""
        knob = float(min(max(knob, 0.0), 1.0))
        with self.live.lock:
            self.live.feed_session.set_knob(round(knob, 2))
        return knob
