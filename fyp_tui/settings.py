"""The person's settings: one TOML file, read at start, written back when they change.

Where: ``FYP_TUI_CONFIG`` if set, else ``config.toml`` in the platform's user config
directory (platformdirs; ``~/.config/fyp-tui/config.toml`` on Linux). Every key is
optional; a missing file means the defaults::

    theme = "textual-dark"      # any Textual theme (the app's t key toggles dark/light)
    pace = 10.0                 # simulated minutes per real second, 1..240 (+ and -)
    animation = true            # draw the video's animation (false: a still frame)

    [knob]
    default = 0.3               # a new profile's echo-chamber knob, 0..1
    step = 0.1                  # how far [ and ] turn it, 0.01..0.5

    [keymap]                    # binding id = keys (comma separated), as Textual writes them
    "feed.like" = "h"
    "app.help" = "question_mark,f1"

A bad file (not TOML, an unknown key, a value out of range, a binding id that does not
exist) is a :class:`SettingsError` whose one line names the key; the app says it and
runs on the defaults, and does not write over that file until it is fixed.

The app writes a changed theme or pace back with :class:`SettingsWriter`: it edits
the one line of that key (the person's comments and the rest of the file stay),
atomically (a temp file in the same directory, fsync, rename), off the UI thread,
the last change winning. Nothing here touches the disk at import time, and nothing
here imports Textual (the app checks theme names and binding ids itself).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fyp_tui.config import APP_NAME
from fyp_tui.errors import UsageError

CONFIG_ENV = "FYP_TUI_CONFIG"
CONFIG_NAME = "config.toml"

#: the defaults (``fyp_tui.live.clock.DEFAULT_PACE`` and the app's dark theme; a test checks they agree)
DEFAULT_THEME = "textual-dark"
DEFAULT_PACE = 10.0
PACE_RANGE = (1.0, 240.0)
KNOB_STEP_RANGE = (0.01, 0.5)

TOP_KEYS = ("theme", "pace", "animation", "knob", "keymap")
KNOB_KEYS = ("default", "step")


class SettingsError(UsageError):
    """The config file cannot be used; the message is one line naming the key."""


@dataclass(frozen=True)
class Settings:
    """What the config file sets (the defaults where it says nothing)."""

    theme: str = DEFAULT_THEME
    pace: float = DEFAULT_PACE
    animation: bool = True
    knob: float = 0.3  # [knob] default: a new profile's echo-chamber knob
    knob_step: float = 0.1  # [knob] step: one press of [ or ]
    keymap: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The settings as the file would hold them (``config show --json``)."""
        return {
            "theme": self.theme,
            "pace": self.pace,
            "animation": self.animation,
            "knob": {"default": self.knob, "step": self.knob_step},
            "keymap": dict(self.keymap),
        }


def settings_path() -> Path:
    """The config file's path (``FYP_TUI_CONFIG``, else the user config dir); not created here."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / CONFIG_NAME


def load_settings(
    path: Path | None = None,
    *,
    themes: Collection[str] | None = None,
    binding_ids: Collection[str] | None = None,
) -> Settings:
    """The settings in ``path`` (default: :func:`settings_path`); the defaults if there is
    no file. ``themes`` and ``binding_ids``, when given, are the names the theme and the
    keymap's ids must be one of. :class:`SettingsError` (one line) for a bad file."""
    path = settings_path() if path is None else path
    where = f"config {path}"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except IsADirectoryError:
        raise SettingsError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise SettingsError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where}: not valid TOML: {exc}") from None
    return parse_settings(data, where=where, themes=themes, binding_ids=binding_ids)


