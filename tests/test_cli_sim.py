"""``fyp-tui simulate`` and ``fyp-tui export videos``."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from fyp_tui.cli import (
    cli,
    sim,  # noqa: F401  (registers the commands)
)


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_simulate_json_report_and_checkpoint(tiny_db):
    r = invoke("simulate", "--db", tiny_db, "--hours", "6", "--json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for key in ("impressions", "wall_seconds", "impressions_per_second", "funnel", "slices", "top_videos", "trending"):
        assert key in d
    assert d["impressions"] > 0 and d["clock_end"] == pytest.approx(6.0)
    assert [f["tier"] for f in d["funnel"]] == list(range(len(d["funnel"])))
    assert set(d["slices"]) == {"random", "targeted"}
    assert set(d["trending"]) == {"sounds", "hashtags"}
    # checkpointed: the next run starts where this one ended
    d2 = json.loads(invoke("simulate", "--db", tiny_db, "--hours", "1", "--json", "-q").output)
    assert d2["clock_start"] == pytest.approx(6.0)


def test_simulate_hourly_rows_and_step_minutes(tiny_db):
    r = invoke("simulate", "--db", tiny_db, "--hours", "3", "--step-minutes", "20", "--json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["steps"] == 9
    hourly = d["hourly"]
    assert [h["hour"] for h in hourly] == [1, 2, 3]
    for h in hourly:
        assert {"hour", "impressions", "uploads", "promoted", "stalled", "live", "bars"} <= set(h)
        assert len(h["bars"]) == len(d["funnel"]) - 1  # one bar per bounded tier
        assert h["promoted"] == sum(h["promoted_by_tier"]) and h["live"] == sum(h["live_by_tier"])
    # the hours add up to the run
    assert sum(h["impressions"] for h in hourly) == d["impressions"]
    assert sum(h["uploads"] for h in hourly) == d["uploads"]
    assert sum(h["promoted"] for h in hourly) == d["events"]["promoted"]
    assert hourly[-1]["live"] == sum(f["active"] for f in d["funnel"])
    # a partial last hour is a row of its own
    d = json.loads(invoke("simulate", "--db", tiny_db, "--hours", "1.5", "--json", "-q").output)
    assert [h["hour"] for h in d["hourly"]] == [1, 2]


@pytest.mark.parametrize("bad", ["0", "-5", "nan", "abc", "100000"])
def test_bad_step_minutes_are_one_line(tiny_db, bad):
    r = CliRunner().invoke(cli, ["simulate", "--db", tiny_db, "--step-minutes", bad, "-q"])
    assert r.exit_code == 2 and "--step-minutes" in r.output and "Traceback" not in r.output


def test_same_world_same_seed_same_report(tiny_db, tmp_path):
    other = str(tmp_path / "copy.db")
    shutil.copy(tiny_db, other)
    a = json.loads(invoke("simulate", "--db", tiny_db, "--hours", "4", "--seed", "5", "--json", "-q").output)
    b = json.loads(invoke("simulate", "--db", other, "--hours", "4", "--seed", "5", "--json", "-q").output)
    for d in (a, b):
        d.pop("wall_seconds"), d.pop("impressions_per_second")
    assert a == b
    c = json.loads(invoke("simulate", "--db", tiny_db, "--hours", "4", "--seed", "5", "--json", "-q").output)
    assert c["clock_start"] == pytest.approx(4.0)


def test_simulate_text_report(tiny_db):
    r = invoke("simulate", "--db", tiny_db, "--hours", "2", "-q")
    assert r.exit_code == 0
    for words in ("impressions", "tier funnel", "engagement per slice", "random", "targeted", "top videos", "trending"):
        assert words in r.output


def test_simulate_errors_are_one_line(tmp_path, capsys):
    from fyp_tui.cli import main

    with pytest.raises(SystemExit) as e:
        main(["simulate", "--db", str(tmp_path / "missing.db"), "-q"])
    assert e.value.code != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("fyp-tui: error:") and "\n" not in err
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--hours", "-3", "-q"])
    assert e.value.code != 0


def test_export_videos_csv_and_json(tiny_db):
    invoke("simulate", "--db", tiny_db, "--hours", "3", "-q")
    r = invoke("export", "videos", "--db", tiny_db)
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.output)))
    for col in ("video_id", "creator", "topic", "tier", "views", "likes", "shares", "completion_rate", "quality"):
        assert col in rows[0]
    assert [int(x["video_id"]) for x in rows] == list(range(len(rows)))
    assert sum(int(x["views"]) for x in rows) > 0
    assert all(0.0 <= float(x["quality"]) <= 1.0 and 0.0 <= float(x["completion_rate"]) <= 1.0 for x in rows)
    j = json.loads(invoke("export", "videos", "--db", tiny_db, "--format", "json").output)
    assert len(j) == len(rows) and j[0]["video_id"] == 0 and isinstance(j[0]["creator"], str)
    assert invoke("export", "videos", "--db", tiny_db, "--format", "xml").exit_code != 0
