"""Where the host's time goes: an opt-in trace of requests, lock holds and slow parts.

Set ``FYP_HOST_TRACE=FILE`` in the host's environment (benchmarks/bench_host.py
``--trace`` does) and the host appends one JSON line per record to FILE, flushed
every half second by a writer thread (so a host killed with SIGKILL leaves all but
the last half second). Times are ``time.monotonic()`` seconds, which every process
on the machine shares, so a client's own timings line up with the host's.

Records (``k`` is the kind):

- ``req``: one request: ``op``, ``who`` (profile), ``t0`` (the event loop took the
  frame), ``t1`` (its reply handed to the socket), ``path`` (``next``: ``ahead``, the
  preloaded card; ``queue``, it waited for the person's feed queue);
- ``lock``: one hold of the world lock: ``th`` (thread), ``t0`` (asked), ``t1``
  (got), ``t2`` (let go);
- ``span``: a part that may be slow: ``name`` (``step``, ``journal``, ``capture``,
  ``ckpt_write``, ``tick_push``, ...), ``th``, ``t0``, ``t1``;
  ``gc1``/``gc2``: the garbage collector's older generations;
- ``lag``: the event loop woke ``lag`` seconds late from a 10 ms sleep (only > 2 ms).

Without the variable nothing is recorded and nothing is wrapped.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: the environment variable naming the trace file
ENV = "FYP_HOST_TRACE"

_now = time.monotonic


class Tracer:
    """Collects records in memory; a daemon thread appends them to the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._buf: list[dict] = []
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")  # kept open for the host's life
        threading.Thread(target=self._flush_loop, name="fyp-host-trace", daemon=True).start()
        self._gc_t0 = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = _now()
        elif info.get("generation", 0) >= 1:
            t1 = _now()
            gen = info["generation"]
            rec = {"k": "span", "name": f"gc{gen}", "th": threading.current_thread().name, "t0": self._gc_t0, "t1": t1}
            if gen == 2:  # how much the full collection walked (counted after it, off its time)
                rec["objects"] = len(gc.get_objects())
            self.add(**rec)

    def add(self, **rec: Any) -> None:
        with self._lock:
            self._buf.append(rec)

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        t0 = _now()
        try:
            yield
        finally:
            self.add(k="span", name=name, th=threading.current_thread().name, t0=t0, t1=_now())

    def wrap(self, obj: Any, method: str, name: str) -> None:
        """Time every call of ``obj.method`` as span ``name`` (an instance attribute)."""
        fn: Callable[..., Any] = getattr(obj, method)

        def timed(*args: Any, **kw: Any) -> Any:
            with self.span(name):
                return fn(*args, **kw)

        setattr(obj, method, timed)

    def _flush_loop(self) -> None:
        while True:
            time.sleep(0.5)
            with self._lock:
                buf, self._buf = self._buf, []
            if buf:
                self._file.write("".join(json.dumps(r) + "\n" for r in buf))
                self._file.flush()


class TimedLock:
    """A ``threading.Lock`` that records every hold (``lock`` records)."""

    def __init__(self, tracer: Tracer) -> None:
        self._lock = threading.Lock()
        self._tracer = tracer
        self._t: tuple[float, float] = (0.0, 0.0)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        t0 = _now()
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._t = (t0, _now())
        return got

    def release(self) -> None:
        t0, t1 = self._t
        self._lock.release()
        self._tracer.add(k="lock", th=threading.current_thread().name, t0=t0, t1=t1, t2=_now())

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


_tracer: Tracer | None = None
_made = False


def tracer() -> Tracer | None:
    """The host's tracer if ``FYP_HOST_TRACE`` is set, else None (made once)."""
    global _tracer, _made
    if not _made:
        _made = True
        path = os.environ.get(ENV)
        if path:
            _tracer = Tracer(path)
    return _tracer
