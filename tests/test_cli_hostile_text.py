"""World strings that hold terminal escapes reach no terminal raw through the CLI.

A caption, handle, topic, scenario name or description, device name or bot name
may carry ``\\x1b]0;PWNED\\x07`` (retitles the terminal), ``\\x1b[2J`` (clears it),
an 8-bit CSI ``\\x9b`` or a bidi override; every CLI output shows them as escapes.
(Issue 13, item 3: each test failed before the fix.)"""

from __future__ import annotations

import json
import sqlite3

import pytest

from fyp_tui.text import clip, json_safe, printable

TITLE = "\x1b]0;PWNED\x07"
CLEAR = "\x1b[2J"
HOSTILE = f"a{TITLE}b{CLEAR}c\x9b31md\u202ee\x00f\rg\nh"
#: what no output may contain raw
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\x00", "\r")


def assert_clean(*texts: str) -> None:
    for text in texts:
        for ch in RAW:
            assert ch not in text, f"raw {ch!r} in output: {text!r}"


# -- the helper ----------------------------------------------------------------------------------
def test_printable_escapes_controls_and_keeps_text():
    assert printable(HOSTILE) == "a\\x1b]0;PWNED\\x07b\\x1b[2Jc\\x9b31md\\u202ee\\x00f\\x0dg\nh"
    assert printable(HOSTILE, one_line=True).endswith("g\\x0ah")
    kept = "Receita fácil 🔥 ❤️ 日本語 привет\tx\ny"
    assert printable(kept) == kept
    assert printable(42) == "42"


def test_json_safe_is_the_same_value_with_nothing_raw():
    value = {"caption": HOSTILE + "\x7f\u2028"}
    dumped = json_safe(json.dumps(value, ensure_ascii=False))
    assert_clean(dumped)
    assert "\x7f" not in dumped and "\u2028" not in dumped
    assert json.loads(dumped) == value


def test_clip_keeps_short_text_and_cuts_long_text():
    assert clip("abc", 5) == "abc"
    assert clip("a" * 5000, 10) == "a" * 9 + "…"


# -- every output path -------------------------------------------------------------------------
@pytest.fixture
def hostile_db(tiny_db: str) -> str:
    """The tiny world with escapes in a caption, a handle, a topic, the scenario name
    and description, and a device name."""
    c = sqlite3.connect(tiny_db)
    try:
        c.execute("UPDATE video SET caption = ? WHERE id = 0", (HOSTILE,))
        c.execute(
            "UPDATE creator SET handle = ? WHERE id = (SELECT creator_id FROM video WHERE id = 0)",
            ("h" + TITLE + "\x9b2J\u202e",),
        )
        c.execute("UPDATE topic SET name = ? WHERE id = 0", ("t" + CLEAR,))
        c.execute("UPDATE device SET name = ? WHERE id = 0", ("d" + TITLE,))
        row = c.execute("SELECT settings_json FROM world_meta").fetchone()
        settings = json.loads(row[0])
        settings["description"] = HOSTILE
        c.execute("UPDATE world_meta SET scenario = ?, settings_json = ?", ("s" + TITLE, json.dumps(settings)))
        c.commit()
    finally:
        c.close()
    return tiny_db


@pytest.mark.parametrize(
    "args",
    [
        ("info",),
        ("info", "--json"),
        ("explain", "0"),
        ("explain", "0", "--json"),
        ("export", "videos", "--format", "json"),
    ],
    ids=lambda a: " ".join(a),
)
def test_world_strings_are_escaped_in_every_output(run_cli, hostile_db, args):
    code, out, err = run_cli(*args, "--db", hostile_db)
    assert code == 0, err
    assert_clean(out, err)
    if "--json" in args or "json" in args:
        json.loads(out)  # still JSON, the same values
    else:
        assert "\\x1b" in out


