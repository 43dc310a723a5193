"""The world as columnar, in-memory numpy state.

Everything the simulation and the recommender touch lives here, one array per
attribute, indexed by a 0-based row number that is also the row's primary key in
the store (video ``i`` is ``Video.id == i``). Nothing in this module does I/O.

Two truths live side by side and must stay apart:

* **Hidden truth** (``creator_skill``, ``video_quality``, ``aud_topics`` /
  ``aud_topic_w``, ``aud_like_prop`` ...): read only by ``engine.audience`` when it
  draws how a simulated viewer reacts.
* **Observable state** (metadata, counters, tiers, trends, ``aud_pref``): the
  only things the ladder, the pools, the catalogue, the candidates and the ranking may read.

Videos grow while the world runs (simulated creators keep uploading, the person
posts from the studio), so video arrays have a capacity larger than
``n_videos``; always slice with ``[: world.n_videos]`` or use ``world.videos``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fyp_tui.engine.audience import PoissonCounts
    from fyp_tui.engine.catalogue import CatalogueWeights
    from fyp_tui.engine.trends import TrendingLists
    from fyp_tui.engine.uploads import UploadTables

TOPICS_PER_VIDEO = 2
TOPICS_PER_VIEWER = 3
TAGS_PER_VIDEO = 4


class Signal(IntEnum):
    """Columns of ``World.video_counts`` and ``World.video_tier_counts``."""

    VIEW = 0
    FULL_WATCH = 1
    LIKE = 2
    SHARE = 3
    FAVOURITE = 4
    COMMENT = 5
    FOLLOW = 6
    SKIP = 7
    NOT_INTERESTED = 8


N_SIGNALS = len(Signal)


class Status(IntEnum):
    """``World.video_status``: where a video stands on the tier ladder."""

    ACTIVE = 0  # in its tier's pool, collecting impressions
    STALLED = 1  # failed a tier (or faded); out of the pools
    TOP = 2  # passed the last budgeted tier: served site-wide until it fades


#: Sounds and viewers are fixed after seeding; videos grow, and so do creators (a
#: person's own account, :meth:`World.add_creator`) and hashtags (new ones a person
#: posts with, :meth:`World.add_hashtags`).
VIDEO_ARRAYS = (
    "video_creator",
    "video_sound",
    "video_duration",
    "video_topics",
    "video_topic_w",
    "video_language",
    "video_country",
    "video_upload_time",
    "video_quality",
    "video_tags",
    "video_profile",
    "video_tier",
    "video_status",
    "video_tier_entered",
    "video_counts",
    "video_tier_counts",
    "video_watch_seconds",
    "video_tier_watch_seconds",
    "video_dirty",
)


@dataclass
class Derived:
    """Tables the engine derives from a world's arrays and keeps from step to step,
    so that a short step does not recompute them over every video (``World.derived``).

    Never saved: a new, loaded or copied world starts from what it holds (a copy
    carries a copy of the first three; the tables kept by the identity of the arrays
    they came from start empty in a copy, whose arrays are new). Each table checks,
    before use, that it still matches the arrays it came from, and brings itself up
    to date if not, so a write anywhere (the engine, the person's feed, a test) is
    never missed.
    """

    #: per video, its catalogue weight up to the common age factor (:mod:`~fyp_tui.engine.catalogue`)
    catalogue: CatalogueWeights | None = None
    #: what uploads draw from: videos per sound ... (:func:`~fyp_tui.engine.uploads.upload`)
    uploads: UploadTables | None = None
    #: the trending lists and the trends they came from (:func:`~fyp_tui.engine.trends.trending_lists`)
    trending: TrendingLists | None = None
    #: the audience's reaction tables by name: dense hidden interests, viewer keys, per-video
    #: rows (:func:`fyp_tui.engine.audience.prepare`; emptied by ``audience.invalidate``)
    audience: dict[str, Any] | None = None
    #: (stamp, impressions per hour of each viewer, their sum) (``simulate._rate_and_total``)
    rate: tuple[tuple, np.ndarray, float] | None = None
    #: (rate, {(dt, share): the impression-count sampler for it}) (``simulate._sampler``)
    sampler: tuple[np.ndarray, dict[tuple[float, float], PoissonCounts]] | None = None
    #: (viewer_top_topics, its ``[k, N]`` transpose) (``pools._top_topics_by_slot``)
    top_topics_by_slot: tuple[np.ndarray, np.ndarray] | None = None
    #: (top topics, aud_language, (L, key type), each viewer's group key) (``pools._viewer_groups``)
    viewer_groups: tuple[np.ndarray, np.ndarray, tuple[int, type], np.ndarray] | None = None
    #: ((video_tags, video_topics, hashtag_topic), the shares' params, videos covered,
    #: each video's broad share) (``pools._broad_table``)
    broad: tuple[tuple, tuple[float, float], int, np.ndarray] | None = None

    def __deepcopy__(self, memo: dict) -> Derived:
        return Derived(
            catalogue=copy.deepcopy(self.catalogue, memo),
            uploads=copy.deepcopy(self.uploads, memo),
            trending=copy.deepcopy(self.trending, memo),
        )


@dataclass(eq=False)
class World:
    # -- vocabularies (index -> name) -------------------------------------------------
    topic_names: list[str]
    country_codes: list[str]
    language_codes: list[str]
    device_names: list[str]
    creator_handles: list[str]
    sound_titles: list[str]
    hashtag_names: list[str]
    caption_words: list[str]  # vocabulary for captions of simulated uploads
    video_captions: list[str]  # one per video, grows with n_videos

    # -- creators (C) -----------------------------------------------------------------
    creator_country: np.ndarray  # int16
    creator_language: np.ndarray  # int16
    creator_topic: np.ndarray  # int16, main topic
    creator_followers: np.ndarray  # int64
    creator_upload_rate: np.ndarray  # float32, uploads per simulated hour
    creator_skill: np.ndarray  # float32 HIDDEN: mean quality of its videos

    # -- sounds (S) and hashtags (H) ----------------------------------------------------
    sound_original: np.ndarray  # bool: original audio vs licensed track
    sound_trend: np.ndarray  # float64: decayed engagement (observable)
    hashtag_topic: np.ndarray  # int16, -1 for generic tags (#fyp, #viral)
    hashtag_trend: np.ndarray  # float64: decayed engagement (observable)

    # -- videos (capacity >= n_videos) ----------------------------------------------------
    n_videos: int
    video_creator: np.ndarray  # int32
    video_sound: np.ndarray  # int32
    video_duration: np.ndarray  # float32 seconds
    video_topics: np.ndarray  # int16 [cap, TOPICS_PER_VIDEO]
    video_topic_w: np.ndarray  # float32 [cap, TOPICS_PER_VIDEO], rows sum to 1
    video_language: np.ndarray  # int16
    video_country: np.ndarray  # int16
    video_upload_time: np.ndarray  # float64 simulated hours (negative: before t=0)
    video_quality: np.ndarray  # float32 HIDDEN, in [0, 1]
    video_tags: np.ndarray  # int32 [cap, TAGS_PER_VIDEO], -1 padded
    video_profile: np.ndarray  # int32: posting profile id, -1 for simulated creators
    video_tier: np.ndarray  # int8
    video_status: np.ndarray  # int8 (Status)
    video_tier_entered: np.ndarray  # float64 simulated hours
    video_counts: np.ndarray  # int64 [cap, N_SIGNALS], lifetime
    video_tier_counts: np.ndarray  # int64 [cap, N_SIGNALS], current tier only
    video_watch_seconds: np.ndarray  # float64, lifetime
    video_tier_watch_seconds: np.ndarray  # float64, current tier only
    video_dirty: np.ndarray  # bool: changed since the last checkpoint

    # -- simulated audience (N) -----------------------------------------------------------
    aud_country: np.ndarray  # int16
    aud_language: np.ndarray  # int16
    aud_device: np.ndarray  # int8
    aud_activity: np.ndarray  # float32, impressions per simulated hour
    aud_topics: np.ndarray  # int16 [N, TOPICS_PER_VIEWER] HIDDEN
    aud_topic_w: np.ndarray  # float32 [N, TOPICS_PER_VIEWER] HIDDEN, rows sum to 1
    aud_like_prop: np.ndarray  # float32 HIDDEN: propensity multiplier to react
    aud_pref: np.ndarray  # float16 [N, T] OBSERVABLE: the platform's learned estimate

    # -- scalars --------------------------------------------------------------------------
    clock: float = 0.0  # simulated hours since the scenario's start
    seed: int = 0
    scenario: str = ""
    # counts the checkpoint has already written: rows past these are new
    saved_videos: int = 0
    saved_creators: int = 0
    saved_hashtags: int = 0
    extra: dict = field(default_factory=dict)
    #: the engine's derived tables (see :class:`Derived`; never saved)
    derived: Derived = field(default_factory=Derived, repr=False)

    # -- sizes ----------------------------------------------------------------------------
    @property
    def n_topics(self) -> int:
        return len(self.topic_names)

    @property
    def n_creators(self) -> int:
        return len(self.creator_country)

    @property
    def n_sounds(self) -> int:
        return len(self.sound_original)

    @property
    def n_hashtags(self) -> int:
        return len(self.hashtag_topic)

    @property
    def n_viewers(self) -> int:
        return len(self.aud_country)

    @property
    def capacity(self) -> int:
        return len(self.video_creator)

    def video_main_topic(self) -> np.ndarray:
        """Main topic of every live video (the heavier of its two)."""
        return self.video_topics[: self.n_videos, 0]

    # -- growth ---------------------------------------------------------------------------
    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more videos (amortised doubling)."""
        need = self.n_videos + extra
        if need <= self.capacity:
            return
        new_cap = max(need, int(self.capacity * 1.5) + 1024)
        for name in VIDEO_ARRAYS:
            old = getattr(self, name)
            grown = np.zeros((new_cap, *old.shape[1:]), dtype=old.dtype)
            grown[: len(old)] = old
            if name == "video_tags":
                grown[len(old) :] = -1
            if name == "video_profile":
                grown[len(old) :] = -1
            setattr(self, name, grown)

    def add_videos(
        self,
        *,
        creator: np.ndarray,
        sound: np.ndarray,
        duration: np.ndarray,
        topics: np.ndarray,
        topic_w: np.ndarray,
        language: np.ndarray,
        country: np.ndarray,
        upload_time: np.ndarray,
        quality: np.ndarray,
        tags: np.ndarray,
        captions: list[str],
        profile: np.ndarray | None = None,
    ) -> np.ndarray:
        """Append videos in tier 0, status ACTIVE; return their ids."""
        k = len(creator)
        self.reserve(k)
        ids = np.arange(self.n_videos, self.n_videos + k)
        s = slice(self.n_videos, self.n_videos + k)
        self.video_creator[s] = creator
        self.video_sound[s] = sound
        self.video_duration[s] = duration
        self.video_topics[s] = topics
        self.video_topic_w[s] = topic_w
        self.video_language[s] = language
        self.video_country[s] = country
        self.video_upload_time[s] = upload_time
        self.video_quality[s] = quality
        self.video_tags[s] = tags
        self.video_profile[s] = -1 if profile is None else profile
        self.video_tier[s] = 0
        self.video_status[s] = Status.ACTIVE
        self.video_tier_entered[s] = upload_time
        self.video_counts[s] = 0
        self.video_tier_counts[s] = 0
        self.video_watch_seconds[s] = 0
        self.video_tier_watch_seconds[s] = 0
        self.video_dirty[s] = True
        self.video_captions.extend(captions)
        self.n_videos += k
        return ids

    def add_creator(
        self, *, handle: str, name: str, country: int, language: int, topic: int, skill: float, upload_rate: float = 0.0
    ) -> int:
        """Append one creator with no followers (a person's own account); return its id."""
        c = self.n_creators
        names = self.extra.get("creator_display_names")
        if isinstance(names, list) and len(names) == c:
            names.append(name)
        self.creator_handles.append(handle)
        for attr, value in (
            ("creator_country", country),
            ("creator_language", language),
            ("creator_topic", topic),
            ("creator_followers", 0),
            ("creator_upload_rate", upload_rate),
            ("creator_skill", skill),
        ):
            old = getattr(self, attr)
            setattr(self, attr, np.append(old, np.array([value], old.dtype)))
        return c

    def add_hashtags(self, names: list[str], topic: int) -> np.ndarray:
        """Append new hashtags of ``topic`` (-1: generic), not yet trending; return their ids."""
        h = self.n_hashtags
        self.hashtag_names.extend(names)
        self.hashtag_topic = np.append(self.hashtag_topic, np.full(len(names), topic, self.hashtag_topic.dtype))
        self.hashtag_trend = np.append(self.hashtag_trend, np.zeros(len(names), self.hashtag_trend.dtype))
        return np.arange(h, h + len(names))

    def copy(self) -> World:
        """A deep copy: audits and what-ifs run on it without touching this world."""
        return copy.deepcopy(self)

    def array_fields(self) -> list[str]:
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)]


