"""Odd input that used to end as an internal error (exit 70) is one line, exit 1 or 2,
and leaves the world as it was. (Issue 13, item 7: each case failed before the fix.)"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

LONG = "a" * 300
COMMANDS = [
    ("seed", "-q", "--scenario", "tiny"),
    ("info",),
    ("simulate", "-q", "--hours", "0.5"),
    ("export", "videos"),
    ("explain", "0"),
    ("audit", "--videos", "2"),
]
IDS = [c[0] for c in COMMANDS]


def one_line(code: int, err: str, codes=(1, 2)) -> str:
    assert code in codes, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert lines[0].startswith("fyp-tui: error: ")
    return lines[0]


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def odd_dbs(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "file").write_text("x")
    return {
        "name over 255 bytes": str(tmp_path / (LONG + ".db")),
        "name too long for its lock": str(tmp_path / ("b" * 240 + ".db")),
        "component over 255 bytes": str(tmp_path / LONG / "w.db"),
        "~nouser": "~nouser-fyp-tui-test/x.db",
        "sqlite URL with ~nouser": "sqlite:///~nouser-fyp-tui-test/x.db",
        "symlink loop": str(tmp_path / "loop1"),
        "NUL in a URL": "sqlite:///%00",
        "NUL in a path": str(tmp_path / "a\0b.db"),
        "under a file": str(tmp_path / "file" / "w.db"),
        "5,000 characters": "c" * 5000,
    }


CASES = [
    "name over 255 bytes",
    "name too long for its lock",
    "component over 255 bytes",
    "~nouser",
    "sqlite URL with ~nouser",
    "symlink loop",
    "NUL in a URL",
    "NUL in a path",
    "under a file",
    "5,000 characters",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_a_db_no_world_can_live_at_is_one_line(run_cli, odd_dbs, tmp_path, case, args):
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_cli(*args, "--db", odd_dbs[case])
    one_line(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made


def test_seed_into_an_in_memory_database_is_refused(run_cli):
    for url in ("sqlite://", "sqlite:///:memory:"):
        code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", url)
        assert "in-memory" in one_line(code, err)


@pytest.mark.parametrize(
    "value", ["d" * 5000, "d" * 5000 + ".toml", "x/" * 2500, "~nouser-fyp-tui-test/s.toml", "a\x1b[2Jb"]
)
def test_odd_scenario_values(run_cli, tmp_path, value):
    code, _, err = run_cli("seed", "-q", "--scenario", value, "--db", str(tmp_path / "w.db"))
    line = one_line(code, err, codes=(2,))
    assert len(line) < 300 and "\x1b" not in line
    assert not (tmp_path / "w.db").exists()


@pytest.mark.parametrize("value", ["e" * 5000, "~nouser-fyp-tui-test/b.toml", "/dev/zero", "fifo"])
def test_odd_bots_values(run_cli, tiny_db, tmp_path, value):
    if value == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs mkfifo")
        value = str(tmp_path / "fifo")
        os.mkfifo(value)  # reading it used to wait for ever
    before = digest(tiny_db)
    code, _, err = run_cli("audit", "--bots", value, "--db", tiny_db)
    line = one_line(code, err, codes=(2,))
    assert len(line) < 300
    assert digest(tiny_db) == before


def test_a_bot_file_over_a_megabyte_is_refused(run_cli, tiny_db, tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    code, _, err = run_cli("audit", "--bots", str(big), "--db", tiny_db)
    assert "bytes" in one_line(code, err, codes=(2,))


NESTED = "a = " + "[" * 5000 + "]" * 5000 + "\n"
NESTED_TABLE = "a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n"


@pytest.mark.parametrize("text", [NESTED, NESTED_TABLE], ids=["arrays", "inline tables"])
def test_toml_nested_5000_deep(run_cli, tiny_db, tmp_path, text):
    f = tmp_path / "deep.toml"
    f.write_text(text)
    code, _, err = run_cli("seed", "-q", "--scenario", str(f), "--db", str(tmp_path / "w.db"))
    assert "nested too deeply" in one_line(code, err, codes=(2,))
    before = digest(tiny_db)
    code, _, err = run_cli("audit", "--bots", str(f), "--db", tiny_db)
    assert "nested too deeply" in one_line(code, err, codes=(2,))
    assert digest(tiny_db) == before


SMALL = "n_videos = 20\nn_viewers = 20\nn_creators = 5\nn_sounds = 5\nvocab_size = 10\n"


@pytest.mark.parametrize(
    "key",
    [
        "quality_noise",
        "duration_sigma",
        "activity_sigma",
        "like_propensity_sigma",
        "topic_skew",
        "pref_noise",
        "english_share",
    ],
)
def test_minus_zero_is_zero(run_cli, tmp_path, key):
    f = tmp_path / "s.toml"
    f.write_text(f"[world]\n{SMALL}{key} = -0.0\n")
    code, _, err = run_cli("seed", "-q", "--scenario", str(f), "--db", str(tmp_path / "w.db"))
    assert code == 0, err


def test_more_devices_than_a_world_can_hold_is_refused_at_seed(run_cli, tmp_path):
    devices = ", ".join(f'"d{i}"' for i in range(129))
    weights = ", ".join("1" for _ in range(129))
    f = tmp_path / "s.toml"
    f.write_text(f"[world]\n{SMALL}devices = [{devices}]\ndevice_weights = [{weights}]\n")
    code, _, err = run_cli("seed", "-q", "--scenario", str(f), "--db", str(tmp_path / "w.db"))
    assert "at most 128" in one_line(code, err, codes=(2,))
    assert not (tmp_path / "w.db").exists()


def test_settings_json_nested_5000_deep_is_a_damaged_world(run_cli, tiny_db):
    import sqlite3

    c = sqlite3.connect(tiny_db)
    c.execute("UPDATE world_meta SET settings_json = ?", ("[" * 5000 + "]" * 5000,))
    c.commit()
    c.close()
    for args in COMMANDS[1:]:
        code, _, err = run_cli(*args, "--db", tiny_db)
        assert "corrupt" in one_line(code, err)


# -- a file that is no world is left as it was (found by tests/test_fuzz.py) ---------------------
@pytest.fixture
def foreign_files(tmp_path: Path) -> list[Path]:
    """An empty file and someone's own SQLite database (rollback journal, not WAL)."""
    import sqlite3

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    other = tmp_path / "other.db"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE notes (body TEXT)")
    c.execute("INSERT INTO notes VALUES ('mine')")
    c.commit()
    c.close()
    return [empty, other]


