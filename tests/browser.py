"""Headless Chromium for the browser tests: Debian's ``chromium`` (``.ci/run`` installs
it), driven by Playwright with no browser download.

    from browser import chromium_page

    def test_page(...):
        with chromium_page() as page:
            page.goto(url)

Without ``/usr/bin/chromium`` the tests that use it are skipped, saying why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("FYP_TUI_CHROMIUM", "/usr/bin/chromium")
# This machine's network is closed: without the background-networking flags Chromium
# keeps trying to reach Google's hosts.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"no browser at {CHROMIUM}: .ci/run installs Debian's chromium"
)


@contextmanager
def chromium_page(width: int = 1200, height: int = 800) -> Iterator:
    """A fresh headless page; the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