def empty_video_arrays(capacity: int, n_topics: int) -> dict[str, np.ndarray]:
    """Zeroed video arrays of the right dtypes, for builders of a World."""
    del n_topics  # topic mix is sparse (TOPICS_PER_VIDEO), independent of T
    return {
        "video_creator": np.zeros(capacity, np.int32),
        "video_sound": np.zeros(capacity, np.int32),
        "video_duration": np.zeros(capacity, np.float32),
        "video_topics": np.zeros((capacity, TOPICS_PER_VIDEO), np.int16),
        "video_topic_w": np.zeros((capacity, TOPICS_PER_VIDEO), np.float32),
        "video_language": np.zeros(capacity, np.int16),
        "video_country": np.zeros(capacity, np.int16),
        "video_upload_time": np.zeros(capacity, np.float64),
        "video_quality": np.zeros(capacity, np.float32),
        "video_tags": np.full((capacity, TAGS_PER_VIDEO), -1, np.int32),
        "video_profile": np.full(capacity, -1, np.int32),
        "video_tier": np.zeros(capacity, np.int8),
        "video_status": np.zeros(capacity, np.int8),
        "video_tier_entered": np.zeros(capacity, np.float64),
        "video_counts": np.zeros((capacity, N_SIGNALS), np.int64),
        "video_tier_counts": np.zeros((capacity, N_SIGNALS), np.int64),
        "video_watch_seconds": np.zeros(capacity, np.float64),
        "video_tier_watch_seconds": np.zeros(capacity, np.float64),
        "video_dirty": np.zeros(capacity, bool),
    }
