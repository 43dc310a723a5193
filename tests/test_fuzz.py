"""Fuzz drivers: hypothesis over CLI arguments, scenario files, bot files and damaged
worlds. Whatever comes in, ``fyp-tui`` ends with exit 0 (the input was valid), or
with exit 1 or 2 and one line on stderr: never the internal-error exit 70, never a
traceback, and a failing command leaves the world on disk as it was.

Every case runs the real entry point (:func:`fyp_tui.cli.main`) in-process on a
tiny world copied per case, so a case costs milliseconds. The examples are fixed
(``derandomize``) so CI runs the same corpus every time; set ``FYP_TUI_FUZZ=N`` to
run N times as many random examples locally (a deeper, different corpus). The
corpus sizes are in :data:`EXAMPLES` (issue 13: at least 1,000 in CI).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fyp_tui.cli import main
from fyp_tui.engine.params import EngineParams
from fyp_tui.seeding import size
from fyp_tui.seeding.scenario import WORLD_KEYS
from fyp_tui.seeding.vocab import COUNTRIES, TOPICS
from fyp_tui.store.schema import TABLE_COLUMNS

#: examples per driver in CI (their sum is the corpus: at least 1,000)
EXAMPLES = {"cli": 450, "scenario": 300, "bots": 150, "damaged": 150}
DEEP = int(os.environ.get("FYP_TUI_FUZZ", "0") or 0)


def fuzz_settings(driver: str):
    return settings(
        max_examples=EXAMPLES[driver] * max(DEEP, 1),
        derandomize=not DEEP,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


# =============================================================================================
# running the CLI and checking what it did
# =============================================================================================
_RUNNER = CliRunner()


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """``fyp-tui argv`` in-process: (exit code, stdout, stderr)."""
    with _RUNNER.isolation() as streams:
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = streams[0].getvalue().decode("utf-8", "replace")
        err = streams[1].getvalue().decode("utf-8", "replace")
    return code, out, err


def assert_clean_exit(argv: list[str], code: int, err: str) -> None:
    where = f"fyp-tui {' '.join(a[:60] for a in argv)!r}"
    assert "Traceback" not in err, f"{where}: traceback\n{err}"
    assert code != 70 and "internal error" not in err, f"{where}: {err.strip()}"
    assert code in (0, 1, 2), f"{where}: exit {code}: {err.strip()}"
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"{where}: {len(lines)} lines on stderr: {err!r}"
        assert lines[0].startswith("fyp-tui: error: "), f"{where}: {lines[0]!r}"
        assert "\x1b" not in err, f"{where}: a raw escape on stderr"


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


#: files a command may leave next to a world (SQLite's and the lock)
SIDE_FILES = re.compile(r".*(\.lock|-wal|-shm|-journal)$")


def world_files(d: Path) -> set[str]:
    return {p.name for p in d.iterdir() if not SIDE_FILES.match(p.name)}


@contextmanager
def case_dir(root: Path) -> Iterator[Path]:
    """A fresh, empty directory for one example, the current one while it runs (a
    generated relative --db lands there, not in the repository)."""
    d = root / "case"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    cwd = os.getcwd()
    os.chdir(d)
    try:
        yield d
    finally:
        os.chdir(cwd)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory, _tiny_db_template: Path) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(_tiny_db_template, root / "template.db")
    (root / "tiny.toml").write_text(TINY_TOML)
    return root


@pytest.fixture(autouse=True)
def _small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeding anything past a tiny world is refused by the size guard (fast, the
    same on every machine), so a generated size never builds for long."""
    monkeypatch.setattr(size, "available_bytes", lambda: 120 * size.MB)


TINY_TOML = """name = "micro"
[world]
n_topics = 3
n_creators = 5
n_videos = 30
n_viewers = 40
n_sounds = 5
hashtags_per_topic = 2
vocab_size = 10
countries = ["US"]
"""

