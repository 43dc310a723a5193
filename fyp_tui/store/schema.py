"""The schema's version and, for the checks on open, its table and column names.

Plain data, no imports: opening a world (``store.db.check_world``) runs on the
app's way to its first card, where importing SQLModel, pydantic and the model
classes would cost more than reading the whole ``demo`` world.

The SQLModel tables in :mod:`fyp_tui.store.models` are the definition of the
schema (seeding creates the tables from them); :data:`TABLE_COLUMNS` is a mirror
of their names only, and ``tests/test_store.py`` proves it equal to
``SQLModel.metadata``: change a model, and that test prints the new mirror.
"""

from __future__ import annotations

#: Bump on every change to the tables in ``store.models``; ``store.db`` refuses newer files.
SCHEMA_VERSION = 2

#: table -> its columns, in model order (a mirror of ``SQLModel.metadata``; see above)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "audience": ("id", "country_id", "language_id", "device_id", "activity", "like_propensity", "interests"),
    "country": ("id", "code"),
    "creator": (
        "id",
        "handle",
        "display_name",
        "country_id",
        "language_id",
        "topic_id",
        "follower_count",
        "upload_rate",
        "skill",
    ),
    "device": ("id", "name"),
    "engine_state": ("name", "dtype", "shape", "data"),
    "hashtag": ("id", "name", "topic_id", "trend"),
    "interaction": ("id", "profile_id", "video_id", "kind", "watch_seconds", "loops", "created_at", "sim_time"),
    "language": ("id", "code"),
    "profile": ("id", "name", "created_at", "onboarded", "country_id", "language_id", "knob", "state_json"),
    "sound": ("id", "title", "artist", "original", "trend"),
    "tier_event": (
        "id",
        "video_id",
        "from_tier",
        "to_tier",
        "reason",
        "sim_time",
        "score",
        "bar",
        "impressions",
        "tipped_by",
        "profile_id",
        "instead",
    ),
    "topic": ("id", "name"),
    "video": (
        "id",
        "creator_id",
        "sound_id",
        "profile_id",
        "caption",
        "duration",
        "topic_id",
        "topic2_id",
        "topic_weight",
        "language_id",
        "country_id",
        "upload_time",
        "quality",
        "tier",
        "status",
        "tier_entered",
        "impressions_in_tier",
        "views",
        "full_watches",
        "watch_seconds",
        "likes",
        "shares",
        "favourites",
        "comments",
        "follows",
        "skips",
        "not_interested",
        "tier_full_watches",
        "tier_watch_seconds",
        "tier_likes",
        "tier_shares",
        "tier_favourites",
        "tier_comments",
        "tier_follows",
        "tier_skips",
        "tier_not_interested",
    ),
    "video_hashtag": ("video_id", "hashtag_id", "position"),
    "world_meta": (
        "id",
        "schema_version",
        "app",
        "scenario",
        "seed",
        "clock",
        "created_at",
        "checkpointed_at",
        "settings_json",
    ),
}

#: Storage settings of a world on PostgreSQL, run after its tables are made (seed) and
#: by the migration to version 2. ``engine_state.data`` holds megabytes of numpy
#: arrays (learned preferences, the columnar mirror) that pglz barely shrinks and a
#: checkpoint rewrites whole: stored uncompressed (EXTERNAL), it is written about 3x
#: and read about 2x faster. ``video`` rows keep room on their pages (fillfactor: half
#: of each page), so a checkpoint's update of a video's counters can be a HOT update,
#: on the same page with no new index entries (the table is about twice as big).
PG_STORAGE: tuple[str, ...] = (
    "ALTER TABLE engine_state ALTER COLUMN data SET STORAGE EXTERNAL",
    "ALTER TABLE video SET (fillfactor = 50)",
)