def parse_settings(
    data: Mapping[str, Any],
    *,
    where: str = "config",
    themes: Collection[str] | None = None,
    binding_ids: Collection[str] | None = None,
) -> Settings:
    """:class:`Settings` from a parsed TOML table (see :func:`load_settings`)."""

    def bad(key: str, why: str) -> SettingsError:
        return SettingsError(f"{where}: {key}: {why}")

    for key in data:
        if key not in TOP_KEYS:
            raise bad(key, f"unknown setting (known: {', '.join(TOP_KEYS)})")
    out: dict[str, Any] = {}
    if "theme" in data:
        theme = data["theme"]
        if not isinstance(theme, str) or not theme.strip():
            raise bad("theme", f"must be a theme name, not {theme!r}")
        if themes is not None and theme not in themes:
            raise bad("theme", f"no theme called {theme!r} (one of: {', '.join(sorted(themes))})")
        out["theme"] = theme
    if "pace" in data:
        out["pace"] = _number(data["pace"], PACE_RANGE, lambda why: bad("pace", why), "simulated minutes per second")
    if "animation" in data:
        if not isinstance(data["animation"], bool):
            raise bad("animation", f"must be true or false, not {data['animation']!r}")
        out["animation"] = data["animation"]
    if "knob" in data:
        knob = data["knob"]
        if not isinstance(knob, dict):
            raise bad("knob", "must be a table ([knob] with default and step)")
        for key in knob:
            if key not in KNOB_KEYS:
                raise bad(f"knob.{key}", f"unknown setting (known: {', '.join(KNOB_KEYS)})")
        if "default" in knob:
            out["knob"] = _number(knob["default"], (0.0, 1.0), lambda why: bad("knob.default", why), "knob position")
        if "step" in knob:
            out["knob_step"] = _number(knob["step"], KNOB_STEP_RANGE, lambda why: bad("knob.step", why), "knob step")
    if "keymap" in data:
        keymap = data["keymap"]
        if not isinstance(keymap, dict):
            raise bad("keymap", 'must be a table ([keymap] with lines like "feed.like" = "h")')
        checked: dict[str, str] = {}
        for binding_id, keys in keymap.items():
            name = f"keymap.{binding_id}"
            if isinstance(keys, dict):  # an unquoted id with a dot: [keymap] feed.like = "h"
                raise bad(name, f'quote the binding id: "{binding_id}.{next(iter(keys), "")}" = ...')
            if binding_ids is not None and binding_id not in binding_ids:
                raise bad(name, "no binding with this id (`fyp-tui config show` lists them)")
            if not isinstance(keys, str) or not keys.strip():
                raise bad(name, f'must be a string of keys, like "h" or "j,down", not {keys!r}')
            parts = [k.strip() for k in keys.split(",")]
            if any(not k or any(c.isspace() for c in k) for k in parts):
                raise bad(name, f'{keys!r} is not a comma-separated list of keys (like "j,down" or "ctrl+l")')
            checked[str(binding_id)] = ",".join(parts)
        out["keymap"] = checked
    return Settings(**out)


def _number(value: Any, bounds: tuple[float, float], bad: Any, what: str) -> float:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(f"must be a number ({what}), not {value!r}")
    if not lo <= value <= hi:
        raise bad(f"{value:g} is out of range ({lo:g} to {hi:g})")
    return float(value)


# -- writing back ------------------------------------------------------------------------
def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} to the config file")


_TABLE = re.compile(r"^\s*\[")


def updated_text(text: str, changes: Mapping[str, object]) -> str:
    """``text`` (a config file) with the top-level keys in ``changes`` set: the line of
    each key is replaced, or a line added above the first table; the rest stays."""
    lines = text.splitlines()
    first_table = next((i for i, line in enumerate(lines) if _TABLE.match(line)), len(lines))
    for key, value in changes.items():
        line = f"{key} = {_toml_value(value)}"
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        at = next((i for i in range(first_table) if pattern.match(lines[i])), None)
        if at is not None:
            lines[at] = line
        else:
            # after the leading comments and top-level keys, before any table
            at = first_table
            while at > 0 and not lines[at - 1].strip():
                at -= 1
            lines.insert(at, line)
            first_table += 1
    return "\n".join(lines) + "\n"


def write_settings(path: Path, changes: Mapping[str, object]) -> None:
    """Set the top-level keys in ``changes`` in the file at ``path`` (made if missing),
    atomically. A file that is not valid settings is left alone (SettingsError)."""
    target = path.resolve() if path.is_symlink() else path  # a dotfiles link stays a link
    try:
        text = target.read_text("utf-8")
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        text = "# fyp-tui settings (see README: Settings). The app writes theme and pace back.\n"
        mode = 0o644
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config {path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    try:  # a file that is not valid settings now is the person's to fix: not written over
        parse_settings(tomllib.loads(text), where=f"config {path}")
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config {path}: not valid TOML: {exc}") from None
    new = updated_text(text, changes)
    data = tomllib.loads(new)  # what we write must read back as the values given
    parse_settings(data, where=f"config {path}")
    if any(data.get(k) != v for k, v in changes.items()):  # pragma: no cover - a key's line the regex missed
        raise SettingsError(f"config {path}: could not update {', '.join(changes)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class SettingsWriter:
    """Writes changed settings back to one file, off the caller's thread.

    :meth:`save` returns at once; one background thread writes what is pending, and
    changes made while it writes are merged and written next, so the file ends with the
    last value of each key. :meth:`flush` waits for it (the app calls it on exit).
    ``error`` holds the last write's failure message, if any.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self.writes = 0
        self._pending: dict[str, object] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def save(self, **changes: object) -> None:
        with self._lock:
            self._pending.update(changes)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fyp-settings", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                changes, self._pending = self._pending, {}
                if not changes:
                    self._thread = None
                    return
            try:
                write_settings(self.path, changes)
                self.writes += 1
                self.error = None
            except (OSError, SettingsError, tomllib.TOMLDecodeError) as exc:
                self.error = f"could not save settings to {self.path}: {getattr(exc, 'strerror', None) or exc}"

    def flush(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
