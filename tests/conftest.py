"""Shared fixtures: a tiny world built once per session, a seeded database copied per test.

* ``tiny_scenario``: the validated ``tiny`` scenario.
* ``tiny_world``: a fresh deep copy of the tiny world (built once per session), so a
  test may mutate it freely.
* ``tiny_db``: path (str) of a seeded tiny world database in the test's tmp dir
  (seeded once per session into a template file, then copied: cheap).
* ``assert_same_world``: ``assert_same_world(a, b)`` compares two worlds array by
  array (live video rows only), vocabulary by vocabulary, scalar by scalar.

Every test runs with ``FYP_TUI_DATA_DIR`` pointing into its tmp dir and
``FYP_TUI_DB`` unset, and ``FYP_TUI_CONFIG`` pointing into it too, so nothing touches
the real user data directory or the person's settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FYP_TUI_DATA_DIR", str(tmp_path_factory.getbasetemp() / "fyp-data"))
    monkeypatch.delenv("FYP_TUI_DB", raising=False)
    monkeypatch.setenv("FYP_TUI_CONFIG", str(tmp_path_factory.getbasetemp() / "fyp-config" / "config.toml"))


@pytest.fixture(scope="session")
def tiny_scenario():
    from fyp_tui.seeding.scenario import load_scenario

    return load_scenario("tiny")


@pytest.fixture(scope="session")
def _tiny_world_template(tiny_scenario):
    from fyp_tui.seeding.generate import build_world

    return build_world(tiny_scenario, tiny_scenario.seed)


@pytest.fixture
def tiny_world(_tiny_world_template):
    return _tiny_world_template.copy()


@pytest.fixture(scope="session")
def _tiny_db_template(tmp_path_factory: pytest.TempPathFactory, _tiny_world_template) -> Path:
    from fyp_tui.store.io import save_new_world

    path = tmp_path_factory.mktemp("tiny-template") / "world.db"
    save_new_world(str(path), _tiny_world_template.copy())
    return path


@pytest.fixture
def tiny_db(tmp_path: Path, _tiny_db_template: Path) -> str:
    path = tmp_path / "world.db"
    shutil.copyfile(_tiny_db_template, path)
    return str(path)


WORLD_LISTS = (
    "topic_names",
    "country_codes",
    "language_codes",
    "device_names",
    "creator_handles",
    "sound_titles",
    "hashtag_names",
    "caption_words",
    "video_captions",
)


def same_world(a, b, *, extra: bool = True) -> list[str]:
    """Names of the fields where worlds ``a`` and ``b`` differ (empty: the same world)."""
    diffs: list[str] = []
    for name in a.array_fields():
        x, y = getattr(a, name), getattr(b, name)
        if name.startswith("video_"):
            if name == "video_dirty":
                continue
            x, y = x[: a.n_videos], y[: b.n_videos]
        if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y):
            diffs.append(name)
    for name in WORLD_LISTS:
        if list(getattr(a, name)) != list(getattr(b, name)):
            diffs.append(name)
    for name in ("n_videos", "clock", "seed", "scenario"):
        if getattr(a, name) != getattr(b, name):
            diffs.append(name)
    if extra:
        for key in set(a.extra) | set(b.extra):
            x, y = a.extra.get(key), b.extra.get(key)
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and np.array_equal(x, y)):
                    diffs.append(f"extra[{key}]")
            elif x != y:
                diffs.append(f"extra[{key}]")
    return diffs


@pytest.fixture
def assert_same_world():
    def check(a, b, *, extra: bool = True) -> None:
        diffs = same_world(a, b, extra=extra)
        assert not diffs, f"worlds differ in: {', '.join(diffs)}"

    return check


@pytest.fixture
def run_cli(capsys):
    """Run ``fyp-tui ARGS`` in-process: ``(exit code, stdout, stderr)``."""
    from fyp_tui.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
