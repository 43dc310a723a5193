"""`fyp-tui explain` and `fyp-tui audit` end to end on a seeded tiny world."""

from __future__ import annotations

import json

import pytest


def test_explain_prints_contributions_and_tier(run_cli, tiny_db):
    code, out, err = run_cli("explain", "5", "--db", tiny_db)
    assert code == 0, err
    assert "observed engagement" in out and "tier 0" in out and "impressions" in out


def test_explain_json(run_cli, tiny_db):
    code, out, err = run_cli("--db", tiny_db, "explain", "7", "--json", "--profile", "ann")
    assert code == 0, err
    d = json.loads(out)
    assert d["video"] == 7 and d["profile"] == "ann" and d["profile_exists"] is False
    for key in (
        "score",
        "contributions",
        "predicted",
        "tier",
        "budget",
        "budget_progress",
        "bar",
        "distance_to_bar",
        "first_viewer",
        "detail",
    ):
        assert key in d
    assert abs(sum(c["value"] for c in d["contributions"]) - d["score"]) < 1e-9
    # a fresh world: no views in the tier yet, so no finite bound (null, not -Infinity)
    assert d["tier_lcb"] is None and d["distance_to_bar"] is None and d["bar"] is not None
    assert d["detail"]["id"] == 7 and "caption" in d["detail"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("explain", "999999"), 2, "no video with id 999999"),
        (("explain", "abc"), 2, "'abc' is not a valid integer"),
        (("audit", "--bots", "/nonexistent/bots.toml"), 2, "no bot file"),
        (("audit", "--videos", "0"), 2, "--videos"),
    ],
)
def test_errors_are_one_line(run_cli, tiny_db, args, code, needle):
    got, out, err = run_cli(*args, "--db", tiny_db)
    assert got == code
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_world_is_one_line(run_cli, tmp_path):
    got, _out, err = run_cli("audit", "--db", str(tmp_path / "none.db"))
    assert got != 0 and "no world" in err and len(err.strip().splitlines()) == 1


def test_audit_json_and_the_world_is_unchanged(run_cli, tiny_db, tmp_path):
    from sqlalchemy import text

    from fyp_tui.store.db import make_engine

    def snapshot():
        eng = make_engine(tiny_db if "://" in tiny_db else f"sqlite:///{tiny_db}")
        with eng.connect() as c:
            row = tuple(c.execute(text("SELECT SUM(views), SUM(likes), COUNT(*) FROM video")).one())
            inter = c.execute(text("SELECT COUNT(*) FROM interaction")).scalar()
            clock = c.execute(text("SELECT clock FROM world_meta")).scalar()
        eng.dispose()
        return row, inter, clock

    before = snapshot()
    bots = tmp_path / "bots.toml"
    bots.write_text('[[bot]]\nname = "dancer"\nvideos = 50\nlinger = ["dance"]\n[[bot]]\nname = "ctl"\n')
    code, out, err = run_cli("audit", "--db", tiny_db, "--bots", str(bots), "--videos", "30", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert [b["name"] for b in d["bots"]] == ["dancer", "ctl"]
    assert all(b["videos"] == 30 for b in d["bots"])
    assert snapshot() == before


def test_audit_text_with_default_bots(run_cli, tiny_db):
    code, out, err = run_cli("audit", "--db", tiny_db, "--videos", "25")
    assert code == 0, err
    assert "cooking-lurker" in out and "control" in out and "entropy" in out
