"""Where fyp-tui keeps its data, and how a database is chosen.

* ``FYP_TUI_DB``: a SQLAlchemy URL or a file path for the world database
  (the same variable the ``--db`` option reads).
* ``FYP_TUI_DATA_DIR``: the data directory (default: the platform's user data
  directory, e.g. ``~/.local/share/fyp-tui`` on Linux); the default world is
  ``world.db`` inside it.

Nothing here touches the disk at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "fyp-tui"
DB_ENV = "FYP_TUI_DB"
DATA_DIR_ENV = "FYP_TUI_DATA_DIR"
DEFAULT_DB_NAME = "world.db"
DEFAULT_SCENARIO = "demo"


def data_dir() -> Path:
    """The data directory (not created here)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / DEFAULT_DB_NAME


def db_from_env() -> str | None:
    return os.environ.get(DB_ENV) or None
