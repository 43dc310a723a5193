"""The command line as a shell sees it (issue 14, item 4): Click's own completion,
``--version``, and the README's Quick start matching what CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fyp_tui import __version__

ROOT = Path(__file__).resolve().parent.parent


def _complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash completion offers for the command line ``words`` (the last word being typed)."""
    parts = words.split(" ")
    run_env = {
        **os.environ,
        **(env or {}),
        "_FYP_TUI_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    out = subprocess.run(
        [sys.executable, "-m", "fyp_tui"], env=run_env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return [line.split(",", 1)[1] for line in out.splitlines() if line.startswith("plain,")]


def test_bash_completion_script_is_clicks():
    env = {**os.environ, "_FYP_TUI_COMPLETE": "bash_source"}
    out = subprocess.run([sys.executable, "-m", "fyp_tui"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "_fyp_tui_completion()" in out.stdout and "complete " in out.stdout


def test_commands_options_and_choices_complete():
    assert {"config", "profiles", "report", "seed", "simulate"} <= set(_complete("fyp-tui "))
    assert _complete("fyp-tui pro") == ["profiles"]
    assert set(_complete("fyp-tui profiles ")) >= {"delete", "reset"}
    assert _complete("fyp-tui report --format ") == ["text", "json", "html"]
    assert set(_complete("fyp-tui config ")) == {"path", "show"}


def test_profile_names_complete_from_the_world(tiny_db):
    from fyp_tui.live.session import LiveSession

    for name in ("ann", "andy", "bob"):
        live = LiveSession(tiny_db, name)
        live.open()
        live.close()
    assert _complete(f"fyp-tui profiles delete --db {tiny_db} an") == ["andy", "ann"]
    assert _complete(f"fyp-tui --db {tiny_db} report --profile b") == ["bob"]
    assert _complete("fyp-tui profiles reset --db /nonexistent/world.db a") == []  # no world: nothing, no error


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"fyp-tui, version {__version__}"


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "from a checkout, in a virtual environment" in section.lower()
    (block,) = re.findall(r"```console\n(.*?)```", section, re.S)
    install_and_run, test = block.strip().splitlines()
    assert install_and_run.endswith("&& fyp-tui") and "python3 -m pip install ." in install_and_run
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    steps = test.split(" && ")
    assert steps == ["python3 -m pip install -e '.[test]'", "python3 -m pytest -n 2"]
    for step in steps:
        assert step in ci, f"{step!r} is not a line of .ci/run"
