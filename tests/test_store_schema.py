"""Schema version 2 (issue 16): a tier decision's ``instead`` is saved with it, and a
version 1 world is migrated when it is opened."""

from __future__ import annotations

import json
import sqlite3

import pytest
from worlds import CREDITS, credits_after_reopen

from fyp_tui.errors import StoreError
from fyp_tui.live.strip import INSTEAD
from fyp_tui.store.io import WorldStore
from fyp_tui.store.schema import SCHEMA_VERSION


def _sql(path: str, *stmts: str, params: tuple = ()) -> list:
    con = sqlite3.connect(path)
    try:
        out: list = []
        for s in stmts:
            out = con.execute(s, params if "?" in s else ()).fetchall()
        con.commit()
        return out
    finally:
        con.close()


def make_v1(path: str) -> None:
    """Turn a seeded world into what version 1 wrote: ``tier_event`` without ``instead``,
    ``schema_version`` 1, and a decision a version 1 build saved (credited, no ``instead``)."""
    _sql(
        path,
        "ALTER TABLE tier_event DROP COLUMN instead",
        "UPDATE world_meta SET schema_version = 1",
        "INSERT INTO tier_event (video_id, from_tier, to_tier, reason, sim_time, score, bar, impressions, tipped_by)"
        " VALUES (6, 0, 1, 'promoted', 0.0, 0.5, 0.4, 77, 'share')",
    )
    (sql,) = _sql(path, "SELECT sql FROM sqlite_master WHERE name = 'tier_event'")[0]
    assert "instead" not in sql


def test_a_credits_instead_survives_a_checkpoint_and_a_reopen(tiny_db):
    got = credits_after_reopen(tiny_db)
    assert got == {v: [credit] for v, credit in CREDITS.items()}
    # ... so the panel says what would have happened, not the fallback
    assert {INSTEAD[instead] for (_, instead) in CREDITS.values()} == set(INSTEAD.values())


def test_a_version_1_world_is_migrated_on_open(tiny_db, run_cli):
    make_v1(tiny_db)
    code, out, err = run_cli("info", "--json", "--db", tiny_db)  # a reader migrates it too
    assert code == 0, err
    assert json.loads(out)["schema_version"] == SCHEMA_VERSION == 2
    cols = [r[1] for r in _sql(tiny_db, "PRAGMA table_info(tier_event)")]
    assert cols[-1] == "instead"
    # the old decision is kept, with no instead (its credit keeps the general wording)
    assert _sql(tiny_db, "SELECT tipped_by, instead FROM tier_event WHERE impressions = 77") == [("share", None)]
    assert _sql(tiny_db, "PRAGMA integrity_check") == [("ok",)]
    # and the migrated world saves and reads back instead like a new one
    assert credits_after_reopen(tiny_db) == {v: [credit] for v, credit in CREDITS.items()}


def test_a_migration_cut_short_runs_again(tiny_db):
    """The column added but the version not yet written (as an older build's half step
    could leave it): the next open finishes the migration instead of failing on it."""
    _sql(tiny_db, "UPDATE world_meta SET schema_version = 1")
    with WorldStore.open(tiny_db) as store:
        assert store.meta["schema_version"] == 2
    assert _sql(tiny_db, "SELECT schema_version FROM world_meta") == [(2,)]


def test_a_newer_schema_is_still_refused_in_one_line(tiny_db, run_cli):
    _sql(tiny_db, f"UPDATE world_meta SET schema_version = {SCHEMA_VERSION + 1}")
    code, _, err = run_cli("info", "--db", tiny_db)
    assert code == 1
    assert err.strip().count("\n") == 0 and f"schema version {SCHEMA_VERSION + 1}, newer than" in err
    with pytest.raises(StoreError, match="newer than this fyp-tui"):
        WorldStore.open(tiny_db)


def test_a_migration_that_cannot_run_fails_in_one_line_and_changes_nothing(tiny_db, run_cli):
    make_v1(tiny_db)
    _sql(tiny_db, "DROP TABLE tier_event")  # (a damaged version 1 file: the step has nothing to alter)
    code, out, err = run_cli("info", "--db", tiny_db)
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0
    assert "cannot migrate" in err and "from schema version 1 to 2" in err and "tier_event" in err
    assert _sql(tiny_db, "SELECT schema_version FROM world_meta") == [(1,)]