# =============================================================================================
# value strategies
# =============================================================================================
ODD_TEXT = [
    "",
    " ",
    "-",
    "--",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "-0",
    "-0.0",
    "0",
    "1",
    "2",
    "0.5",
    "1e-300",
    "9" * 30,
    "-9" * 10,
    "0x10",
    "1_000",
    "１",
    "\x00",
    "a\x00b",
    "\x1b]0;PWNED\x07",
    "\x1b[2J",
    "\x9b2J",
    "\u202egnp",
    "a" * 5000,
    "~nouser-fuzz/x",
    "~",
    "%00",
    "%",
    "?",
    "*",
    ".",
    "..",
    "/",
    "//",
    "/dev/null",
    "/dev/zero",
    "/proc/self/mem",
    "sqlite://",
    "sqlite:///",
    "sqlite:///%00",
    "sqlite:///:memory:",
    "sqlite:///~nouser-fuzz/x.db",
    "postgresql://",
    "mysql://u:p@127.0.0.1:1/x",
    "foo://",
    "://",
    "file:x.db?mode=ro",
    "sqlite:///file:x?mode=ro&uri=true",
    "tiny",
    "demo",
    "me",
    "--help",
    "-h",
    "--version",
    "é",
    "🔥",
    "Ω" * 100,
    "\t",
    "\n",
    "a\nb",
    "\r\n",
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


def chance(n: int, k: int = 1) -> st.SearchStrategy[bool]:
    """True k times in n (hypothesis leans to an integer strategy's small values, and
    shrinks to the first of a sampled list: the usual case, False, comes first)."""
    return st.sampled_from([False] * (n - k) + [True] * k)


ODD = st.one_of(st.sampled_from(ODD_TEXT), TEXT)


def numbers(lo: float, hi: float, *, ints: bool) -> st.SearchStrategy[str]:
    """Command-line numbers: a few valid, the edges, and junk."""
    valid = st.integers(int(lo), int(hi)).map(str) if ints else st.floats(lo, hi, allow_nan=False).map(repr)
    edges = st.sampled_from(
        [str(lo), str(hi), str(lo - 1), str(hi + 1), "-1", "0", "1e3", "2.5", str(2**63), str(-(2**63) - 1)]
    )
    return st.one_of(valid, edges, ODD)


# =============================================================================================
# 1. CLI arguments
# =============================================================================================
COMMANDS = ("seed", "info", "simulate", "export", "explain", "audit")


def _opt(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([name]), values.map(lambda v: [name, v]), values.map(lambda v: [f"{name}={v}"]))


@st.composite
def cli_argv(draw, root: Path, d: Path) -> list[str]:
    world = str(d / "w.db")
    db = st.one_of(
        st.just(world),
        st.just(world),
        st.just(world),
        st.just(str(d / "new.db")),
        st.just(str(d)),
        st.just(str(d / "loop")),
        st.just(str(d / "fifo")),
        st.just(str(d / "link.db")),
        st.just(str(d / "file" / "x.db")),
        st.just(str(d / ("n" * 240 + ".db"))),
        ODD,
    )
    scenario = st.one_of(st.sampled_from(["tiny", str(root / "tiny.toml"), str(d / "nope.toml"), str(d), "large"]), ODD)
    bots = st.one_of(st.sampled_from([str(d / "bots.toml"), str(d / "fifo"), str(d), "/dev/zero"]), ODD)
    cmd = draw(st.sampled_from(COMMANDS + ("nope", "")))
    options: dict[str, list[st.SearchStrategy[list[str]]]] = {
        "seed": [
            _opt("--scenario", scenario),
            _opt("--seed", numbers(0, 2**63 - 1, ints=True)),
            _opt("--db", db),
            st.just(["--force"]),
            st.just(["-q"]),
        ],
        "info": [_opt("--db", db), st.just(["--json"])],
        "simulate": [
            _opt("--db", db),
            _opt("--hours", numbers(0.001, 2, ints=False)),
            _opt("--seed", numbers(0, 2**63 - 1, ints=True)),
            st.just(["--json"]),
            st.just(["-q"]),
        ],
        "export": [
            st.sampled_from([["videos"], ["videos"], ["nope"], []]),
            _opt("--format", st.sampled_from(["csv", "json", "xml", ""])),
            _opt("--db", db),
        ],
        "explain": [
            numbers(-1, 500, ints=True).map(lambda v: [v]),
            _opt("--profile", ODD),
            _opt("--db", db),
            st.just(["--json"]),
        ],
        "audit": [
            _opt("--bots", bots),
            _opt("--seed", numbers(0, 2**63 - 1, ints=True)),
            _opt("--db", db),
            st.just(["--json"]),
        ],
        "nope": [ODD.map(lambda v: [v])],
        "": [ODD.map(lambda v: [v])],
    }
    args: list[str] = []
    for opt in options[cmd]:
        if draw(st.booleans()):
            args += draw(opt)
    if cmd == "audit":  # the bots scroll a few videos, never hundreds
        args += ["--videos", draw(st.sampled_from(["1", "2", "0", "-1", "100001", "x", "1.5", ""]))]
    if cmd == "export" and args[:1] != ["videos"]:
        args = [draw(st.sampled_from(["videos", "nope", "--help"])), *args]
    if draw(chance(10)):  # a stray argument somewhere
        args.insert(draw(st.integers(0, len(args))), draw(ODD))
    head: list[str] = []
    if draw(chance(5)):
        head += ["--db", draw(db)]
    if draw(chance(5)):
        head += ["--profile", draw(ODD)]
    if draw(chance(20)):
        head.append(draw(st.sampled_from(["--help", "--version", "-h"])))
    return [*head, cmd or draw(ODD.filter(lambda v: v != "--")), *args]  # `fyp-tui --` opens the app


def _cli_case_dir(root: Path, d: Path) -> None:
    shutil.copyfile(root / "template.db", d / "w.db")
    (d / "file").write_text("not a directory")
    (d / "bots.toml").write_text('[[bot]]\nname = "b"\nvideos = 2\nlinger = ["comedy"]\n')
    (d / "loop").symlink_to(d / "loop2")
    (d / "loop2").symlink_to(d / "loop")
    (d / "link.db").symlink_to(d / "w.db")
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "fifo")