@pytest.mark.parametrize(
    "args",
    [
        ("info",),
        ("info", "--json"),
        ("export", "videos"),
        ("explain", "0"),
        ("audit", "--videos", "2"),
        ("seed", "-q", "--scenario", "tiny"),
        ("simulate", "-q", "--hours", "0.5"),
    ],
    ids=lambda a: " ".join(a),
)
def test_a_file_that_is_no_world_is_left_byte_for_byte(run_cli, foreign_files, args):
    """`info` or `simulate` on an empty file used to make it a SQLite database; on
    someone's own database they turned on WAL mode (the journal_mode pragma writes
    the header) before finding it was no world."""
    for f in foreign_files:
        before = f.read_bytes()
        code, _, err = run_cli(*args, "--db", str(f))
        one_line(code, err)
        assert f.read_bytes() == before, f.name


@pytest.mark.parametrize("column", ["topic.name", "sound.title", "creator.handle", "video.caption"])
def test_a_blob_where_text_belongs_is_a_corrupt_world(run_cli, tiny_db, column):
    """A BLOB in a name column loaded as bytes and failed later (``explain --json``:
    "not JSON-serialisable: bytes", an internal error)."""
    import sqlite3

    table, col = column.split(".")
    c = sqlite3.connect(tiny_db)
    c.execute(f"UPDATE {table} SET {col} = x'00ff' WHERE id = 0")
    c.commit()
    c.close()
    for args in (("explain", "0", "--json"), ("simulate", "-q", "--hours", "0.5"), ("audit", "--videos", "2")):
        code, _, err = run_cli(*args, "--db", tiny_db)
        assert "is not text" in one_line(code, err)


@pytest.mark.parametrize(
    "values",
    [
        "knob = ''",
        "knob = 7",
        "state_json = '[1]'",
        'state_json = \'{"seen": "x"}\'',
        "country_id = 99",
        "created_at = 'x'",
    ],
)
def test_a_damaged_profile_is_one_line(run_cli, tiny_db, values):
    import sqlite3

    c = sqlite3.connect(tiny_db)
    c.execute(
        "INSERT INTO profile (name, created_at, onboarded, knob, state_json) VALUES ('me', '2024-01-01 00:00:00', 1, 0.3, '{}')"
    )
    c.execute(f"UPDATE profile SET {values}")
    c.commit()
    c.close()
    code, _, err = run_cli("explain", "0", "--db", tiny_db)
    assert code == 0 or "profile" in one_line(code, err)


@pytest.mark.parametrize("clock", [1e308, 1e10, -1.0])
def test_a_clock_out_of_range_is_a_corrupt_world(run_cli, tiny_db, clock):
    """``info`` on a clock of 1e308 hours failed formatting the day (NaN to int)."""
    import sqlite3

    c = sqlite3.connect(tiny_db)
    c.execute("UPDATE world_meta SET clock = ?", (clock,))
    c.commit()
    c.close()
    code, _, err = run_cli("info", "--db", tiny_db)
    assert "world_meta.clock" in one_line(code, err)


def test_simulate_on_no_world_leaves_no_lock_file_behind(run_cli, tmp_path):
    """`simulate --db typo.db` took the lock (making typo.db.lock) before finding no world."""
    code, _, err = run_cli("simulate", "-q", "--db", str(tmp_path / "typo.db"))
    assert "no world at" in one_line(code, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ("--profile", "", "info"),
        ("--profile", "  ", "explain", "0"),
        ("explain", "0", "--profile", ""),
        ("play", "--bot", "two-likes-one-share", "--cards", "1", "--profile", " "),
        ("--profile", ""),  # the app: refused before it takes the terminal
    ],
    ids=["group before info", "group before explain", "explain", "play", "app"],
)
def test_an_empty_profile_name_is_one_usage_line_everywhere(run_cli, tiny_db, argv):
    """``--profile ""`` (or blank) is refused by every command that takes it, with one
    line and exit 2, and the world is left as it was (issue 13, item 10: only the app
    reported it, from inside, with exit 1; explain fell back to 'me' silently)."""
    before = digest(tiny_db)
    code, out, err = run_cli(*argv, "--db", tiny_db)
    line = one_line(code, err, codes=(2,))
    assert "profile name must not be empty" in line
    assert digest(tiny_db) == before
