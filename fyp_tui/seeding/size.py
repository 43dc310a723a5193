"""How much memory a scenario's world needs, and whether this machine has it.

Checked before anything is built or written: a world too big for the machine
used to run for a minute, grow to gigabytes and end as "out of memory" (or take
the machine's swap with it). :func:`check_fits` refuses it in one line instead.

The estimate is a linear model of the peak resident memory of ``fyp-tui seed``
and of ``fyp-tui simulate`` on the world (the larger of the two), per viewer, per
viewer-topic, per video and per creator, fitted to measurements on Linux
(``benchmarks/bench_memory_scenarios.py`` re-measures them and prints the
estimate beside each), with a margin. The app needs a little more than
``simulate`` on the same world.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fyp_tui.errors import TooBigError

MB = 1 << 20

#: bytes: the interpreter, numpy, SQLAlchemy, Faker and the small tables
BASE = 80 * MB
#: bytes per viewer, per viewer and topic, per video, per creator, per sound:
#: (seed, simulate); seed peaks while it builds and writes the audience, simulate
#: holds every video's counters, pools and tier history
PER_VIEWER = (232, 140)
PER_VIEWER_TOPIC = (8, 7.2)
PER_VIDEO = (850, 1500)
PER_CREATOR = (250, 400)
PER_SOUND = (300, 300)
#: what the estimate is multiplied by before it is compared with what is free
MARGIN = 1.2


@dataclass(frozen=True)
class Estimate:
    seed: int  # bytes, peak of `fyp-tui seed`
    simulate: int  # bytes, peak of `fyp-tui simulate`

    @property
    def peak(self) -> int:
        return max(self.seed, self.simulate)


def estimate(world: dict) -> Estimate:
    """Peak memory of seeding and of simulating a validated ``[world]`` table."""
    n, t = world["n_viewers"], world["n_topics"]
    v, c, s = world["n_videos"], world["n_creators"], world["n_sounds"]

    def model(i: int) -> int:
        return int(
            BASE
            + n * (PER_VIEWER[i] + PER_VIEWER_TOPIC[i] * t)
            + v * PER_VIDEO[i]
            + c * PER_CREATOR[i]
            + s * PER_SOUND[i]
        )

    return Estimate(seed=model(0), simulate=model(1))


def available_bytes() -> int | None:
    """Memory this process may still use: the least of the kernel's MemAvailable,
    the cgroup's limit minus its usage, and ``ulimit -v`` minus what is mapped;
    None when none of them can be read (then nothing is refused)."""
    found = [b for b in (_meminfo(), _cgroup(), _rlimit()) if b is not None]
    return min(found) if found else None


def check_fits(world: dict, *, name: str) -> Estimate:
    """:class:`TooBigError` (one line) if the scenario ``name``'s world will not fit
    in the memory available; else its estimate."""
    est = estimate(world)
    free = available_bytes()
    need = int(est.peak * MARGIN)
    if free is not None and need > free:
        raise TooBigError(
            f"scenario {name!r} needs about {human_size(need)} of memory ({world['n_viewers']:,} viewers x "
            f"{world['n_topics']} topics, {world['n_videos']:,} videos); {human_size(free)} is available "
            "(use fewer viewers or videos)"
        )
    return est


def human_size(b: float) -> str:
    """``b`` bytes as people read it: "1.2 GB", "640 MB"."""
    return f"{b / (1 << 30):.1f} GB" if b >= 1 << 30 else f"{b / MB:,.0f} MB"


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read(1 << 16)
    except OSError:
        return None


def _meminfo() -> int | None:
    text = _read("/proc/meminfo")
    if text is not None:
        for line in text.splitlines():
            if line.startswith("MemAvailable:"):
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    return int(parts[1]) * 1024
    try:  # other POSIX systems: free pages (no page cache counted: conservative)
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup() -> int | None:
    """cgroup v2 (a container's limit): memory.max - memory.current."""
    limit = _read("/sys/fs/cgroup/memory.max")
    used = _read("/sys/fs/cgroup/memory.current")
    if limit is None or used is None or not limit.strip().isdigit() or not used.strip().isdigit():
        return None
    return max(int(limit) - int(used), 0)


def _rlimit() -> int | None:
    """``ulimit -v``: the address space left."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    mapped = 0
    status = _read("/proc/self/status")
    for line in (status or "").splitlines():
        if line.startswith("VmSize:"):
            parts = line.split()
            mapped = int(parts[1]) * 1024 if len(parts) >= 2 and parts[1].isdigit() else 0
    return max(soft - mapped, 0)