def test_fuzz_cli_arguments(fuzz_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fyp_tui.cli import app

    opened: list[list[str]] = []
    current: list[list[str]] = [[]]
    # with no command the app would open: a generated argv must never get there
    monkeypatch.setattr(app, "run_app", lambda **kw: opened.append(current[0]))

    @fuzz_settings("cli")
    @given(st.data())
    def case(data: st.DataObject) -> None:
        with case_dir(fuzz_root) as d:
            _cli_case_dir(fuzz_root, d)
            argv = data.draw(cli_argv(fuzz_root, d), label="argv")
            current[0] = argv
            before = digest(d / "w.db")
            code, _, err = invoke(argv)
            assert_clean_exit(argv, code, err)
            writes = {"seed", "simulate"} & set(argv)
            if code or not writes:
                assert digest(d / "w.db") == before, f"{argv!r} changed the world (exit {code})"

    case()
    assert not opened, f"an argv opened the app: {opened}"


# =============================================================================================
# TOML writing (for generated scenario and bot files)
# =============================================================================================
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(k: str) -> str:
    return k if _BARE.match(k) else toml_str(k)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_doc(d: dict) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in d.items())


SCALAR = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.booleans(),
    TEXT,
    st.sampled_from(ODD_TEXT),
    st.dates(),
)
ANY = st.recursive(
    SCALAR, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(TEXT, c, max_size=3)), max_leaves=6
)

#: largest valid value generated for a size key (the guard refuses the upper bounds)
SMALL = {"n_creators": 8, "n_videos": 40, "n_viewers": 60, "n_sounds": 8, "vocab_size": 16}


def world_value(key: str) -> st.SearchStrategy[Any]:
    spec = WORLD_KEYS[key]
    lo, hi = spec.lo, spec.hi
    if spec.kind == "int":
        top = SMALL.get(key, hi)
        valid = st.integers(int(lo), int(min(top, hi)))
        edges = st.sampled_from([int(lo) - 1, int(hi), int(hi) + 1, 0, -1, 2**63 - 1, -(2**63)])
        return st.one_of(valid, valid, edges, ANY)
    if spec.kind == "float":
        valid = st.floats(lo, hi, allow_nan=False)
        edges = st.sampled_from(
            [lo, hi, -0.0, 0.0, math.nan, math.inf, -math.inf, 5e-324, 1e308, -1e308, lo - 1e-9, hi * 1.5 + 1]
        )
        return st.one_of(valid, valid, edges, ANY)
    if key == "countries":
        return st.one_of(st.lists(st.sampled_from([*COUNTRIES, "XX", "us", "", "RU"]), max_size=4), ANY)
    if key == "devices":
        return st.one_of(
            st.lists(st.one_of(TEXT, st.sampled_from(ODD_TEXT)), max_size=4),
            st.just([f"d{i}" for i in range(129)]),
            ANY,
        )
    # float_list
    item = st.one_of(st.floats(0, 10, allow_nan=False), st.floats(), st.sampled_from([-0.0, 1e308, 1e12]))
    return st.one_of(st.lists(item, max_size=4), st.just([1.0] * 129), ANY)


