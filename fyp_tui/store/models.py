"""SQLModel tables: the durable form of a world.

Primary keys of topic, country, language, device, creator, sound, hashtag, video
and audience rows are the 0-based row numbers of the engine's arrays
(``fyp_tui.engine.world.World``), so loading is a straight column copy.

Hidden truth (``Creator.skill``, ``Video.quality``, ``Audience.interests``,
``Audience.like_propensity``) is stored for the simulator and for export; the
recommender never reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

# Bump SCHEMA_VERSION on every change to the tables below (``store.db`` refuses newer
# files), and update the name mirror next to it (a test prints the new one).
from fyp_tui.store.schema import SCHEMA_VERSION  # noqa: F401  (re-exported)


def utcnow() -> datetime:
    return datetime.now(UTC)


class WorldMeta(SQLModel, table=True):
    __tablename__ = "world_meta"

    id: int = Field(default=1, primary_key=True)
    schema_version: int
    app: str = "fyp-tui"
    scenario: str
    seed: int
    clock: float = 0.0  # simulated hours since the scenario's start
    created_at: datetime = Field(default_factory=utcnow)
    checkpointed_at: datetime = Field(default_factory=utcnow)
    # JSON: small vocabularies and scenario settings the engine needs on load
    settings_json: str = "{}"


class Topic(SQLModel, table=True):
    __tablename__ = "topic"

    id: int = Field(primary_key=True)
    name: str = Field(unique=True)


class Country(SQLModel, table=True):
    __tablename__ = "country"

    id: int = Field(primary_key=True)
    code: str = Field(unique=True)  # ISO 3166 alpha-2, e.g. "US"


class Language(SQLModel, table=True):
    __tablename__ = "language"

    id: int = Field(primary_key=True)
    code: str = Field(unique=True)  # ISO 639-1, e.g. "en"


class Device(SQLModel, table=True):
    __tablename__ = "device"

    id: int = Field(primary_key=True)
    name: str = Field(unique=True)  # "ios", "android", "web"


class Creator(SQLModel, table=True):
    __tablename__ = "creator"

    id: int = Field(primary_key=True)
    handle: str = Field(index=True)
    display_name: str
    country_id: int = Field(foreign_key="country.id")
    language_id: int = Field(foreign_key="language.id")
    topic_id: int = Field(foreign_key="topic.id")
    follower_count: int
    upload_rate: float  # uploads per simulated hour
    skill: float  # HIDDEN: only the simulator reads it


class Sound(SQLModel, table=True):
    __tablename__ = "sound"

    id: int = Field(primary_key=True)
    title: str
    artist: str
    original: bool  # original audio of a creator, or a licensed track
    trend: float = 0.0  # decayed engagement


class Hashtag(SQLModel, table=True):
    __tablename__ = "hashtag"

    id: int = Field(primary_key=True)
    name: str = Field(unique=True)  # without the "#"
    topic_id: int | None = Field(default=None, foreign_key="topic.id")  # None: generic
    trend: float = 0.0


class Video(SQLModel, table=True):
    __tablename__ = "video"

    id: int = Field(primary_key=True)
    creator_id: int = Field(foreign_key="creator.id", index=True)
    sound_id: int = Field(foreign_key="sound.id", index=True)
    profile_id: int | None = Field(default=None, foreign_key="profile.id")  # posted by a person
    caption: str
    duration: float  # seconds
    # topic mix: topic_id with weight topic_weight, topic2_id with 1 - topic_weight
    topic_id: int = Field(foreign_key="topic.id", index=True)
    topic2_id: int = Field(foreign_key="topic.id")
    topic_weight: float
    language_id: int = Field(foreign_key="language.id")
    country_id: int = Field(foreign_key="country.id")
    upload_time: float  # simulated hours; negative: before the clock started
    quality: float  # HIDDEN: only the simulator reads it
    # tier-ladder state
    tier: int = 0
    status: int = 0  # engine.world.Status
    tier_entered: float = 0.0
    impressions_in_tier: int = 0
    # lifetime counters
    views: int = 0
    full_watches: int = 0
    watch_seconds: float = 0.0
    likes: int = 0
    shares: int = 0
    favourites: int = 0
    comments: int = 0
    follows: int = 0
    skips: int = 0
    not_interested: int = 0
    # counters of the current tier (impressions_in_tier is its view count)
    tier_full_watches: int = 0
    tier_watch_seconds: float = 0.0
    tier_likes: int = 0
    tier_shares: int = 0
    tier_favourites: int = 0
    tier_comments: int = 0
    tier_follows: int = 0
    tier_skips: int = 0
    tier_not_interested: int = 0


class VideoHashtag(SQLModel, table=True):
    __tablename__ = "video_hashtag"

    video_id: int = Field(foreign_key="video.id", primary_key=True)
    hashtag_id: int = Field(foreign_key="hashtag.id", primary_key=True, index=True)
    position: int = 0


class Audience(SQLModel, table=True):
    """A simulated viewer. ``interests`` is compact: 3 int16 topic ids then 3 float32 weights (18 bytes)."""

    __tablename__ = "audience"

    id: int = Field(primary_key=True)
    country_id: int = Field(foreign_key="country.id")
    language_id: int = Field(foreign_key="language.id")
    device_id: int = Field(foreign_key="device.id")
    activity: float  # impressions per simulated hour
    like_propensity: float  # HIDDEN
    interests: bytes  # HIDDEN: see engine.world.TOPICS_PER_VIEWER


class EngineState(SQLModel, table=True):
    """Observable engine arrays with no natural table (e.g. learned viewer preferences)."""

    __tablename__ = "engine_state"

    name: str = Field(primary_key=True)
    dtype: str
    shape: str  # JSON list
    data: bytes


class Profile(SQLModel, table=True):
    """A local person using the app; several may share a world."""

    __tablename__ = "profile"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    onboarded: bool = False
    country_id: int | None = Field(default=None, foreign_key="country.id")
    language_id: int | None = Field(default=None, foreign_key="language.id")
    knob: float = 0.3  # echo-chamber knob: 0 pure exploitation .. 1 mostly exploration
    # JSON: learned interests, follows, not-interested filters, seen and history
    state_json: str = "{}"


class Interaction(SQLModel, table=True):
    """One reaction of a person, committed before the app acknowledges it."""

    __tablename__ = "interaction"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profile.id", index=True)
    video_id: int = Field(foreign_key="video.id", index=True)
    # impression, like, unlike, share, favourite, unfavourite, follow, unfollow,
    # not_interested_video, not_interested_creator, not_interested_sound, mute_hashtag,
    # post (the person's own upload)
    kind: str
    watch_seconds: float = 0.0
    loops: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    sim_time: float = 0.0


class TierEventRow(SQLModel, table=True):
    __tablename__ = "tier_event"

    id: int | None = Field(default=None, primary_key=True)
    video_id: int = Field(foreign_key="video.id", index=True)
    from_tier: int
    to_tier: int | None = None  # None: stalled
    reason: str  # "promoted", "below bar", "faded", "reignited: trending sound" ...
    sim_time: float
    score: float = 0.0
    bar: float = 0.0
    impressions: int = 0
    tipped_by: str | None = None  # the person's reaction that tipped it
    profile_id: int | None = Field(default=None, foreign_key="profile.id")
    # what it would have done without that reaction: "moved up", "stalled" or "waited"
    # (None: not credited, or saved before schema version 2)
    instead: str | None = None
