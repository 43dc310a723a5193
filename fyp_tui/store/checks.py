"""Checks before and after opening a world: a loaded world's values are sane, the file
is writable, and no side file of a SQLite world is a symbolic link."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fyp_tui.engine.world import (
    World,
)
from fyp_tui.errors import StoreError
from fyp_tui.store.db import (
    db_errors,
    describe,
    error_line,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def world_problem(world: World) -> str | None:
    """What makes a loaded world unusable (ids out of range, negative counters, NaNs,
    a tier the ladder lacks ...), or None. Vectorised: a few ms even for ``large``.

    The engine indexes arrays with these values, so a hand-edited or damaged file
    would otherwise end in an IndexError deep in a simulation step.
    """
    n = world.n_videos
    T, C, S, H = world.n_topics, world.n_creators, world.n_sounds, world.n_hashtags
    K, L, D = len(world.country_codes), len(world.language_codes), len(world.device_names)

    def out_of(a: np.ndarray, lo: int, hi: int) -> bool:  # any value outside [lo, hi)
        return a.size > 0 and (int(a.min()) < lo or int(a.max()) >= hi)

    def not_finite(a: np.ndarray, lo: float | None = None) -> bool:
        if a.size == 0:
            return False
        if a.dtype == np.float16:  # exponent bits all ones: inf or nan (no float16 maths)
            if ((a.view(np.uint16) & 0x7C00) == 0x7C00).any():
                return True
            return lo is not None and bool((a < lo).any())
        if not np.isfinite(a).all():
            return True
        return lo is not None and float(a.min()) < lo

    if T == 0:
        return "no topics"
    if len(world.video_captions) < n:
        return "fewer captions than videos"
    extra = world.extra or {}
    texts = (
        ("topic.name", world.topic_names),
        ("country.code", world.country_codes),
        ("language.code", world.language_codes),
        ("device.name", world.device_names),
        ("creator.handle", world.creator_handles),
        ("sound.title", world.sound_titles),
        ("hashtag.name", world.hashtag_names),
        ("video.caption", world.video_captions[:n]),
        ("creator.display_name", extra.get("creator_display_names") or ()),
        ("sound.artist", extra.get("sound_artists") or ()),
        ("settings caption_words", world.caption_words),
    )
    for what, values in texts:  # a BLOB or a number where text belongs (JSON, the screen and the engine need str)
        if not all(type(v) is str for v in values):
            return f"{what} is not text"
    checks: list[tuple[str, bool]] = [
        ("video.creator_id", out_of(world.video_creator[:n], 0, C)),
        ("video.sound_id", out_of(world.video_sound[:n], 0, S)),
        ("video.topic_id", out_of(world.video_topics[:n], 0, T)),
        ("video.language_id", out_of(world.video_language[:n], 0, L)),
        ("video.country_id", out_of(world.video_country[:n], 0, K)),
        ("video_hashtag.hashtag_id", out_of(world.video_tags[:n], -1, H)),
        ("video.profile_id", out_of(world.video_profile[:n], -1, 2**31 - 1)),
        ("video.status", out_of(world.video_status[:n], 0, 3)),
        ("video counters", bool(n) and int(min(world.video_counts[:n].min(), world.video_tier_counts[:n].min())) < 0),
        (
            "video.duration",
            not_finite(world.video_duration[:n], 0.0) or bool(n and (world.video_duration[:n] <= 0).any()),
        ),
        ("video.quality", not_finite(world.video_quality[:n])),
        ("video.topic_weight", not_finite(world.video_topic_w[:n], 0.0)),
        ("video.upload_time", not_finite(world.video_upload_time[:n])),
        ("video.tier_entered", not_finite(world.video_tier_entered[:n])),
        (
            "video.watch_seconds",
            not_finite(world.video_watch_seconds[:n], 0.0) or not_finite(world.video_tier_watch_seconds[:n], 0.0),
        ),
        (
            "creator ids",
            out_of(world.creator_country, 0, K)
            or out_of(world.creator_language, 0, L)
            or out_of(world.creator_topic, 0, T),
        ),
        ("creator.follower_count", bool(C) and int(world.creator_followers.min()) < 0),
        ("creator.upload_rate", not_finite(world.creator_upload_rate, 0.0) or not_finite(world.creator_skill)),
        ("sound.trend", not_finite(world.sound_trend)),
        ("hashtag", not_finite(world.hashtag_trend) or out_of(world.hashtag_topic, -1, T)),
        (
            "audience ids",
            out_of(world.aud_country, 0, K) or out_of(world.aud_language, 0, L) or out_of(world.aud_device, 0, D),
        ),
        ("audience.interests", out_of(world.aud_topics, 0, T) or not_finite(world.aud_topic_w, 0.0)),
        ("audience.activity", not_finite(world.aud_activity, 0.0) or not_finite(world.aud_like_prop)),
        ("aud_pref", not_finite(world.aud_pref)),
    ]
    for what, broken in checks:
        if broken:
            return f"{what} out of range"
    if n:
        from fyp_tui.engine.params import EngineParams

        try:
            top = len(EngineParams.from_dict((world.extra or {}).get("engine", {}) or {}).ladder)
        except Exception as exc:
            return f"bad engine settings: {error_line(exc)}"
        if out_of(world.video_tier[:n], 0, top + 1):
            return "video.tier out of range"
    return None


def probe_writable(source: Engine | sqlite3.Connection, url: str) -> None:
    """Whoever takes the world lock means to write: find out now, not after an hour of
    simulation (a no-op UPDATE, rolled back; nothing reaches the file)."""
    try:
        if isinstance(source, sqlite3.Connection):
            try:
                source.execute("UPDATE world_meta SET id = id WHERE id = 1")
            finally:
                source.rollback()
            return
        with source.connect() as conn:
            tx = conn.begin()
            try:
                conn.exec_driver_sql("UPDATE world_meta SET id = id WHERE id = 1")
            finally:
                tx.rollback()
    except db_errors() as exc:
        raise StoreError(f"cannot write to {describe(url)}: {error_line(exc)}") from None


def refuse_linked_side_files(path: Path) -> None:
    """SQLite writes ``<world>-wal``, ``-shm`` and ``-journal`` next to the world; one
    that is a symbolic link is refused in one line (SQLite would not open it either,
    with a message about permissions)."""
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.is_symlink():
            raise StoreError(f"{side} is a symbolic link; refusing to open the world with it (remove it)")


def location_problem(path: Path) -> str | None:
    """Why SQLite cannot open the healthy-looking world file at ``path`` here, or None:
    the file is not readable, or its directory is not writable while the world's
    ``-shm`` file is missing or read-only (SQLite keeps a WAL world's ``-wal`` and
    ``-shm`` files beside it and must create them even to read it). Asked after an
    open failed, so that a world in a read-only place is not called corrupt."""
    if not os.access(path, os.R_OK):
        return "the file is not readable (check its permissions)"
    parent = path.parent
    shm = path.with_name(path.name + "-shm")
    if not os.access(parent, os.W_OK | os.X_OK) and not (shm.is_file() and os.access(shm, os.R_OK | os.W_OK)):
        return (
            f"its directory {parent} is not writable, and SQLite writes a world's -wal and -shm files "
            "beside it even to read it (make the directory writable, or copy the world somewhere writable)"
        )
    return None


def pages_problem(source: Engine | sqlite3.Connection) -> str | None:
    """``PRAGMA quick_check`` of a SQLite world (its first finding, or None if the file's
    pages are sound; None for other databases): a damaged page anywhere, even in a
    table or index a command would reach only later, is found when the world opens
    (about 0.25 s for ``demo``). A database error on the way is the finding."""
    try:
        if isinstance(source, sqlite3.Connection):
            rows = [r[0] for r in source.execute("PRAGMA quick_check(1)").fetchall()]
        else:
            if source.dialect.name != "sqlite":
                return None
            with source.connect() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(1)").fetchall()]
    except db_errors() as exc:
        return error_line(exc)
    if rows == ["ok"]:
        return None
    # (SQLite's first finding starts with a "*** in database main ***" line)
    text = " ".join(str(rows[0]).replace("*** in database main ***", "").split()) if rows else ""
    return text or "quick_check failed"
