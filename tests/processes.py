"""fyp-tui as real processes, for the tests of what only a process shows:

* :class:`AppInTerminal`: the app in a real pseudo-terminal (signals, the alternate
  screen, the lines printed after it);
* :func:`start_host`: ``fyp-tui host`` on a free port (to kill it with -9).
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class AppInTerminal:
    """``fyp-tui --db DB --profile NAME`` on a 100x30 pseudo-terminal, in its own
    session; ``out`` is everything it wrote. Use as a context manager: the process is
    killed and the terminal closed at the end if the test has not done it."""

    def __init__(self, db: str, profile: str, cwd: Path) -> None:
        master, slave = pty.openpty()
        env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fyp_tui", "--db", db, "--profile", profile],
            stdin=slave,
            stdout=slave,
            stderr=slave,  # (Textual draws on stderr: a last line comes after it leaves the screen)
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.out = bytearray()

    def __enter__(self) -> AppInTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.close_terminal()

    def read_for(self, seconds: float, until: bytes | None = None) -> None:
        """Read what the app writes for ``seconds``, or until ``until`` has appeared."""
        end = time.monotonic() + seconds
        while self.master >= 0 and time.monotonic() < end and (until is None or until not in self.out):
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.out.extend(os.read(self.master, 65536))
                except OSError:
                    return

    def open_feed(self) -> None:
        """Wait for onboarding, skip it: the feed, with the clock running."""
        self.read_for(30, b"Welcome")
        assert b"Welcome" in self.out, self.out[-500:]
        os.write(self.master, b"\x1b")

    def wait(self, seconds: float = 30.0) -> int | None:
        """Read until the app ends or ``seconds`` pass; its exit code (None: still running)."""
        deadline = time.monotonic() + seconds
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read_for(0.2)
        return self.proc.poll()

    def close_terminal(self) -> None:
        """Close the terminal's side (a terminal window closing)."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def start_host(db: str, seed: int) -> tuple[subprocess.Popen, str]:
    """``fyp-tui host --db DB --port 0 --seed SEED``, and the address it prints to join."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fyp_tui", "host", "--db", db, "--port", "0", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("join:"):
            return proc, line.split()[3]
    proc.kill()
    raise AssertionError(proc.stderr.read() if proc.stderr else "no join line")
