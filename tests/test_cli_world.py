"""``fyp-tui seed`` and ``fyp-tui info``: happy paths, and every error as one line + non-zero exit."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from worlds import world_held_elsewhere

from fyp_tui.store.models import SCHEMA_VERSION


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("fyp-tui: error: ")
    assert "Traceback" not in err
    return lines[0]


# -- happy paths --------------------------------------------------------------------------
def test_seed_then_info(run_cli, tmp_path):
    db = str(tmp_path / "w.db")
    code, out, err = run_cli("seed", "--scenario", "tiny", "--seed", "11", "--db", db, "--quiet")
    assert code == 0, err
    assert "seeded 'tiny' (seed 11)" in out and "500 videos" in out
    code, out, err = run_cli("info", "--json", "--db", db)
    assert code == 0, err
    info = json.loads(out)
    assert info["scenario"] == "tiny" and info["seed"] == 11 and info["clock"] == 0.0
    assert info["topics"][:3] == ["comedy", "dance", "cooking"] and len(info["topics"]) == 12
    assert info["countries"] == ["US", "DE", "BR"]
    assert info["counts"]["video"] == 500 and info["counts"]["audience"] == 2500 and info["counts"]["creator"] == 60
    assert info["videos_by_tier"] == {"0": 500}
    code, out, err = run_cli("info", "--db", db)
    assert code == 0 and "tiny (seed 11)" in out and "comedy" in out and "video" in out


def test_db_from_group_option_and_environment(run_cli, tmp_path, monkeypatch, tiny_db):
    code, out, _ = run_cli("--db", tiny_db, "info", "--json")
    assert code == 0 and json.loads(out)["scenario"] == "tiny"
    monkeypatch.setenv("FYP_TUI_DB", tiny_db)
    code, out, _ = run_cli("info", "--json")
    assert code == 0 and json.loads(out)["counts"]["video"] == 500


def test_seed_refuses_an_existing_world_then_force_replaces_it(run_cli, tiny_db):
    code, _, err = run_cli("seed", "--scenario", "tiny", "--db", tiny_db, "-q")
    assert code == 1 and "--force" in one_error_line(err)
    code, out, err = run_cli("seed", "--scenario", "tiny", "--seed", "99", "--db", tiny_db, "--force", "-q")
    assert code == 0, err
    code, out, _ = run_cli("info", "--json", "--db", tiny_db)
    assert json.loads(out)["seed"] == 99


def test_seed_from_a_scenario_file(run_cli, tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(
        'name = "small"\nseed = 5\n[world]\nn_videos = 30\nn_creators = 4\nn_viewers = 40\nn_sounds = 6\n'
        'countries = ["US"]\nvocab_size = 10\n'
    )
    db = str(tmp_path / "s.db")
    code, out, err = run_cli("seed", "--scenario", str(p), "--db", db, "-q")
    assert code == 0, err
    assert "seeded 'small' (seed 5)" in out


# -- errors: one line, non-zero exit --------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expect", "exit_code"),
    [
        (["seed", "--scenario", "nope"], "unknown scenario 'nope'", 2),
        (["seed", "--scenario", "missing/file.toml"], "scenario file not found", 2),
        (["seed", "--seed", "-1"], "--seed", 2),
        (["seed", "--seed", "abc"], "--seed", 2),
        (["seed", "--bogus"], "--bogus", 2),
        (["info", "--db", "nosuchdriver://x/y"], "cannot use database", 1),
        (["info", "--db", "not a url://x"], "not a valid database URL", 2),
    ],
)
def test_usage_errors(run_cli, tmp_path, args, expect, exit_code):
    if "--db" not in args:
        args = [*args, "--db", str(tmp_path / "w.db")]
    code, _, err = run_cli(*args)
    assert code == exit_code
    assert expect in one_error_line(err)
    assert not (tmp_path / "w.db").exists()


def test_bad_key_in_a_scenario_file(run_cli, tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[world]\nn_videos = -3\n")
    code, _, err = run_cli("seed", "--scenario", str(p), "--db", str(tmp_path / "w.db"))
    assert code == 2 and "world.n_videos" in one_error_line(err)


def test_seed_into_a_directory(run_cli, tmp_path):
    code, _, err = run_cli("seed", "--scenario", "tiny", "--db", str(tmp_path), "-q")
    assert code == 1 and "directory" in one_error_line(err)


def test_info_without_a_world(run_cli, tmp_path):
    code, _, err = run_cli("info", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no world at" in one_error_line(err) and "fyp-tui seed" in err


def test_info_on_a_corrupt_file(run_cli, tmp_path):
    p = tmp_path / "junk.db"
    p.write_bytes(b"\x00garbage" * 1000)
    code, _, err = run_cli("info", "--db", str(p))
    assert code == 1 and "corrupt" in one_error_line(err)


def test_info_on_another_sqlite_database(run_cli, tmp_path):
    p = str(tmp_path / "other.db")
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.close()
    code, _, err = run_cli("info", "--db", p)
    assert code == 1 and "not a fyp-tui world" in one_error_line(err)


def test_info_on_a_newer_schema(run_cli, tiny_db):
    con = sqlite3.connect(tiny_db)
    con.execute(f"UPDATE world_meta SET schema_version = {SCHEMA_VERSION + 5}")
    con.commit()
    con.close()
    code, _, err = run_cli("info", "--db", tiny_db)
    assert code == 1 and "newer than this fyp-tui" in one_error_line(err)


def test_seed_over_a_world_in_use(run_cli, tiny_db):
    with world_held_elsewhere(tiny_db):
        code, _, err = run_cli("seed", "--scenario", "tiny", "--db", tiny_db, "--force", "-q")
        assert code == 1 and "in use by another fyp-tui process" in one_error_line(err)
        code, out, _ = run_cli("info", "--json", "--db", tiny_db)  # reading needs no lock
        assert code == 0 and json.loads(out)["scenario"] == "tiny"


def test_real_entry_point_prints_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fyp_tui", "info", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert one_error_line(proc.stderr).endswith("(run `fyp-tui seed` to create one)")


def test_seed_where_no_file_can_be_made(run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = run_cli("seed", "--scenario", "tiny", "--db", str(blocker / "w.db"), "-q")
    assert code == 1 and "cannot create" in one_error_line(err)
