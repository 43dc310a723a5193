"""Handing the C heap's free memory back to the system (glibc's ``malloc_trim``).

A long, fast session (the app at its fastest pace, ``fyp-tui play``) allocates and
frees large numpy temporaries in every simulation step and every checkpoint; glibc
keeps the freed pages between the chunks still in use, so the process's resident
memory grew to several times the world's (issue 13). ``malloc_trim(0)`` returns every
whole free page; it is called after each checkpoint write and, at most every
:data:`TRIM_SECONDS`, after the live clock advances. A no-op where there is no glibc.

:func:`tune_allocator` (called when a live session opens) also fixes glibc's mmap
threshold at :data:`MMAP_THRESHOLD`: by default glibc raises it, up to 32 MB, to the
size of each large block freed, so after the first few steps every numpy temporary
and every checkpoint's copy of the video arrays came from the heap, and the heap kept
the holes between them (the heap of a 5-minute run at the fastest pace: 150 MB, 90 MB
of it free). Blocks of 4 MB and more (the video arrays' copies, the audience's tables)
are mapped apart again and go back to the system the moment they are freed. A lower
threshold keeps less, but maps (and faults in) every viewer-sized temporary of every
step: 256 KB made ``simulate`` about 40% slower.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: the least real time between two trims from the live clock (a trim walks the heap;
#: the pages it frees fault back in when reused)
TRIM_SECONDS = 2.0

#: blocks at least this large are mapped apart (glibc's ``M_MMAP_THRESHOLD``), see the module doc
MMAP_THRESHOLD = 4 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)

_TRIM: list[Callable[[int], int] | None] = []
_TUNED: list[bool] = []
_LAST: list[float] = [0.0]


def _libc_function(name: str) -> Any:
    """glibc's function ``name``, or None (no C library to load, or not glibc)."""
    try:
        import ctypes
        import ctypes.util

        path = ctypes.util.find_library("c")
        libc = ctypes.CDLL(path) if path else None
        return getattr(libc, name, None) if libc is not None else None
    except (OSError, AttributeError, ImportError):
        return None


def _trim_function() -> Callable[[int], int] | None:
    if not _TRIM:
        _TRIM.append(_libc_function("malloc_trim"))
    return _TRIM[0]


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` (once a process; see the
    module doc); False where there is no glibc or it refused."""
    if not _TUNED:
        fn = _libc_function("mallopt")
        _TUNED.append(bool(fn is not None and fn(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1))
    return _TUNED[0]


def give_back_memory() -> bool:
    """Return the C heap's whole free pages to the system now; False if it cannot here."""
    fn = _trim_function()
    if fn is None:
        return False
    fn(0)
    _LAST[0] = time.monotonic()
    return True


def give_back_memory_now_and_then() -> bool:
    """:func:`give_back_memory` if :data:`TRIM_SECONDS` have passed since the last time."""
    if time.monotonic() - _LAST[0] < TRIM_SECONDS:
        return False
    return give_back_memory()
