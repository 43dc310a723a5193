"""The store: world -> database -> world, checkpoints, refusals, the world lock."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fyp_tui.engine.events import Promoted, Reignited, Stalled, Uploaded
from fyp_tui.engine.world import Signal, Status
from fyp_tui.errors import StoreError, UsageError, WorldLockedError
from fyp_tui.store import db as dbmod
from fyp_tui.store.io import WorldStore, save_new_world, video_detail_from_world
from fyp_tui.store.models import SCHEMA_VERSION


def _sql(path: str, *stmts: str) -> list:
    con = sqlite3.connect(path)
    try:
        out = []
        for s in stmts:
            out = con.execute(s).fetchall()
        con.commit()
        return out
    finally:
        con.close()


# -- round trips ---------------------------------------------------------------------------
def test_round_trip_is_exact_array_for_array(tiny_world, tmp_path, assert_same_world):
    original = tiny_world.copy()
    url = save_new_world(str(tmp_path / "w.db"), tiny_world)
    assert url == f"sqlite:///{(tmp_path / 'w.db').resolve()}"
    assert tiny_world.saved_videos == tiny_world.n_videos and not tiny_world.video_dirty.any()
    with WorldStore.open(url) as store:
        loaded = store.load()
        assert store.loaded_from == {"video": "mirror", "audience": "mirror"}
        from_rows = store.load(use_mirror=False)
        assert store.loaded_from == {"video": "rows", "audience": "rows"}
    assert_same_world(original, loaded)
    assert_same_world(original, from_rows)
    assert loaded.saved_videos == loaded.n_videos and not loaded.video_dirty.any()
    # the engine writes into loaded arrays: they must be writable
    assert all(getattr(loaded, f).flags.writeable for f in loaded.array_fields())


def test_seeded_file_is_consistent_and_in_wal_mode(tiny_db):
    assert _sql(tiny_db, "PRAGMA foreign_key_check") == []
    assert _sql(tiny_db, "PRAGMA integrity_check") == [("ok",)]
    assert _sql(tiny_db, "PRAGMA journal_mode") == [("wal",)]
    (meta,) = _sql(tiny_db, "SELECT schema_version, app, scenario, seed, clock FROM world_meta")
    assert meta == (SCHEMA_VERSION, "fyp-tui", "tiny", 7, 0.0)


def test_connections_get_the_pragmas(tiny_db):
    engine = dbmod.make_engine(dbmod.resolve_url(tiny_db))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == dbmod.BUSY_TIMEOUT_MS
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_checkpoint_round_trip(tiny_db, assert_same_world):
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        with store.session() as s:  # a person who posts a video
            from fyp_tui.store.models import Profile

            s.add(Profile(name="me"))
            s.commit()
        world.clock = 12.25
        world.video_counts[3, Signal.VIEW] += 40
        world.video_counts[3, Signal.LIKE] += 7
        world.video_tier_counts[3, Signal.VIEW] = 5
        world.video_watch_seconds[3] += 123.5
        world.video_tier[3] = 2
        world.video_status[3] = Status.TOP
        world.video_tier_entered[3] = 11.0
        world.video_dirty[3] = True
        world.sound_trend[4] = 2.5
        world.hashtag_trend[7] = 1.25
        world.creator_followers[2] += 1
        world.aud_pref[0, 0] = 0.5
        w1 = np.array([0.7, 0.6], np.float32)
        new = world.add_videos(
            creator=np.array([1, 2]),
            sound=np.array([3, 4]),
            duration=np.array([10.0, 20.0]),
            topics=np.array([[1, 2], [3, 4]]),
            topic_w=np.stack([w1, np.float32(1) - w1], axis=1),
            language=np.array([0, 1]),
            country=np.array([0, 1]),
            upload_time=np.array([5.0, 5.5]),
            quality=np.array([0.3, 0.4]),
            tags=np.array([[1, 2, -1, -1], [5, -1, -1, -1]]),
            captions=["first", "second"],
            profile=np.array([-1, 1]),
        )
        world.extra["engine_note"] = {"k": 1}
        world.extra["viewer_state"] = np.arange(6, dtype=np.int32).reshape(2, 3)
        events = [
            Promoted(
                time=12.0,
                video=3,
                from_tier=1,
                to_tier=2,
                score=0.5,
                bar=0.4,
                impressions=100,
                budget=1000,
                tipped_by="share",
                profile=1,
            ),
            Stalled(time=12.1, video=int(new[0]), tier=0, score=0.1, bar=0.4, impressions=50, reason="below bar"),
            Reignited(time=12.2, video=5, tier=1, reason="trending sound"),
            Uploaded(time=12.0, video=int(new[1]), creator=2, profile=1),  # not a tier event: skipped
        ]
        store.checkpoint(world, events)
        assert world.saved_videos == world.n_videos and not world.video_dirty[: world.n_videos].any()
    with WorldStore.open(tiny_db) as store:
        again = store.load()
        assert store.loaded_from["video"] == "mirror"
        rows_again = store.load(use_mirror=False)
        detail = store.video_detail(int(new[1]))
    assert_same_world(world, again)
    assert_same_world(world, rows_again)
    assert detail == video_detail_from_world(world, int(new[1]))
    assert detail["caption"] == "second" and detail["profile"] == 1
    rows = _sql(
        tiny_db, "SELECT video_id, from_tier, to_tier, reason, tipped_by, profile_id FROM tier_event ORDER BY id"
    )
    assert rows == [
        (3, 1, 2, "promoted", "share", 1),
        (int(new[0]), 0, None, "below bar", None, None),
        (5, 1, 1, "reignited: trending sound", None, None),
    ]


def test_capture_then_write_and_requeue_after_a_failed_write(tiny_db, monkeypatch):
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        world.video_counts[10, Signal.VIEW] += 1
        world.video_dirty[10] = True
        snap = store.capture(world)
        assert not world.video_dirty[10]
        world.video_counts[11, Signal.VIEW] += 1  # changes after the capture stay pending
        world.video_dirty[11] = True

        import fyp_tui.store.io as io

        def boom(conn, snap, last):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(io, "write_snapshot", boom)
        with pytest.raises(StoreError, match="disk I/O error"):
            store.write(snap)
        snap.requeue(world)
        assert world.video_dirty[10] and world.video_dirty[11]
        monkeypatch.undo()
        store.checkpoint(world)
    with WorldStore.open(tiny_db) as store:
        again = store.load()
    assert again.video_counts[10, Signal.VIEW] == 1 and again.video_counts[11, Signal.VIEW] == 1


def test_stale_mirror_falls_back_to_the_rows(tiny_db):
    _sql(tiny_db, "UPDATE video SET views = views + 5 WHERE id = 0")
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        assert store.loaded_from["video"] == "rows"
    assert world.video_counts[0, Signal.VIEW] == 5


def test_video_detail_from_db_matches_the_world(tiny_db, tiny_world):
    with WorldStore.open(tiny_db) as store:
        for v in (0, 17, tiny_world.n_videos - 1):
            d = store.video_detail(v)
            assert d == video_detail_from_world(tiny_world, v)
            assert d["hashtags"] and d["creator_handle"] == tiny_world.creator_handles[tiny_world.video_creator[v]]
        with pytest.raises(KeyError):
            store.video_detail(10**9)


# -- refusals -----------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(StoreError, match="no world at"):
        WorldStore.open(str(tmp_path / "nope.db"))
    assert not (tmp_path / "nope.db").exists()


def test_newer_schema_is_refused(tiny_db):
    _sql(tiny_db, f"UPDATE world_meta SET schema_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this fyp-tui"):
        WorldStore.open(tiny_db)


def test_older_schema_without_migration_is_refused(tiny_db):
    _sql(tiny_db, "UPDATE world_meta SET schema_version = 0")
    with pytest.raises(StoreError, match="cannot migrate"):
        WorldStore.open(tiny_db)


def test_garbage_file_is_refused(tmp_path):
    p = tmp_path / "garbage.db"
    p.write_bytes(b"this is not a database, just text\n" * 200)
    with pytest.raises(StoreError, match="corrupt or not a SQLite database"):
        WorldStore.open(str(p))


def test_truncated_world_is_refused(tiny_db):
    size = os.path.getsize(tiny_db)
    with open(tiny_db, "r+b") as fh:
        fh.truncate(size // 3)
    with pytest.raises(StoreError) as exc:
        with WorldStore.open(tiny_db) as store:
            store.load()
    assert "\n" not in str(exc.value)


def test_damaged_pages_are_refused(tiny_db):
    data = bytearray(Path(tiny_db).read_bytes())
    page = 4096
    for off in range(page * 2, len(data), page * 3):  # scribble over many pages, header intact
        data[off : off + 64] = b"\xff" * 64
    Path(tiny_db).write_bytes(bytes(data))
    with pytest.raises(StoreError):
        with WorldStore.open(tiny_db) as store:
            store.load()
            dbmod.quick_check(store.engine, store.url)


def test_other_sqlite_database_is_refused(tmp_path):
    p = str(tmp_path / "other.db")
    _sql(p, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(StoreError, match="not a fyp-tui world"):
        WorldStore.open(p)


def test_world_with_missing_tables_is_refused(tiny_db):
    _sql(tiny_db, "DROP TABLE tier_event")
    with pytest.raises(StoreError, match="missing tables: tier_event"):
        WorldStore.open(tiny_db)


def test_save_refuses_an_existing_world_unless_forced(tiny_db, tiny_world):
    with pytest.raises(StoreError, match="already exists.*--force"):
        save_new_world(tiny_db, tiny_world)
    tiny_world.clock = 3.0
    save_new_world(tiny_db, tiny_world, force=True)
    with WorldStore.open(tiny_db) as store:
        assert store.load().clock == 3.0
    assert sorted(p.name for p in Path(tiny_db).parent.iterdir() if ".tmp" in p.name) == []


def test_a_failed_save_leaves_the_old_world_untouched(tiny_db, tiny_world, monkeypatch):
    import fyp_tui.store.create as create

    before = Path(tiny_db).read_bytes()

    def fail(conn, world, report):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(create, "_write_world", fail)
    with pytest.raises(StoreError, match="No space left"):
        save_new_world(tiny_db, tiny_world, force=True)
    assert Path(tiny_db).read_bytes() == before
    assert [p.name for p in Path(tiny_db).parent.iterdir() if ".tmp" in p.name] == []


# -- the world lock -------------------------------------------------------------------------
HOLDER = textwrap.dedent(
    """
    import sys
    from fyp_tui.store.io import WorldStore
    store = WorldStore.open(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()
    store.close()
    """
)


def test_lock_held_by_another_process(tiny_db, tiny_world):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, tiny_db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorldLockedError, match=rf"in use by another fyp-tui process \(pid {holder.pid}\)"):
            WorldStore.open(tiny_db)
        with pytest.raises(WorldLockedError):
            save_new_world(tiny_db, tiny_world, force=True)
        with WorldStore.open(tiny_db, lock=False) as reader:  # readers need no lock
            assert reader.counts()["video"] == tiny_world.n_videos
    finally:
        holder.communicate("", timeout=30)
    with WorldStore.open(tiny_db) as store:  # released when the holder exits
        assert store.locked


def test_lock_released_on_close_and_on_failed_open(tiny_db, tmp_path):
    store = WorldStore.open(tiny_db)
    with pytest.raises(WorldLockedError):
        WorldStore.open(tiny_db)
    store.close()
    WorldStore.open(tiny_db).close()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"x" * 5000)
    with pytest.raises(StoreError):
        WorldStore.open(str(bad))
    with dbmod.WorldLock(dbmod.resolve_url(str(bad))) as lock:  # the failed open let it go
        assert lock.held


# -- URLs ---------------------------------------------------------------------------------
def test_resolve_url(tmp_path, monkeypatch):
    assert dbmod.resolve_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert dbmod.resolve_url("sqlite:////x/y.db") == "sqlite:////x/y.db"
    monkeypatch.setenv("FYP_TUI_DB", str(tmp_path / "env.db"))
    assert dbmod.resolve_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("FYP_TUI_DB")
    monkeypatch.setenv("FYP_TUI_DATA_DIR", str(tmp_path / "data"))
    assert dbmod.resolve_url(None) == f"sqlite:///{tmp_path / 'data' / 'world.db'}"
    with pytest.raises(UsageError):
        dbmod.resolve_url("   ")
    with pytest.raises(UsageError, match="not a valid database URL"):
        dbmod.resolve_url("not a url://x")


def test_settings_json_holds_the_engine_table_and_vocabularies(tiny_db, tiny_world):
    (settings,) = _sql(tiny_db, "SELECT settings_json FROM world_meta")[0]
    s = json.loads(settings)
    assert s["engine"] == tiny_world.extra["engine"]
    assert s["caption_words"] == tiny_world.caption_words
    assert set(s["caption_words_by_language"]) == set(tiny_world.language_codes)


def test_rows_written_between_checkpoints_then_checkpointed(tiny_db, assert_same_world):
    """A reaction's journal may write new videos' rows early (insert_videos); the next
    checkpoint then updates them, and a load before that checkpoint reads the rows."""
    from fyp_tui.store.io import insert_videos

    with WorldStore.open(tiny_db) as store:
        world = store.load()
        src = np.arange(3)
        world.add_videos(
            creator=world.video_creator[src],
            sound=world.video_sound[src],
            duration=world.video_duration[src],
            topics=world.video_topics[src],
            topic_w=world.video_topic_w[src],
            language=world.video_language[src],
            country=world.video_country[src],
            upload_time=np.full(3, 1.0),
            quality=world.video_quality[src],
            tags=world.video_tags[src],
            captions=["x", "y", "z"],
        )
        lo, hi = world.saved_videos, world.n_videos
        with store.engine.begin() as conn:
            insert_videos(conn, world, lo, hi)
        world.saved_videos = hi  # rows exist; still dirty for the checkpoint
        with WorldStore.open(tiny_db, lock=False) as reader:
            early = reader.load()
            assert reader.loaded_from["video"] == "rows"  # the mirror does not know them yet
        assert early.n_videos == hi and early.video_captions[-3:] == ["x", "y", "z"]
        world.video_counts[hi - 1, Signal.VIEW] = 9
        store.checkpoint(world)
    with WorldStore.open(tiny_db) as store:
        again = store.load()
        assert store.loaded_from["video"] == "mirror"
    assert_same_world(world, again)


# -- the light open path: stdlib sqlite3, no SQLAlchemy / SQLModel until needed ------------
def test_schema_mirror_matches_the_models():
    """store.schema.TABLE_COLUMNS (what the checks on open read) mirrors the SQLModel tables."""
    from sqlmodel import SQLModel

    from fyp_tui.store import models
    from fyp_tui.store.schema import TABLE_COLUMNS

    actual = {name: tuple(c.name for c in table.columns) for name, table in sorted(SQLModel.metadata.tables.items())}
    assert TABLE_COLUMNS == actual, "update fyp_tui/store/schema.py: TABLE_COLUMNS = " + repr(actual)
    assert models.SCHEMA_VERSION == dbmod.SCHEMA_VERSION


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/a b/c.db",
        "sqlite:///rel/x.db",
        "sqlite:////tmp/%41.db",
        "sqlite:////tmp/ü.db",
        "sqlite:////tmp/x.db?mode=ro",
        "sqlite://",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite+pysqlite:////tmp/x.db",
        "sqlite:////tmp/a#b.db",
        "sqlite:////tmp/a:b.db",
        "sqlite:///file:x.db?uri=true",
        "postgresql://u:p@h/db",
    ],
)
def test_sqlite_path_without_sqlalchemy_agrees_with_it(url):
    from sqlalchemy.engine import make_url

    u = make_url(url)
    db = u.database
    expected = (
        None
        if u.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:")
        else Path(db).expanduser()
    )
    assert dbmod.sqlite_path(url) == expected
    plain = dbmod.plain_sqlite_path(url)
    assert plain is None or plain == expected


def test_open_reads_through_the_stdlib_and_makes_the_engine_on_first_use(tiny_db):
    with WorldStore.open(tiny_db) as store:
        assert store._engine is None and store._reader is not None
        world = store.load()
        assert store._engine is None  # loading a world needs no SQLAlchemy engine
        assert store.counts()["video"] == world.n_videos
        engine = store.engine
        assert store.engine is engine and engine.dialect.name == "sqlite"
        store.checkpoint(world)  # writes go through the engine
    assert store._engine is None and store._reader is None


@pytest.mark.parametrize(
    "damage, message",
    [
        (None, None),
        ("ALTER TABLE video DROP COLUMN tier_likes", "table video lacks column tier_likes"),
        ("DROP TABLE tier_event", "missing tables: tier_event"),
        (f"UPDATE world_meta SET schema_version = {SCHEMA_VERSION + 1}", "newer than this fyp-tui"),
        ("UPDATE world_meta SET schema_version = 0", "cannot migrate"),
        ("UPDATE world_meta SET app = 'other'", "no fyp-tui meta row"),
        ("UPDATE world_meta SET settings_json = '[1'", "settings_json is not JSON"),
        ("UPDATE world_meta SET clock = -1", "clock is -1"),
    ],
)
def test_check_world_reads_the_same_through_sqlalchemy_and_the_stdlib(tiny_db, damage, message):
    if damage:
        _sql(tiny_db, damage)
    url = dbmod.resolve_url(tiny_db)
    engine = dbmod.make_engine(url)
    conn = dbmod.connect_sqlite(dbmod.sqlite_path(url), url)
    try:
        results = []
        for source in (engine, conn):
            try:
                results.append(dbmod.check_world(source, url))
            except StoreError as exc:
                results.append(str(exc))
    finally:
        conn.close()
        engine.dispose()
    assert results[0] == results[1]
    if message is None:
        assert results[0]["scenario"] == "tiny" and results[0]["schema_version"] == SCHEMA_VERSION
    else:
        assert message in results[0]


def test_load_person_without_the_orm_matches_store_profiles(tiny_db):
    from fyp_tui.store.models import Interaction, Profile
    from fyp_tui.store.profiles import get_or_create_profile, load_person

    with WorldStore.open(tiny_db) as store:
        world = store.load()
        assert store.load_person("me", world) is None  # no such profile yet
        with store.session() as s:
            get_or_create_profile(session=s, name="fresh")  # cold start: state "{}"
            me = Profile(name="me", knob=0.55, onboarded=True, country_id=1, language_id=0)
            s.add(me)
            s.commit()
            state = load_person(session=s, profile=me, world=world)
            state.follows = {2, 3}
            state.liked = {4}
            state.history = [1, 4, 10**6]  # an id past the end is dropped on load
            state.interests[1] = 0.75
            me.state_json = json.dumps(state.to_dict(seen=False))
            for v in (1, 4, 4):
                s.add(Interaction(profile_id=me.id, video_id=v, kind="impression"))
            s.add(Interaction(profile_id=me.id, video_id=7, kind="like"))
            s.commit()
            expected = {}
            for name in ("me", "fresh"):
                prof = get_or_create_profile(session=s, name=name)
                expected[name] = (prof.id, load_person(session=s, profile=prof, world=world))
        for name, (want_id, want) in expected.items():
            got_id, person = store.load_person(name, world)
            assert got_id == want_id
            assert person.to_dict() == want.to_dict(), name
            assert np.array_equal(person.interests, want.interests)
        assert expected["me"][1].seen == {1, 4} and expected["me"][1].history == [1, 4]


def test_tier_history_reads_the_tier_events(tiny_db):
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        store.checkpoint(
            world,
            [
                Promoted(
                    time=2.0,
                    video=3,
                    from_tier=0,
                    to_tier=1,
                    score=0.5,
                    bar=0.4,
                    impressions=100,
                    budget=1000,
                    tipped_by="share",
                    profile=None,
                    instead="stalled",
                ),
                Stalled(time=5.0, video=3, tier=1, score=0.1, bar=0.4, impressions=50, reason="below bar"),
                Stalled(time=1.0, video=4, tier=0, score=0.1, bar=0.4, impressions=50, reason="below bar"),
            ],
        )
        assert store.tier_history(3, 10.0) == [
            (0, 1, "promoted", 100, 0.5, 0.4, 2.0, "share", "stalled"),
            (1, None, "below bar", 50, 0.1, 0.4, 5.0, None, None),
        ]
        assert store.tier_history(3, 4.0) == [(0, 1, "promoted", 100, 0.5, 0.4, 2.0, "share", "stalled")]
        assert store.tier_history(99, 10.0) == []


def test_learned_preferences_are_overwritten_in_place_and_only_with_the_checkpoint(tiny_db, monkeypatch):
    """A checkpoint writes an engine array stored with the same shape in place (its row
    stays; the values are new), inside the checkpoint's transaction: a checkpoint that
    fails later leaves the stored array as it was."""
    rowid = lambda: _sql(tiny_db, "SELECT rowid FROM engine_state WHERE name = 'aud_pref'")[0][0]
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        before = rowid()
        world.aud_pref[:5, :] = 0.25
        store.checkpoint(world)
        assert rowid() == before, "written in place, not replaced"
        world.aud_pref[:5, :] = 0.75  # (and nothing else: the arrays are the first thing written)
        import fyp_tui.store.checkpoint as checkpoint

        def boom(*a, **k):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(checkpoint, "tier_event_row", boom)  # the tier events come after the arrays
        with pytest.raises(StoreError):
            store.checkpoint(world, [Stalled(1.0, 0, 0, 0.1, 0.2, 30, "below bar")])
    with WorldStore.open(tiny_db) as store:
        assert (store.load().aud_pref[:5] == np.float16(0.25)).all()


# -- the tier-event row codec ---------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_one_tier_event_codec_stores_non_finite_scores_as_zero(bad):
    """The checkpoint and the journal write tier events through one codec: a
    non-finite score or bar becomes 0.0 (the columns are NOT NULL floats) for every
    kind of decision, and the journal's person fills in a missing profile."""
    from fyp_tui.engine.events import Promoted, Reignited, Stalled
    from fyp_tui.store.codecs import TIER_EVENT_COLS, tier_event_row, tier_event_rows

    promoted = Promoted(time=1.0, video=3, from_tier=0, to_tier=1, score=bad, bar=bad, impressions=7, budget=50)
    stalled = Stalled(time=2.0, video=4, tier=1, reason="below bar", score=bad, bar=bad, impressions=9)
    reignited = Reignited(time=3.0, video=5, tier=1, reason="trending sound")
    for e in (promoted, stalled):
        row = dict(zip(TIER_EVENT_COLS, tier_event_row(e)))
        assert (row["score"], row["bar"]) == (0.0, 0.0)
        assert row["profile_id"] is None
    assert dict(zip(TIER_EVENT_COLS, tier_event_row(reignited)))["score"] == 0.0
    journal_rows = tier_event_rows([promoted, stalled, reignited, object()], profile_id=42)
    assert [dict(zip(TIER_EVENT_COLS, r))["profile_id"] for r in journal_rows] == [42, 42, None]
    assert journal_rows[:2] == [tier_event_row(promoted, profile_id=42), tier_event_row(stalled, profile_id=42)]


def test_a_checkpoint_written_a_slice_at_a_time_is_the_same_world(tiny_db, assert_same_world, monkeypatch):
    """A checkpoint writes its changed and new videos a slice of rows at a time (so a
    fast pace's tens of thousands of rows never become Python values all at once);
    several slices (the last one short) lose nothing and repeat nothing."""
    from fyp_tui.engine import simulate
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.store import checkpoint

    monkeypatch.setattr(checkpoint, "WRITE_ROWS", 7)
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        simulate.run(world, EngineParams.from_world(world), 3, 6.0)  # uploads and many changed videos
        n_dirty = int(world.video_dirty[: world.saved_videos].sum())
        n_new = world.n_videos - world.saved_videos
        assert n_dirty > 3 * 7 and n_new > 7
        store.checkpoint(world)
    with WorldStore.open(tiny_db, lock=False) as store:
        assert_same_world(store.load(), world)
