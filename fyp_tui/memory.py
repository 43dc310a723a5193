"""Handing the C heap's free memory back to the system (glibc's ``malloc_trim``).

A long, fast session (the app at its fastest pace, ``fyp-tui play``) allocates and
frees large numpy temporaries in every simulation step and every checkpoint; glibc
keeps the freed pages between the chunks still in use, so the process's resident
memory grew to several times the world's (issue 13). ``malloc_trim(0)`` returns every
whole free page; it is called after each checkpoint write and, at most every
:data:`TRIM_SECONDS`, after the live clock advances. A no-op where there is no glibc.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: the least real time between two trims from the live clock (a trim walks the heap;
#: the pages it frees fault back in when reused)
TRIM_SECONDS = 2.0

_TRIM: list[Callable[[int], int] | None] = []
_LAST: list[float] = [0.0]


def _trim_function() -> Callable[[int], int] | None:
    if not _TRIM:
        fn = None
        try:
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            libc = ctypes.CDLL(name) if name else None
            fn = getattr(libc, "malloc_trim", None) if libc is not None else None
        except (OSError, AttributeError, ImportError):  # no C library to load, or not glibc
            fn = None
        _TRIM.append(fn)
    return _TRIM[0]


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
