"""No command writes through a symbolic link or a hard link it did not make.

A link planted at ``X.db.lock`` used to be followed and its target emptied (the lock
was opened with O_CREAT|O_RDWR and truncated); ``seed --force --db link.db`` used to
replace the file the link points to. Every command now leaves a link's target
byte for byte as it was. (Issue 13, item 1: each test failed before the fix.)"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="POSIX links")

VICTIM = b"someone's precious file\n" * 100

COMMANDS = [
    ("seed", "-q", "--scenario", "tiny"),
    ("seed", "-q", "--force", "--scenario", "tiny"),
    ("info",),
    ("info", "--json"),
    ("simulate", "-q", "--hours", "0.5"),
    ("export", "videos"),
    ("explain", "0"),
    ("audit", "--videos", "2"),
]
IDS = [" ".join(c) for c in COMMANDS]


def check(code: int, err: str) -> None:
    assert code in (0, 1, 2), err
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fyp-tui: error: "), err


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    p = tmp_path / "elsewhere" / "victim"
    p.parent.mkdir()
    p.write_bytes(VICTIM)
    return p


@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_a_symlinked_lock_file_is_never_followed(run_cli, tiny_db, victim, args):
    Path(tiny_db + ".lock").symlink_to(victim)
    code, _, err = run_cli(*args, "--db", tiny_db)
    check(code, err)
    assert victim.read_bytes() == VICTIM
    if args[0] in ("seed", "simulate"):  # the commands that take the lock refuse it
        assert code == 1 and "symbolic link" in err


@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_a_dangling_symlinked_lock_creates_nothing(run_cli, tiny_db, tmp_path, args):
    target = tmp_path / "elsewhere" / "made-by-fyp-tui"
    Path(tiny_db + ".lock").symlink_to(target)
    code, _, err = run_cli(*args, "--db", tiny_db)
    check(code, err)
    assert not target.exists()


def test_a_hard_linked_lock_file_is_refused(run_cli, tiny_db, victim):
    os.link(victim, tiny_db + ".lock")
    for args in (("seed", "-q", "--force", "--scenario", "tiny"), ("simulate", "-q", "--hours", "0.5")):
        code, _, err = run_cli(*args, "--db", tiny_db)
        assert code == 1 and "hard links" in err
        assert victim.read_bytes() == VICTIM


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
@pytest.mark.parametrize("args", COMMANDS[2:], ids=IDS[2:])
def test_a_symlinked_sqlite_side_file_is_refused(run_cli, tiny_db, victim, side, args):
    Path(tiny_db + side).symlink_to(victim)
    code, _, err = run_cli(*args, "--db", tiny_db)
    check(code, err)
    assert victim.read_bytes() == VICTIM


@pytest.mark.parametrize("force", [False, True])
def test_seed_never_writes_through_a_symlinked_db(run_cli, tiny_db, tmp_path, force):
    """``seed --db link.db`` is refused (with or without --force): the link's target,
    a world or anything else, is never replaced, and the link stays a link."""
    link = tmp_path / "link.db"
    for target in (Path(tiny_db), tmp_path / "elsewhere.txt", tmp_path / "missing.db"):
        if target.name == "elsewhere.txt":
            target.write_bytes(VICTIM)
        before = target.read_bytes() if target.exists() else None
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        args = ("seed", "-q", "--scenario", "tiny", *(("--force",) if force else ()), "--db", str(link))
        code, _, err = run_cli(*args)
        assert code == 1 and "symbolic link" in err, err
        assert (target.read_bytes() if target.exists() else None) == before
        assert link.is_symlink()


def test_seed_with_a_symlinked_directory_on_the_way_still_works(run_cli, tmp_path):
    """Only the last component is refused: a data directory reached through a
    symlinked directory is a normal set-up."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "via").symlink_to(real, target_is_directory=True)
    code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", str(tmp_path / "via" / "w.db"))
    assert code == 0, err
    assert (real / "w.db").is_file()


def test_world_lock_and_new_directory_are_private(run_cli, tmp_path):
    old = os.umask(0o022)
    try:
        db = tmp_path / "new" / "dir" / "w.db"
        code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", str(db))
        assert code == 0, err
        code, _, err = run_cli("simulate", "-q", "--hours", "0.5", "--db", str(db))
        assert code == 0, err
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(str(db) + ".lock").stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for side in ("-wal", "-shm"):
        p = Path(str(db) + side)
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_the_lock_holds_on_a_full_disk(tiny_db, monkeypatch):
    """Writing the holder's pid into the lock is a courtesy: ENOSPC there is no error."""
    import errno

    from fyp_tui.store.db import WorldLock, resolve_url

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    lock = WorldLock(resolve_url(tiny_db)).acquire()
    try:
        assert lock.held
    finally:
        lock.release()


def test_a_directory_or_fifo_at_the_lock_path_is_one_line(run_cli, tiny_db):
    lock = Path(tiny_db + ".lock")
    lock.mkdir()
    code, _, err = run_cli("simulate", "-q", "--hours", "0.5", "--db", tiny_db)
    check(code, err)
    assert code == 1
    shutil.rmtree(lock)
    if hasattr(os, "mkfifo"):
        os.mkfifo(lock)
        code, _, err = run_cli("simulate", "-q", "--hours", "0.5", "--db", tiny_db)
        check(code, err)
        assert code == 1 and "not a regular file" in err


def test_the_apps_first_run_never_seeds_through_a_symlink(tmp_path, monkeypatch):
    """The app seeds ``demo`` on first run: a dangling link at --db is refused like
    ``seed`` refuses it (the world would have been written where the link points)."""
    from fyp_tui.cli import app
    from fyp_tui.errors import StoreError

    monkeypatch.setattr(app, "FIRST_RUN_SCENARIO", "tiny")
    target = tmp_path / "elsewhere" / "made.db"
    target.parent.mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(target)
    with pytest.raises(StoreError, match="symbolic link"):
        app.seed_first_world(str(link))
    assert not target.exists()
    url = app.seed_first_world(str(tmp_path / "w.db"))
    assert url.endswith("w.db") and stat.S_IMODE((tmp_path / "w.db").stat().st_mode) == 0o600


def test_the_app_refuses_a_symlinked_lock_before_taking_the_terminal(tiny_db, victim):
    """Plain `fyp-tui` takes the same lock: a link there is one line, the target untouched."""
    import subprocess
    import sys

    import fyp_tui

    Path(tiny_db + ".lock").symlink_to(victim)
    env = {**os.environ, "PYTHONPATH": str(Path(fyp_tui.__file__).parent.parent)}  # this checkout's fyp_tui
    p = subprocess.run(
        [sys.executable, "-m", "fyp_tui", "--db", tiny_db],
        cwd=Path(tiny_db).parent,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 1
    assert b"\x1b[?1049h" not in p.stdout  # never switched to the alternate screen
    assert p.stderr.decode().strip().splitlines()[-1].startswith("fyp-tui: error: the world lock")
    assert victim.read_bytes() == VICTIM
