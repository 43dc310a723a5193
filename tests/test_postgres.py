"""The store's PostgreSQL branches against a real server (``.ci/run`` starts Debian's
postgresql-15 on loopback and sets ``FYP_TUI_TEST_PG``; without it these are skipped,
saying why).

The same world and seed give the same run on PostgreSQL as on SQLite, and what the
person does is committed to the server before it is acknowledged.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

PG = os.environ.get("FYP_TUI_TEST_PG")  # e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres

pytestmark = pytest.mark.skipif(not PG, reason="no PostgreSQL server: .ci/run starts one and sets FYP_TUI_TEST_PG")


@pytest.fixture
def pg_db():
    """A fresh, empty database on the test server; dropped afterwards."""
    import psycopg

    base = PG.replace("postgresql+psycopg://", "postgresql://")
    name = f"fyp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    yield url
    from sqlalchemy import create_engine

    create_engine(url).dispose()
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_seed_info_simulate_export_on_postgres_match_sqlite(run_cli, pg_db, tmp_path):
    lite = str(tmp_path / "w.db")
    for db in (pg_db, lite):
        code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--seed", "5", "--db", db)
        assert code == 0, err
    reports = []
    for db in (pg_db, lite):
        code, out, err = run_cli("simulate", "-q", "--hours", "3", "--json", "--db", db)
        assert code == 0, err
        r = json.loads(out)
        r.pop("wall_seconds"), r.pop("impressions_per_second")
        reports.append(r)
    assert reports[0] == reports[1]  # the same world and seed: the same run, whatever the database
    infos = []
    for db in (pg_db, lite):
        code, out, err = run_cli("info", "--json", "--db", db)
        assert code == 0, err
        info = json.loads(out)
        infos.append((info["clock"], info["counts"]["video"], info["videos_by_tier"]))
    assert infos[0] == infos[1] and infos[0][0] == pytest.approx(3.0)
    code, out, _ = run_cli("export", "videos", "--format", "json", "--db", pg_db)
    assert code == 0 and len(json.loads(out)) == infos[0][1]


def test_a_reaction_is_on_the_server_before_it_is_acknowledged(run_cli, pg_db):
    from sqlalchemy import create_engine, text

    from fyp_tui.live.session import LiveSession

    code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", pg_db)
    assert code == 0, err
    live = LiveSession(pg_db, "pg-person", seed=1)
    try:
        live.open()
        card = live.feed.submit(live.feed.begin).result()
        live.feed.submit(live.feed.react, card.video, "like").result()  # acknowledged here
        engine = create_engine(pg_db)
        try:
            with engine.connect() as con:  # another connection: committed, not just written
                kinds = con.execute(
                    text("SELECT kind FROM interaction WHERE video_id = :v"), {"v": card.video}
                ).scalars()
                assert "like" in list(kinds)
        finally:
            engine.dispose()
    finally:
        live.close()


def test_a_post_makes_its_account_and_new_hashtags_on_the_server(run_cli, pg_db):
    """Issue 11: the first post writes the profile's creator account and any new hashtag
    with the video, in the journal's transaction; a checkpoint after it skips them."""
    from sqlalchemy import create_engine, text

    code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", pg_db)
    assert code == 0, err
    code, out, err = run_cli(
        "post", "--db", pg_db, "--profile", "Pg Poster", "--caption", "hello", "--hashtags", "brandnewtag",
        "--topic", "0", "--json",
    )  # fmt: skip
    assert code == 0, err
    r = json.loads(out)
    assert run_cli("simulate", "-q", "--hours", "2", "--db", pg_db)[0] == 0
    engine = create_engine(pg_db)
    try:
        with engine.connect() as con:
            handle = con.execute(text("SELECT handle FROM creator WHERE id = :c"), {"c": r["creator_id"]}).scalar()
            tag = con.execute(text("SELECT topic_id FROM hashtag WHERE name = 'brandnewtag'")).scalar()
            video = con.execute(text("SELECT creator_id FROM video WHERE id = :v"), {"v": r["video_id"]}).scalar()
    finally:
        engine.dispose()
    assert (handle, tag, video) == ("pg_poster", 0, r["creator_id"])


def test_a_credits_instead_survives_a_checkpoint_and_a_reopen_on_postgres(run_cli, pg_db):
    """tier_event.instead (schema version 2) through COPY (the checkpoint) and the
    journal's insert, read back by a reopened session's panel."""
    from worlds import CREDITS, credits_after_reopen

    assert run_cli("seed", "-q", "--scenario", "tiny", "--db", pg_db)[0] == 0
    assert credits_after_reopen(pg_db) == {v: [credit] for v, credit in CREDITS.items()}


