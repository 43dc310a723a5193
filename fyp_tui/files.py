"""Reading a small text file a person names (a scenario, a bot file) and its TOML:
bounded, and every way it can go wrong one :class:`~fyp_tui.errors.UsageError` line.

A name may be 5,000 characters long, hold a NUL byte, start with ``~nouser``, be a
symbolic-link loop, a directory, a FIFO (reading it would wait for a writer that
never comes) or ``/dev/zero`` (reading it would never end); none of these is a
file to read, and each is said so, in one line naming the option. TOML nested
thousands deep is an error of the file, not a crash of the parser.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path

from fyp_tui.errors import UsageError
from fyp_tui.text import clip

#: a scenario or a bot file is a few kilobytes; anything past this is not one
MAX_BYTES = 1 << 20


def user_path(name: str, what: str) -> Path:
    """``name`` (``~`` expanded) as a path; UsageError if it cannot name a file."""
    if not name.strip():
        raise UsageError(f"{what} is empty")
    if "\0" in name:
        raise UsageError(f"{what}: a path cannot contain a NUL byte: {clip(name)!r}")
    try:
        return Path(name).expanduser()
    except RuntimeError:  # ~nouser: no such user, or no home directory
        raise UsageError(
            f"{what}: cannot expand {clip(name.split('/', 1)[0])!r} (no such user or home directory)"
        ) from None


def read_text(name: str, what: str, *, missing: str | None = None, max_bytes: int = MAX_BYTES) -> tuple[str, Path]:
    """The UTF-8 text of the regular file ``name`` and its path. ``what`` names the
    option in messages (``"--bots"``, ``"scenario file"``); ``missing`` is the
    message for a file that does not exist (default: "<what>: no such file: <name>")."""
    path = user_path(name, what)
    shown = clip(name)
    try:
        # O_NONBLOCK: opening a FIFO returns at once (and is refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT and missing is not None:
            raise UsageError(missing) from None
        raise UsageError(f"{what}: {_why(exc, shown)}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{what}: {shown} is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{what}: {shown} is not a regular file")
        if st.st_size > max_bytes:
            raise UsageError(f"{what}: {shown} is {st.st_size:,} bytes; a file of at most {max_bytes:,} is expected")
        data = b""
        while len(data) <= max_bytes:  # read to the end, never past the bound (a growing file)
            chunk = os.read(fd, max_bytes + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise UsageError(f"{what}: {shown} is over {max_bytes:,} bytes")
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8"), path
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what}: {shown} is not UTF-8 text (byte {exc.start})") from None


def _why(exc: OSError, shown: str) -> str:
    if exc.errno == errno.ENOENT:
        return f"no such file: {shown}"
    if exc.errno == errno.ENAMETOOLONG:
        return f"file name too long: {shown}"
    if exc.errno == errno.ELOOP:
        return f"symbolic link loop: {shown}"
    if exc.errno == errno.EISDIR:
        return f"{shown} is a directory"
    return f"cannot open {shown}: {exc.strerror or exc}"


def parse_toml(text: str, label: str) -> dict:
    """``tomllib.loads`` with every failure one UsageError (a table nested thousands
    deep exhausts the parser's recursion)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{label}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"{label}: not valid TOML: nested too deeply") from None