ENGINE_KEYS = sorted(k for k in EngineParams().to_dict())


@st.composite
def scenario_doc(draw) -> dict:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["name"] = draw(st.one_of(TEXT, st.sampled_from(ODD_TEXT), ANY))
    if draw(st.booleans()):
        doc["description"] = draw(st.one_of(TEXT, st.sampled_from(ODD_TEXT), ANY))
    if draw(st.booleans()):
        doc["seed"] = draw(st.one_of(st.integers(-5, 2**63 - 1), ANY))
    world_keys = draw(st.lists(st.sampled_from(sorted(WORLD_KEYS)), max_size=6, unique=True))
    world = {k: draw(world_value(k), label=k) for k in world_keys}
    # a valid world is small: sizes not drawn are the tiny ones, not the defaults
    base = {
        "n_creators": 5,
        "n_videos": 30,
        "n_viewers": 40,
        "n_sounds": 5,
        "vocab_size": 10,
        "n_topics": 3,
        "countries": ["US"],
    }
    doc["world"] = draw(st.one_of(st.just({**base, **world}), st.just({**base, **world}), ANY))
    if draw(chance(3)):
        keys = draw(st.lists(st.sampled_from([*ENGINE_KEYS, "nope"]), max_size=3, unique=True))
        doc["engine"] = draw(st.one_of(st.fixed_dictionaries({k: ANY for k in keys}), ANY))
    if draw(chance(10)):
        doc[draw(TEXT)] = draw(ANY)
    return doc


def damaged_text(draw, text: str) -> str | bytes:
    """The TOML as written, or broken in one of the ways a file on disk can be."""
    how = draw(st.sampled_from(["as-is"] * 6 + ["truncate", "bytes", "bom", "duplicate", "deep", "latin-1"]))
    if how == "truncate":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    if how == "bytes":
        return draw(st.binary(max_size=64))
    if how == "bom":
        return "\ufeff" + text
    if how == "duplicate":
        return text + text
    if how == "deep":
        n = draw(st.sampled_from([100, 998, 1000, 5000]))
        return text + "deep = " + "[" * n + "]" * n + "\n"
    if how == "latin-1":
        return text.encode("utf-8") + b'\nx = "\xe9"\n'
    return text


def test_fuzz_scenario_files(fuzz_root: Path) -> None:
    @fuzz_settings("scenario")
    @given(st.data())
    def case(data: st.DataObject) -> None:
        with case_dir(fuzz_root) as d:
            doc = data.draw(scenario_doc(), label="scenario")
            text = damaged_text(data.draw, toml_doc(doc) if isinstance(doc, dict) else str(doc))
            sc = d / "s.toml"
            sc.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
            argv = ["seed", "-q", "--scenario", str(sc), "--db", str(d / "w.db")]
            code, _, err = invoke(argv)
            assert_clean_exit(argv, code, err)
            if code:
                assert world_files(d) == {"s.toml"}, f"a failed seed left {world_files(d)}"
                return
            # a world that seeds can be used: described, simulated, explained
            for args in (["info"], ["simulate", "-q", "--hours", "0.25"], ["explain", "0"]):
                argv = [*args, "--db", str(d / "w.db")]
                code, _, err = invoke(argv)
                assert_clean_exit(argv, code, err)
                assert code == 0, f"seeded, then {args[0]} refused it: {err.strip()}\n{text!r}"

    case()


# =============================================================================================
# 3. bot files
# =============================================================================================
TOPIC_NAMES = list(TOPICS)[:12]  # the tiny world's topics


