"""The engine is the pure core: importing it must not pull in any shell library."""

from __future__ import annotations

import subprocess
import sys

import pytest

SHELL_MODULES = ("textual", "sqlmodel", "sqlalchemy", "faker", "click", "rich")


@pytest.mark.parametrize(
    "module",
    [
        "fyp_tui.engine",
        "fyp_tui.engine.world",
        "fyp_tui.engine.events",
        "fyp_tui.engine.params",
        "fyp_tui.engine.pools",
        "fyp_tui.engine.audience",
        "fyp_tui.engine.simulate",
        "fyp_tui.engine.viewer",
        "fyp_tui.engine.ranking",
        "fyp_tui.engine.explain",
        "fyp_tui.engine.feed",
    ],
)
def test_engine_imports_no_shell_library(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(m for m in {SHELL_MODULES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulled in {out.stdout.strip()}"


def test_cli_help_does_not_import_the_app() -> None:
    """`fyp-tui --help` stays quick: textual and sqlmodel load only when a command needs them."""
    code = (
        "import sys\n"
        "from fyp_tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED=' + ','.join(m for m in ('textual', 'sqlmodel', 'faker') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED="
