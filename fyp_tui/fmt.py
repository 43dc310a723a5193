"""Small text formatters shared by the live layer and the shells (plain strings, no Textual)."""

from __future__ import annotations

BAR_FULL = "█"
BAR_EIGHTHS = " ▏▎▍▌▋▊▉"


def count(n: int | float) -> str:
    """12, 1.2k, 15k, 1.5M: the platform's way of showing counts."""
    n = float(n)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            v = n / limit
            return f"{v:.1f}{suffix}" if v < 10 else f"{v:.0f}{suffix}"
    return f"{n:.0f}"


def short(text: str, n: int = 28) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def sim_clock(hours: float) -> str:
    """Simulated clock as ``day 1 09:30`` (day 1 starts at hour 0)."""
    total_min = int(round(max(hours, 0.0) * 60))
    day, rem = divmod(total_min, 24 * 60)
    return f"day {day + 1} {rem // 60:02d}:{rem % 60:02d}"


def duration(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 60}:{s % 60:02d}"


def span(hours: float) -> str:
    """A length of simulated time: 45 min, 3.5 h, 2.1 d."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def pace(minutes_per_second: float) -> str:
    if minutes_per_second >= 60:
        return f"{minutes_per_second / 60:g} h/s"
    return f"{minutes_per_second:g} min/s"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar with eighth-cell resolution, exactly ``width`` cells."""
    width = max(width, 0)
    f = min(max(fraction, 0.0), 1.0) * width
    full = int(f)
    rest = int((f - full) * 8)
    s = BAR_FULL * full
    if full < width:
        s += BAR_EIGHTHS[rest] if rest else " "
    return s.ljust(width)


def tier_name(tier: int) -> str:
    return f"tier {tier}"


def ticker(text: str, offset: int, width: int) -> str:
    """``text`` scrolled left by ``offset`` in a window of ``width`` cells (loops)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    loop = text + "   ·   "
    o = offset % len(loop)
    s = (loop + loop)[o : o + width]
    return s