@st.composite
def bot_doc(draw) -> Any:
    def bot() -> dict:
        b: dict[str, Any] = {}
        if not draw(chance(10)):
            odd = st.one_of(TEXT, st.sampled_from(ODD_TEXT), ANY)
            b["name"] = draw(odd if draw(chance(6)) else st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True))
        if draw(chance(3)):
            b["videos"] = draw(
                st.one_of(st.integers(1, 3), st.sampled_from([0, -1, 100_001, 2**63 - 1, 1.5, True, "2"]), ANY)
            )
        else:  # a bot's own count (no --videos): keep it small
            b["videos"] = 2
        for key in ("country", "language"):
            if draw(chance(4)):
                b[key] = draw(
                    st.one_of(st.sampled_from(["US", "DE", "BR", "en", "de", "pt", "us", "XX", "", " "]), ANY)
                )
        topic = st.one_of(st.sampled_from(TOPIC_NAMES + ["Comedy", "nope", ""]), TEXT)
        for key in ("linger", "like", "share", "follow", "not_interested"):
            if draw(chance(3)):
                b[key] = draw(st.one_of(st.lists(topic, max_size=3), ANY))
        for key in ("watch_seconds", "knob"):
            if draw(chance(4)):
                b[key] = draw(
                    st.one_of(st.floats(), st.sampled_from([-0.0, 0, 1, 3600, 3601, math.nan, math.inf]), ANY)
                )
        if draw(chance(10)):
            b[draw(TEXT)] = draw(ANY)
        return b

    bots = [bot() for _ in range(draw(st.sampled_from([1, 2, 3, 0])))]
    doc: dict[str, Any] = {"bot": bots if not draw(chance(6)) else draw(ANY)}
    if draw(chance(10)):
        doc[draw(TEXT)] = draw(ANY)
    return doc


def test_fuzz_bot_files(fuzz_root: Path) -> None:
    @fuzz_settings("bots")
    @given(st.data())
    def case(data: st.DataObject) -> None:
        with case_dir(fuzz_root) as d:
            shutil.copyfile(fuzz_root / "template.db", d / "w.db")
            before = digest(d / "w.db")
            text = damaged_text(data.draw, toml_doc(data.draw(bot_doc(), label="bots")))
            f = d / "bots.toml"
            f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
            argv = ["audit", "--bots", str(f), "--db", str(d / "w.db"), *data.draw(st.sampled_from([[], ["--json"]]))]
            code, out, err = invoke(argv)
            assert_clean_exit(argv, code, err)
            assert digest(d / "w.db") == before, "an audit changed the world"
            if code == 0 and "--json" in argv:
                json.loads(out)

    case()


# =============================================================================================
# 4. damaged worlds
# =============================================================================================
SQL_VALUES = st.one_of(
    st.sampled_from(
        [None, -1, 0, 1, 2**63 - 1, -(2**63), 1e308, -1e308, 0.5, "", "x", "\x1b[2J", "[", "{}", "[]", "null"]
    ),
    st.binary(max_size=16),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False),
    TEXT,
)
TABLES = sorted(TABLE_COLUMNS)


@st.composite
def damage(draw) -> tuple[str, Any]:
    kind = draw(
        st.sampled_from(["cell", "column", "delete", "drop", "blob", "meta", "settings", "profile", "file", "mirror"])
    )
    if kind in ("cell", "column"):
        table = draw(st.sampled_from(TABLES))
        col = draw(st.sampled_from(TABLE_COLUMNS[table]))
        return kind, (table, col, draw(SQL_VALUES), draw(st.integers(0, 3000)))
    if kind == "delete":
        return kind, (
            draw(st.sampled_from(TABLES)),
            draw(st.sampled_from(["", "WHERE rowid % 2 = 0", "WHERE rowid = 1", "WHERE rowid > 10"])),
        )
    if kind == "drop":
        return kind, draw(st.sampled_from(TABLES))
    if kind == "blob":
        return kind, (draw(st.sampled_from(["data", "dtype", "shape"])), draw(SQL_VALUES), draw(st.integers(0, 40)))
    if kind == "meta":
        col = draw(st.sampled_from(TABLE_COLUMNS["world_meta"]))
        return kind, (col, draw(SQL_VALUES))
    if kind == "settings":
        return kind, draw(
            st.one_of(
                ANY.map(lambda v: json.dumps(v, default=str)),
                st.sampled_from(["[" * 5000 + "]" * 5000, "{", "", "null", '"x"', "1e999"]),
            )
        )
    if kind == "profile":
        state = draw(
            st.one_of(
                ANY.map(lambda v: json.dumps(v, default=str)),
                st.just('{"seen": [0, 1, 99999], "history": [-5]}'),
                st.just("{"),
            )
        )
        return kind, (draw(st.sampled_from(["me", "x"])), state, draw(SQL_VALUES), draw(SQL_VALUES))
    if kind == "file":
        return kind, (
            draw(st.sampled_from(["truncate", "flip", "append", "zero-page"])),
            draw(st.integers(0, 10**6)),
            draw(st.binary(min_size=1, max_size=8)),
        )
    return kind, draw(st.sampled_from(["delete", "garble-check"]))


