"""The size guard: a scenario whose world will not fit in memory is refused in one
line before anything is built or written. (Issue 13, item 5: ``n_viewers =
50_000_000`` ran 76 s and reached 5.7 GB before "out of memory".)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fyp_tui.errors import TooBigError
from fyp_tui.seeding import size
from fyp_tui.seeding.scenario import load_scenario, parse_scenario

GB = 1 << 30


def world(**keys) -> dict:
    return parse_scenario({"world": keys}).world


def test_the_estimate_grows_with_every_size():
    base = size.estimate(world()).peak
    for key, value in (
        ("n_viewers", 1_000_000),
        ("n_topics", 40),
        ("n_videos", 1_000_000),
        ("n_creators", 100_000),
        ("n_sounds", 100_000),
    ):
        assert size.estimate(world(**{key: value})).peak > base, key


def test_the_built_in_scenarios_are_estimated_in_order():
    tiny, demo, large = (size.estimate(load_scenario(s).world).peak for s in ("tiny", "demo", "large"))
    assert tiny < demo < large < 2 * GB  # large: about 0.8 GB measured (README, Guarantees)


def test_available_memory_is_read_on_linux():
    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo")
    free = size.available_bytes()
    assert free is not None and free > 0


def test_check_fits_refuses_in_one_line(monkeypatch):
    monkeypatch.setattr(size, "available_bytes", lambda: 8 * GB)
    huge = world(n_viewers=50_000_000)
    with pytest.raises(TooBigError) as exc:
        size.check_fits(huge, name="huge")
    msg = str(exc.value)
    assert "\n" not in msg and "50,000,000 viewers" in msg and "8.0 GB is available" in msg
    assert size.check_fits(world(), name="ok").peak < 8 * GB
    monkeypatch.setattr(size, "available_bytes", lambda: None)  # unknown: nothing refused
    size.check_fits(huge, name="huge")


def test_seed_refuses_a_world_too_big_before_any_file(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(size, "available_bytes", lambda: 4 * GB)
    sc = tmp_path / "huge.toml"
    sc.write_text("[world]\nn_viewers = 50_000_000\n")
    db = tmp_path / "new-dir" / "w.db"
    code, out, err = run_cli("seed", "-q", "--scenario", str(sc), "--db", str(db))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "needs about" in lines[0] and "is available" in lines[0]
    assert not (tmp_path / "new-dir").exists()  # no directory, world or lock file


def test_seed_with_force_keeps_the_old_world_when_the_new_one_is_too_big(run_cli, tiny_db, monkeypatch):
    monkeypatch.setattr(size, "available_bytes", lambda: 100 << 20)
    before = Path(tiny_db).read_bytes()
    code, _, err = run_cli("seed", "-q", "--force", "--scenario", "large", "--db", tiny_db)
    assert code == 1 and "needs about" in err
    assert Path(tiny_db).read_bytes() == before


@pytest.mark.skipif(sys.platform != "linux", reason="ulimit -v as a real limit")
def test_a_real_address_space_limit_is_honoured(tmp_path):
    """Under ``ulimit -v`` 700 MB, ``large`` (about 0.8 GB) is refused; ``tiny`` seeds."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (700 << 20, resource.RLIM_INFINITY))

    import fyp_tui

    root = str(Path(fyp_tui.__file__).parent.parent)  # this checkout's fyp_tui, wherever pytest runs
    env = {**os.environ, "FYP_TUI_DATA_DIR": str(tmp_path / "data"), "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": root}
    env.pop("FYP_TUI_DB", None)

    def seed(scenario: str) -> subprocess.CompletedProcess:
        cmd = [
            sys.executable,
            "-m",
            "fyp_tui",
            "seed",
            "-q",
            "--scenario",
            scenario,
            "--db",
            str(tmp_path / f"{scenario}.db"),
        ]
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, env=env, preexec_fn=limit)

    big = seed("large")
    assert big.returncode == 1 and "needs about" in big.stderr, big.stderr
    assert not (tmp_path / "large.db").exists()
    small = seed("tiny")
    assert small.returncode == 0, small.stderr


def test_simulate_refuses_a_world_too_big_before_loading_it(run_cli, tiny_db, monkeypatch):
    """Issue 13: a world that will not fit is refused in one line before ``simulate``
    loads it (the seed-time guard cannot see a world grown since, or moved to a
    smaller machine); the world is left as it was. Enough memory: it simulates."""
    from fyp_tui.store import load

    loaded: list[str] = []
    real = load.read_world

    def spy(*a, **k):
        loaded.append("load")
        return real(*a, **k)

    monkeypatch.setattr(load, "read_world", spy)
    monkeypatch.setattr("fyp_tui.store.io.read_world", spy)
    before = Path(tiny_db).read_bytes()
    monkeypatch.setattr(size, "available_bytes", lambda: 50 << 20)  # below the interpreter's own base
    code, out, err = run_cli("simulate", "-q", "--hours", "1", "--db", tiny_db)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "needs about" in lines[0] and "2,500 viewers" in lines[0] and "is available" in lines[0]
    assert loaded == []  # refused before the load
    assert Path(tiny_db).read_bytes() == before
    monkeypatch.setattr(size, "available_bytes", lambda: 8 * GB)
    code, _, err = run_cli("simulate", "-q", "--hours", "1", "--db", tiny_db)
    assert code == 0, err
    assert loaded == ["load"]


def test_the_simulate_estimate_counts_the_videos_uploaded_meanwhile(tiny_db):
    from fyp_tui.cli.sim import check_memory
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(tiny_db, lock=False) as store:
        sizes = store.sizes()
    assert sizes["n_viewers"] == 2500 and sizes["n_videos"] >= 500 and sizes["uploads_per_hour"] > 0
    need_now = size.estimate(sizes).simulate
    grown = dict(sizes, n_videos=sizes["n_videos"] + sizes["uploads_per_hour"] * 10_000)
    assert size.estimate(grown).simulate > need_now
    # between the two: a short run fits, a long one does not
    free = int((need_now + size.estimate(grown).simulate) / 2 * size.MARGIN)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(size, "available_bytes", lambda: free)
        check_memory(sizes, hours=1.0, upload_scale=1.0, where="w")
        with pytest.raises(TooBigError):
            check_memory(sizes, hours=10_000.0, upload_scale=1.0, where="w")


def test_info_refuses_a_world_too_big_before_loading_it(run_cli, tiny_db, monkeypatch):
    """``info`` loads the world now (to refuse what the app refuses): it makes the same
    memory check first, and says so in one line."""
    monkeypatch.setattr(size, "available_bytes", lambda: 50 << 20)
    code, out, err = run_cli("info", "--db", tiny_db)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "needs about" in lines[0] and "to load" in lines[0]
    monkeypatch.setattr(size, "available_bytes", lambda: 8 * GB)
    code, out, err = run_cli("info", "--db", tiny_db)
    assert code == 0 and "world" in out, err
