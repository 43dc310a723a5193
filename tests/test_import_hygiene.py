"""The engine is the pure core, the live layer is headless: importing either must not pull in a shell."""

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
        "fyp_tui.engine.ladder",
        "fyp_tui.engine.catalogue",
        "fyp_tui.engine.audience",
        "fyp_tui.engine.simulate",
        "fyp_tui.engine.uploads",
        "fyp_tui.engine.report",
        "fyp_tui.engine.viewer",
        "fyp_tui.engine.ranking",
        "fyp_tui.engine.candidates",
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


def test_the_live_layer_imports_no_textual() -> None:
    """Every module of ``fyp_tui.live``, imported in a fresh process, leaves Textual (and the app) unloaded."""
    code = (
        "import sys, importlib, pkgutil, fyp_tui.live as live\n"
        "names = [m.name for m in pkgutil.iter_modules(live.__path__, 'fyp_tui.live.')]\n"
        "assert 'fyp_tui.live.session' in names, names\n"
        "for name in names:\n    importlib.import_module(name)\n"
        "print(','.join(sorted({m.split('.')[0] if m.startswith('textual') else m for m in sys.modules if m.startswith(('textual', 'fyp_tui.tui'))})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"fyp_tui.live pulled in {out.stdout.strip()}"


def loaded_by_cli(argv: list[str], modules: tuple[str, ...]) -> str:
    """``LOADED=<those of modules imported>`` after ``fyp-tui argv`` in a fresh process."""
    code = (
        "import sys\n"
        "from fyp_tui.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED=' + ','.join(m for m in {modules!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_cli_help_does_not_import_the_app() -> None:
    """`fyp-tui --help` stays quick: textual and sqlmodel load only when a command needs them."""
    assert loaded_by_cli(["--help"], ("textual", "sqlmodel", "faker")) == "LOADED="


#: what the app must not load before its first card is on screen (SQLAlchemy and the
#: SQLModel tables come just after, for the first reaction and checkpoint)
NOT_BEFORE_FIRST_CARD = (
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "faker",
    "fyp_tui.store.models",
    "fyp_tui.store.profiles",
)

LAUNCH = """
import asyncio, sys
from fyp_tui.tui import make_app
from fyp_tui.tui.app import FypApp

FypApp.warm_up = lambda self: None  # by design it starts once the first card is on screen
app = make_app(sys.argv[1], "p", frozen=True, seed=1)
loaded = []

async def pilot(p):
    while app.first_card_at is None:
        await asyncio.sleep(0.01)
    loaded.extend(m for m in sys.argv[3].split(",") if m in sys.modules)
    loaded.append("card:" + type(app.screen).__name__)
    await app.action_quit()

app.run(headless=True, auto_pilot=pilot, size=(100, 32))
with open(sys.argv[2], "w") as fh:
    fh.write(",".join(loaded))
"""


def test_the_app_reaches_its_first_card_without_sqlalchemy_sqlmodel_or_faker(tiny_db, tmp_path) -> None:
    """The launch path reads the world through the stdlib sqlite3 (issue 5: first card < 1.5 s)."""
    from fyp_tui.store.io import WorldStore
    from fyp_tui.store.models import Profile

    with WorldStore.open(tiny_db) as store, store.session() as s:  # a returning, onboarded person
        s.add(Profile(name="p", onboarded=True))
        s.commit()
    out = tmp_path / "loaded.txt"
    subprocess.run(
        [sys.executable, "-c", LAUNCH, tiny_db, str(out), ",".join(NOT_BEFORE_FIRST_CARD)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.read_text() == "card:FeedScreen"


def test_a_command_imports_only_its_own_module() -> None:
    modules = ("fyp_tui.cli.app", "fyp_tui.cli.feed", "fyp_tui.cli.sim", "fyp_tui.cli.world", "sqlalchemy")
    assert loaded_by_cli(["seed", "--help"], modules) == "LOADED=fyp_tui.cli.world"


def test_command_modules_lists_every_command() -> None:
    import importlib

    from fyp_tui.cli import COMMAND_MODULES, cli

    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(f"fyp_tui.cli.{module}")
    registered = {name: cmd.callback.__module__.rsplit(".", 1)[-1] for name, cmd in cli.commands.items()}
    assert registered == COMMAND_MODULES