def test_a_version_1_world_on_postgres_is_migrated_on_open(run_cli, pg_db):
    import psycopg

    assert run_cli("seed", "-q", "--scenario", "tiny", "--db", pg_db)[0] == 0
    plain = pg_db.replace("postgresql+psycopg://", "postgresql://")

    def storage(con) -> tuple:
        attstorage = con.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'engine_state'::regclass AND attname = 'data'"
        ).fetchone()[0]
        options = con.execute("SELECT reloptions FROM pg_class WHERE relname = 'video'").fetchone()[0]
        return attstorage, options

    with psycopg.connect(plain) as con:  # as version 1 seeded it
        assert storage(con) == ("e", ["fillfactor=50"])
        con.execute("ALTER TABLE tier_event DROP COLUMN instead")
        con.execute("ALTER TABLE engine_state ALTER COLUMN data SET STORAGE EXTENDED")
        con.execute("ALTER TABLE video RESET (fillfactor)")
        con.execute("UPDATE world_meta SET schema_version = 1")
        con.execute(
            "INSERT INTO tier_event (video_id, from_tier, to_tier, reason, sim_time, score, bar, impressions, tipped_by)"
            " VALUES (6, 0, 1, 'promoted', 0.0, 0.5, 0.4, 77, 'share')"
        )
    code, out, err = run_cli("info", "--json", "--db", pg_db)
    assert code == 0, err
    assert json.loads(out)["schema_version"] == 2
    with psycopg.connect(plain) as con:
        assert con.execute("SELECT tipped_by, instead FROM tier_event WHERE impressions = 77").fetchall() == [
            ("share", None)
        ]
        assert storage(con) == ("e", ["fillfactor=50"])
    assert run_cli("simulate", "-q", "--hours", "1", "--db", pg_db)[0] == 0
    # a newer schema is still refused, in one line
    with psycopg.connect(plain) as con:
        con.execute("UPDATE world_meta SET schema_version = 3")
    code, _, err = run_cli("info", "--db", pg_db)
    assert code == 1 and err.strip().count("\n") == 0 and "newer than this fyp-tui" in err


def test_a_checkpoint_writes_the_same_rows_on_postgres_as_on_sqlite(run_cli, pg_db, tmp_path, monkeypatch):
    """The video counters (a binary COPY laid out by numpy, then one UPDATE) and the tier
    decisions a simulate checkpoints are, value for value, the rows SQLite gets; and a
    load from those rows alone is the world the mirror gives."""
    import sqlite3

    import psycopg

    from fyp_tui.store import bulk
    from fyp_tui.store.codecs import STATE_COLS, TIER_EVENT_COLS
    from fyp_tui.store.io import WorldStore

    monkeypatch.setattr(bulk, "COPY_ROWS", 64)  # tiny's few hundred changed videos: several buffers, a short last one

    lite = str(tmp_path / "w.db")
    for db in (pg_db, lite):
        assert run_cli("seed", "-q", "--scenario", "tiny", "--seed", "5", "--db", db)[0] == 0
        assert run_cli("simulate", "-q", "--hours", "6", "--db", db)[0] == 0
    videos = f"SELECT id, {', '.join(STATE_COLS)} FROM video ORDER BY id"
    events = f"SELECT {', '.join(TIER_EVENT_COLS)} FROM tier_event ORDER BY id"
    with psycopg.connect(pg_db.replace("postgresql+psycopg://", "postgresql://")) as con:
        pg_rows = [con.execute(q).fetchall() for q in (videos, events)]
    con = sqlite3.connect(lite)
    try:
        lite_rows = [con.execute(q).fetchall() for q in (videos, events)]
    finally:
        con.close()
    assert len(pg_rows[0]) > 0 and len(pg_rows[1]) > 0
    assert [list(map(tuple, r)) for r in pg_rows] == lite_rows
    assert sum(r[STATE_COLS.index("views") + 1] for r in pg_rows[0]) > 0  # the run did count views
    with WorldStore.open(pg_db, lock=False) as store:
        mirror, rows = store.load(), store.load(use_mirror=False)
        assert store.loaded_from == {"video": "rows", "audience": "rows"}
    import numpy as np
    from conftest import same_world

    # (a video uploaded during the run has a second topic weight the rows rebuild as
    # 1 - the first, in float32: equal to within rounding, on SQLite too)
    assert same_world(mirror, rows) in ([], ["video_topic_w"])
    assert np.allclose(mirror.video_topic_w, rows.video_topic_w, atol=1e-6)


def test_a_seed_adds_its_foreign_keys_after_the_rows_and_a_broken_one_leaves_nothing(pg_db, tiny_world):
    """Seeding drops the new tables' foreign keys while the rows go in and adds them back
    after (one check per key): every key of the models is there at the end, and a world
    whose rows break one fails in one line with the database left as it was (empty)."""
    import psycopg
    from sqlmodel import SQLModel

    from fyp_tui.errors import StoreError
    from fyp_tui.store import models  # noqa: F401  (registers the tables)
    from fyp_tui.store.io import save_new_world

    plain = pg_db.replace("postgresql+psycopg://", "postgresql://")
    broken = tiny_world.copy()
    broken.video_creator[0] = broken.n_creators + 5  # no such creator
    with pytest.raises(StoreError, match="video_creator_id_fkey"):
        save_new_world(pg_db, broken)
    with psycopg.connect(plain) as con:
        assert con.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0] == 0
    save_new_world(pg_db, tiny_world)
    want = {(t.name, tuple(fk.parent.name for fk in c.elements)) for t in SQLModel.metadata.tables.values()
            for c in t.foreign_key_constraints}  # fmt: skip
    with psycopg.connect(plain) as con:
        got = con.execute(
            "SELECT conrelid::regclass::text, ARRAY(SELECT attname FROM pg_attribute a "
            "WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)) FROM pg_constraint c WHERE contype = 'f'"
        ).fetchall()
        assert {(t, tuple(cols)) for t, cols in got} == want and len(got) == len(want) > 20
        assert con.execute("SELECT bool_and(convalidated) FROM pg_constraint WHERE contype = 'f'").fetchone()[0]