def test_info_shows_the_scenario_name_and_description_escaped(run_cli, hostile_db):
    code, out, err = run_cli("info", "--db", hostile_db)
    assert code == 0, err
    assert "s\\x1b]0;PWNED\\x07" in out and "a\\x1b]0;PWNED\\x07b" in out
    assert "d\\x1b]0;PWNED\\x07" in out  # device name


def test_explain_json_keeps_the_caption_value(run_cli, hostile_db):
    code, out, _ = run_cli("explain", "0", "--json", "--db", hostile_db)
    assert code == 0
    assert json.loads(out)["detail"]["caption"] == HOSTILE


def test_simulate_report_escapes_handles_and_titles(run_cli, hostile_db):
    c = sqlite3.connect(hostile_db)
    c.execute("UPDATE creator SET handle = 'x' || id || ?", (TITLE,))
    c.execute("UPDATE sound SET title = 'x' || id || ?", (CLEAR,))
    c.commit()
    c.close()
    code, out, err = run_cli("simulate", "-q", "--hours", "1", "--db", hostile_db)
    assert code == 0, err
    assert_clean(out, err)
    assert "\\x1b]0;PWNED\\x07" in out


def test_audit_escapes_bot_names(run_cli, hostile_db, tmp_path):
    bots = tmp_path / "bots.toml"
    bots.write_text('[[bot]]\nname = "evil\\u001b]0;PWNED\\u0007\\u009b2J"\nvideos = 3\n')
    code, out, err = run_cli("audit", "--bots", str(bots), "--db", hostile_db)
    assert code == 0, err
    assert_clean(out, err)
    assert "evil\\x1b]0;PWNED\\x07\\x9b2J" in out
    code, out, err = run_cli("audit", "--json", "--bots", str(bots), "--db", hostile_db)
    assert code == 0, err
    assert_clean(out, err)
    assert json.loads(out)["bots"][0]["name"] == "evil\x1b]0;PWNED\x07\x9b2J"


def test_seed_summary_and_errors_escape_scenario_text(run_cli, tmp_path):
    sc = tmp_path / "evil.toml"
    sc.write_text(
        'name = "n\\u001b]0;PWNED\\u0007"\n[world]\nn_videos = 20\nn_viewers = 20\nn_creators = 5\nn_sounds = 5\nvocab_size = 10\n'
    )
    code, out, err = run_cli("seed", "-q", "--scenario", str(sc), "--db", str(tmp_path / "w.db"))
    assert code == 0, err
    assert_clean(out, err)
    # an error quoting the existing world's scenario name
    code, out, err = run_cli("seed", "-q", "--scenario", str(sc), "--db", str(tmp_path / "w.db"))
    assert code == 1
    assert_clean(out, err)
    assert len(err.strip().splitlines()) == 1


def test_export_csv_is_exact_to_a_pipe_and_escaped_on_a_terminal(run_cli, hostile_db, monkeypatch):
    code, out, _ = run_cli("export", "videos", "--db", hostile_db)
    assert code == 0
    assert "h" + TITLE + "\x9b2J\u202e" in out  # data to a pipe: exact (the creator's handle)

    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    code, out, _ = run_cli("export", "videos", "--db", hostile_db)
    assert code == 0
    assert_clean(out)
    assert "\\x1b]0;PWNED\\x07" in out


def test_export_uses_no_click_stream_helper_deprecated_in_click_9(run_cli, hostile_db, monkeypatch):
    # Click 8.5 deprecates click.get_text_stream (removed in Click 9): act as 8.5 does
    import warnings

    import click

    with warnings.catch_warnings():  # (Click 8.5 itself warns on the lookup: not ours)
        warnings.simplefilter("ignore", DeprecationWarning)
        real = click.get_text_stream

        def deprecated(*a, **k):
            warnings.warn("'get_text_stream' is deprecated and will be removed in Click 9.0.", DeprecationWarning, 2)
            return real(*a, **k)

        monkeypatch.setattr(click, "get_text_stream", deprecated)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for fmt in ("csv", "json"):
            code, out, err = run_cli("export", "videos", "--db", hostile_db, "--format", fmt)
            assert code == 0, err
            assert out
