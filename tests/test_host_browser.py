"""``fyp-tui serve`` in headless Chromium (issue 16): a tab is one person of the class; a
feed card appears, and a key press moves to the next card. The host behind the tabs
counts the cards each person was served, so the test reads them from ``host status``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from browser import chromium_page, needs_chromium

from fyp_tui.host.client import BlockingClient

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cards_of(host_url: str, profile: str) -> int:
    """Cards the host served ``profile`` (a client on its own thread: Playwright's sync
    API holds an event loop on this one)."""
    c = BlockingClient(host_url)
    try:
        c.connect(watch=True)
        status = c.call("status")
    finally:
        c.close()
    return next((p["cards"] for p in status["people"] if p["profile"] == profile), 0)


def wait_for(cond, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


@needs_chromium
def test_a_browser_tab_scrolls_the_class_feed(tiny_db, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fyp_tui", "serve", "--db", tiny_db, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        found: list[str] = []
        wait_for(lambda: found.extend(re.findall(r"class host at (ws://\S+/ws)", log.read_text())) or found, "the host")
        host_url = found[0]
        with chromium_page() as page:
            page.goto(f"http://127.0.0.1:{port}/?profile=tab1")
            page.wait_for_selector("canvas", timeout=60_000)

            def skip_onboarding() -> bool:
                # Escape skips the onboarding screen (once the app shows it): the feed opens on its first card
                page.mouse.click(600, 100)  # focus the terminal
                page.keyboard.press("Escape")
                return cards_of(host_url, "tab1") >= 1

            wait_for(skip_onboarding, "a feed card in the tab")
            before = cards_of(host_url, "tab1")

            def next_card() -> bool:
                # j moves to the next card (pressed again if the relay dropped it under load)
                page.keyboard.press("j")
                time.sleep(0.5)
                return cards_of(host_url, "tab1") > before

            wait_for(next_card, "the next card after j")
            # a tab without a profile is asked for one
            page.goto(f"http://127.0.0.1:{port}/")
            assert page.locator("input[name=profile]").count() == 1
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