def apply_damage(db: Path, kind: str, arg: Any) -> None:
    if kind == "file":
        how, at, data = arg
        raw = bytearray(db.read_bytes())
        at %= max(len(raw), 1)
        if how == "truncate":
            del raw[at:]
        elif how == "flip":
            raw[at : at + len(data)] = bytes(b ^ 0xFF for b in raw[at : at + len(data)])
        elif how == "append":
            raw += data * 100
        else:
            page = at // 4096 * 4096
            raw[page : page + 4096] = bytes(len(raw[page : page + 4096]))
        db.write_bytes(bytes(raw))
        return
    c = sqlite3.connect(db)
    try:
        c.execute("PRAGMA foreign_keys=OFF")
        if kind == "cell":
            table, col, value, row = arg
            c.execute(
                f'UPDATE "{table}" SET "{col}" = ? WHERE rowid = (SELECT rowid FROM "{table}" LIMIT 1 OFFSET ?)',
                (value, row % 50),
            )
        elif kind == "column":
            table, col, value, _ = arg
            c.execute(f'UPDATE "{table}" SET "{col}" = ?', (value,))
        elif kind == "delete":
            table, where = arg
            c.execute(f'DELETE FROM "{table}" {where}')
        elif kind == "drop":
            c.execute(f'DROP TABLE "{arg}"')
        elif kind == "blob":
            col, value, row = arg
            c.execute(
                f"UPDATE engine_state SET {col} = ? WHERE rowid = (SELECT rowid FROM engine_state LIMIT 1 OFFSET ?)",
                (value, row),
            )
        elif kind == "meta":
            col, value = arg
            c.execute(f'UPDATE world_meta SET "{col}" = ?', (value,))
        elif kind == "settings":
            c.execute("UPDATE world_meta SET settings_json = ?", (arg,))
        elif kind == "profile":
            name, state, country, knob = arg
            c.execute(
                "INSERT INTO profile (name, created_at, onboarded, country_id, language_id, knob, state_json) VALUES (?, '2024-01-01 00:00:00', 1, ?, 0, ?, ?)",
                (name, country, knob, state),
            )
        elif kind == "mirror":
            if arg == "delete":
                c.execute("DELETE FROM engine_state WHERE name LIKE 'mirror:%'")
            else:
                c.execute("UPDATE engine_state SET data = ? WHERE name = 'mirror:check'", (b'{"videos": 1}',))
        c.commit()
    except sqlite3.Error:
        pass  # a damage the schema itself refuses: the world keeps the others
    finally:
        c.close()


DAMAGED_COMMANDS = [
    ["info"],
    ["info", "--json"],
    ["export", "videos"],
    ["export", "videos", "--format", "json"],
    ["explain", "0"],
    ["explain", "7", "--json"],
    ["simulate", "-q", "--hours", "0.25"],
    ["audit", "--videos", "2"],
]


def test_fuzz_damaged_worlds(fuzz_root: Path) -> None:
    @fuzz_settings("damaged")
    @given(st.data())
    def case(data: st.DataObject) -> None:
        with case_dir(fuzz_root) as d:
            db = d / "w.db"
            shutil.copyfile(fuzz_root / "template.db", db)
            for kind, arg in data.draw(st.lists(damage(), min_size=1, max_size=3), label="damage"):
                apply_damage(db, kind, arg)
            before = digest(db)
            args = data.draw(st.sampled_from(DAMAGED_COMMANDS), label="command")
            argv = [*args, "--db", str(db)]
            code, _, err = invoke(argv)
            assert_clean_exit(argv, code, err)
            if code or args[0] != "simulate":
                assert digest(db) == before, f"{args[0]} changed a damaged world (exit {code})"

    case()


def test_the_corpus_is_at_least_a_thousand_cases():
    assert sum(EXAMPLES.values()) >= 1000
