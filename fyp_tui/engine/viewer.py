"""The person's interest model, learned online from each signal they give.

A :class:`PersonState` is everything the recommender knows about one real person:
a learned interest score per topic, the creators they follow, what they marked
"not interested", what they have already seen, their history (for going back),
the echo-chamber knob and where they are. It is plain data with a JSON-safe
``to_dict()`` / ``from_dict()`` so the store can save it after every reaction.

Learning is a signed, weighted nudge of the video's topics (by the video's topic
mix) with a slow forgetting of everything else. Signal strengths follow the
platform's published account (strongest first):

* not interested (video, creator) ............ -3.0
* a follow ...................................... +2.5
* a share ....................................... +1.3
* a comment ..................................... +1.2
* a like or a favourite ....................... +1.0 (on top of the watch itself)
* watching a long video to the end ............ up to +1.0 (+0.2 per loop, max 3)
* watching a short one to the end ............. +0.5
* partial watch ................................ -0.3 .. +0.3 by the fraction watched
* a skip in the first ``SKIP_SECONDS`` .......... -0.4
* same country / language ...................... a weak drift of ``local_pref``,
  learned from engagement only (skips say nothing about locality)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fyp_tui.engine.ledger import Ledger
from fyp_tui.engine.world import World

#: A card left before this many seconds (and not looped) is a skip.
SKIP_SECONDS = 2.0
#: Step size of one unit of signal strength on the interest of a topic of weight 1.
LEARNING_RATE = 0.5
#: Watch time alone moves interests this much slower than explicit reactions
#: (a like, share or follow is stronger than watch time alone).
WATCH_RATE = 0.2
#: Interests stay in [-INTEREST_CLIP, INTEREST_CLIP].
INTEREST_CLIP = 3.0
#: Every impression forgets this fraction of every learned interest.
FORGET = 0.001
#: Interest given to each topic picked at onboarding.
ONBOARD_INTEREST = 2.5
#: Weak locality learning: how far one unit of engagement moves ``local_pref``.
LOCAL_RATE = 0.03
#: History kept in ``to_dict()`` (going back further than this after a restart is not offered).
HISTORY_KEPT = 500
#: videos kept in the "found early" memory
FOUND_EARLY_KEPT = 200
#: the person's comments kept (the newest), and the longest comment
COMMENTS_KEPT = 200
COMMENT_MAX_CHARS = 150

#: Strength of each explicit reaction (the watch itself is scored by ``watch_strength``).
REACTION_STRENGTH: dict[str, float] = {
    "like": 1.0,
    "unlike": -1.0,
    "favourite": 1.0,
    "unfavourite": -1.0,
    "comment": 1.2,
    "share": 1.3,
    "follow": 2.5,
    "unfollow": -0.7,
    "not_interested_video": -3.0,
    "not_interested_creator": -3.0,
    "not_interested_sound": -1.5,
    "mute_hashtag": -1.5,
}


def watch_strength(seconds: float, duration: float, loops: int = 0) -> float:
    """Signal strength of one impression: how long the person stayed on the card."""
    if loops <= 0 and seconds < SKIP_SECONDS:
        return -0.4
    frac = seconds / max(float(duration), 1e-3)
    if loops > 0 or frac >= 0.98:
        # finished: the longer the video, the stronger the signal
        return 0.5 + 0.5 * min(float(duration) / 60.0, 1.0) + 0.2 * min(int(loops), 3)
    return 0.6 * (min(frac, 1.0) - 0.5)


def topic_entropy(topics: np.ndarray, n_topics: int) -> float:
    """Shannon entropy (bits) of a sequence of topic ids."""
    if len(topics) == 0:
        return 0.0
    p = np.bincount(np.asarray(topics, dtype=np.int64), minlength=n_topics) / len(topics)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


@dataclass(eq=False)
class PersonState:
    interests: np.ndarray  # float32[T], learned; 0 = no opinion
    follows: set[int] = field(default_factory=set)  # creator ids
    ni_videos: set[int] = field(default_factory=set)  # not interested: these videos
    ni_creators: set[int] = field(default_factory=set)
    ni_sounds: set[int] = field(default_factory=set)
    muted_hashtags: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)  # every video ever shown
    history: list[int] = field(default_factory=list)  # videos shown, in order
    liked: set[int] = field(default_factory=set)
    favourites: set[int] = field(default_factory=set)
    knob: float = 0.3  # echo-chamber knob: 0 pure exploitation .. 1 mostly exploration
    country: int = 0
    language: int = 0
    device: int = 0  # index into world.device_names (counts weakly: the video's length fits the screen)
    local_pref: float = 0.0  # learned weight of same-country/language content, [-1, 1]
    onboarded: bool = False
    onboarding_topics: list[int] = field(default_factory=list)
    #: what of the person's sits in each video's counters (see :mod:`fyp_tui.engine.ledger`)
    ledger: Ledger = field(default_factory=Ledger)
    #: videos the person watched while still in their test pool (among their first
    #: viewers), oldest first: a memory for "videos you found early"
    found_early: list[int] = field(default_factory=list)
    #: the person's own comments, oldest first: (video, text)
    comments: list[tuple[int, str]] = field(default_factory=list)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def new(
        cls,
        world: World,
        *,
        country: int | None = None,
        language: int | None = None,
        knob: float = 0.3,
        topics: list[int] | None = None,
        device: int | None = None,
    ) -> PersonState:
        """A cold-start person; country, language and device default to the world's most common."""
        if device is None:
            device = int(np.bincount(world.aud_device).argmax()) if world.n_viewers else 0
        if country is None:
            country = int(np.bincount(world.aud_country).argmax()) if world.n_viewers else 0
        if language is None:
            language = int(np.bincount(world.aud_language).argmax()) if world.n_viewers else 0
        p = cls(
            interests=np.zeros(world.n_topics, np.float32),
            knob=float(knob),
            country=int(country),
            language=int(language),
            device=int(device),
        )
        if topics is not None:
            p.onboard(topics)
        return p

    def onboard(self, topics: list[int]) -> None:
        """Start from picked interest topics (an empty list: start from popular videos)."""
        self.onboarding_topics = sorted({int(t) for t in topics})
        for t in self.onboarding_topics:
            self.interests[t] = max(self.interests[t], ONBOARD_INTEREST)
        self.onboarded = True

    def reset_interests(self) -> None:
        """Refresh: forget learned interests; follows, filters, seen and history stay."""
        self.interests[:] = 0.0
        self.local_pref = 0.0

    # -- learning ---------------------------------------------------------------------
    def learn(self, world: World, video: int, strength: float, *, forget: bool = False) -> None:
        """Nudge the interests of ``video``'s topics by ``strength`` (signed)."""
        u = self.interests
        if forget:
            u *= 1.0 - FORGET
        topics = world.video_topics[video].astype(np.intp)
        weights = world.video_topic_w[video]
        np.add.at(u, topics, np.float32(LEARNING_RATE * strength) * weights)
        np.clip(u, -INTEREST_CLIP, INTEREST_CLIP, out=u)
        if strength > 0:
            # locality is learned from engagement only, weakly: enjoying local content
            # raises it, enjoying foreign content lowers it a little
            local = int(world.video_country[video]) == self.country or int(world.video_language[video]) == self.language
            step = LOCAL_RATE * strength if local else -0.5 * LOCAL_RATE * strength
            self.local_pref = float(np.clip(self.local_pref + step, -1.0, 1.0))

    def learn_topic(self, topic: int, strength: float) -> None:
        """Nudge one topic (e.g. a muted hashtag's topic)."""
        u = self.interests
        u[topic] = np.clip(u[topic] + LEARNING_RATE * strength, -INTEREST_CLIP, INTEREST_CLIP)

    # -- observations -----------------------------------------------------------------
    def top_topics(self, k: int = 5, minimum: float = 0.05) -> np.ndarray:
        """Up to ``k`` topics with the highest positive learned interest."""
        u = self.interests
        order = np.argsort(-u, kind="stable")[:k]
        return order[u[order] > minimum]

    def recent_topic_diversity(self, world: World, n: int = 50) -> float:
        """Topic entropy (bits) of the main topics of the last ``n`` videos shown."""
        recent = np.asarray(self.history[-n:], dtype=np.int64)
        return topic_entropy(world.video_topics[recent, 0], world.n_topics)

    # -- persistence ------------------------------------------------------------------
    def to_dict(self, *, seen: bool = True) -> dict:
        """JSON-safe form. ``seen=False`` leaves out the seen set (the store rebuilds it
        from the person's impression rows), which keeps a per-reaction save small."""
        d = {
            "interests": np.round(self.interests.astype(np.float64), 5).tolist(),
            "follows": sorted(self.follows),
            "ni_videos": sorted(self.ni_videos),
            "ni_creators": sorted(self.ni_creators),
            "ni_sounds": sorted(self.ni_sounds),
            "muted_hashtags": sorted(self.muted_hashtags),
            "history": list(map(int, self.history[-HISTORY_KEPT:])),
            "liked": sorted(self.liked),
            "favourites": sorted(self.favourites),
            "knob": float(self.knob),
            "country": int(self.country),
            "language": int(self.language),
            "device": int(self.device),
            "local_pref": round(float(self.local_pref), 5),
            "onboarded": bool(self.onboarded),
            "onboarding_topics": list(self.onboarding_topics),
            "counted": self.ledger.to_list(),
            "found_early": list(map(int, self.found_early[-FOUND_EARLY_KEPT:])),
            "comments": [[int(v), str(t)] for v, t in self.comments[-COMMENTS_KEPT:]],
        }
        if seen:
            d["seen"] = sorted(self.seen)
        return d

    @classmethod
    def from_dict(cls, d: dict, *, n_topics: int) -> PersonState:
        """Inverse of ``to_dict``; interests are padded/cut to ``n_topics``."""
        interests = np.zeros(n_topics, np.float32)
        got = np.asarray(d.get("interests", []), dtype=np.float32)[:n_topics]
        interests[: len(got)] = got
        history = [int(v) for v in d.get("history", [])]
        return cls(
            interests=interests,
            follows={int(x) for x in d.get("follows", [])},
            ni_videos={int(x) for x in d.get("ni_videos", [])},
            ni_creators={int(x) for x in d.get("ni_creators", [])},
            ni_sounds={int(x) for x in d.get("ni_sounds", [])},
            muted_hashtags={int(x) for x in d.get("muted_hashtags", [])},
            seen={int(x) for x in d.get("seen", [])} | set(history),
            history=history,
            liked={int(x) for x in d.get("liked", [])},
            favourites={int(x) for x in d.get("favourites", [])},
            knob=float(d.get("knob", 0.3)),
            country=int(d.get("country", 0)),
            language=int(d.get("language", 0)),
            device=int(d.get("device", 0)),
            local_pref=float(d.get("local_pref", 0.0)),
            onboarded=bool(d.get("onboarded", False)),
            onboarding_topics=[int(t) for t in d.get("onboarding_topics", [])],
            ledger=Ledger.from_list(-1, d.get("counted", [])),
            found_early=[int(v) for v in d.get("found_early", [])][-FOUND_EARLY_KEPT:],
            comments=[(int(c[0]), str(c[1])) for c in d.get("comments", []) if isinstance(c, list) and len(c) == 2][
                -COMMENTS_KEPT:
            ],
        )
