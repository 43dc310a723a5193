"""``fyp-tui report`` and the summary printed when the app quits.

Both read a session log (:mod:`fyp_tui.live.summary`): the app's own at quit, the one
saved for a world and profile by ``report``. ``--format text`` is a few sections of
plain lines, ``json`` the log itself, ``html`` one self-contained page with inline SVG
charts (:mod:`fyp_tui.cli.report_html`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fyp_tui.cli import cli, db_option, echo
from fyp_tui.cli.profiles import complete_profile
from fyp_tui.errors import FypError
from fyp_tui.fmt import sim_clock
from fyp_tui.text import printable

#: topics the summary names, and the report's drift table and chart
TOP_TOPICS = 3
DRIFT_TOPICS = 6


def watch_time(seconds: float) -> str:
    """``6 min 12 s``, ``45 s``, ``1 h 02 min``."""
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def top_topics(data: dict[str, Any], k: int) -> list[tuple[str, float, float]]:
    """(topic, interest now, change over the session) of the ``k`` strongest topics now."""
    names, end, start = data["topics"], data["interests_end"], data["interests_start"]
    order = sorted(range(len(end)), key=lambda i: -end[i])
    return [(names[i], end[i], end[i] - (start[i] if i < len(start) else 0.0)) for i in order[:k] if end[i] > 0.005]


def drift_topics(data: dict[str, Any], k: int = DRIFT_TOPICS) -> list[int]:
    """The ``k`` topics that moved most or mattered most over the session (by their
    largest absolute interest in any sample, start and end included)."""
    series = [data["interests_start"], *(c["interests"] for c in data["cards"]), data["interests_end"]]
    n = len(data["topics"])
    peak = [max(abs(s[i]) if i < len(s) else 0.0 for s in series) for i in range(n)]
    return [i for i in sorted(range(n), key=lambda i: -peak[i])[:k] if peak[i] > 0.005]


def decision_line(d: dict[str, Any], caption: int = 60) -> str:
    from fyp_tui.fmt import short

    who = f"@{d['handle']} “{short(d['caption'], caption)}”"
    if d["outcome"] == "promoted":
        return f"your {d['tipped_by']} pushed {who} into tier {d['to_tier']}"
    return f"your {d['tipped_by']} stalled {who} in tier {d['tier']}"


def meter(value: float | None) -> str:
    """The echo-chamber meter in words (None: no videos watched yet to measure)."""
    from fyp_tui.live.summary import meter_verdict

    return "no videos yet" if value is None else f"{value * 100:.0f}% {meter_verdict(value)}"


def summary_lines(data: dict[str, Any]) -> list[str]:
    """The few lines printed when the app quits."""
    who = data["profile"]
    if not data["cards_watched"]:
        return [f"fyp-tui: {who} watched no cards this time."]
    lines = [
        f"fyp-tui: {who} watched {_n(data['cards_watched'], 'card')} ({data['cards_finished']:,} to the end) "
        f"in {watch_time(data['watch_seconds'])}",
        f"  the world     {sim_clock(data['clock_start'])} → {sim_clock(data['clock_end'])}",
    ]
    tops = top_topics(data, TOP_TOPICS)
    if tops:
        lines.append("  top topics    " + ", ".join(f"{n} {v:+.2f} ({signed(d)})" for n, v, d in tops))
    lines.append(f"  echo chamber  {meter(data['meter_start'])} → {meter(data['meter_end'])} (knob {data['knob']:.2f})")
    decisions = data["decisions"]
    if decisions:
        lines.append(f"  you tipped    {len(decisions)} decision{'s' if len(decisions) != 1 else ''}:")
        lines += [f"    {decision_line(d, caption=30)}" for d in decisions[:3]]
        if len(decisions) > 3:
            lines.append(f"    … and {len(decisions) - 3} more")
    else:
        lines.append("  you tipped    no tier decision this time")
    lines.append(f"  the report    fyp-tui report --profile {_quoted(who)} --format html -o report.html")
    return [printable(line, one_line=True) for line in lines]


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def signed(value: float) -> str:
    """``+0.30``, ``-0.12``; a change that rounds to nothing is ``±0.00``, not ``-0.00``."""
    return "±0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


def report_text(data: dict[str, Any]) -> str:
    """``--format text``: the summary, then the drift, the meter, found early, decisions."""
    out = summary_lines(data)[:-1]
    w = data["world"]
    out += ["", f"world         {w['where']} ({w['scenario']}, seed {w['seed']}); session started {data['started_at']}"]
    names = data["topics"]
    topics = drift_topics(data)
    if topics:
        out += ["", "interest drift (start → end)"]
        width = max(len(names[i]) for i in topics)
        for i in topics:
            a, b = data["interests_start"][i], data["interests_end"][i]
            out.append(f"  {names[i]:<{width}}  {a:+.2f} → {b:+.2f}  ({signed(b - a)})")
    series = [c["diversity"] for c in data["cards"]]
    if series:
        out += ["", f"echo-chamber meter over {_n(data['cards_watched'], 'card')}", "  " + _spark(series)]
    found = data["found_early"]
    out += ["", f"found early   {len(found)} video{'s' if len(found) != 1 else ''} you saw among its first viewers"]
    for f in sorted(found, key=lambda f: -f["views_now"])[:10]:
        out.append(
            f"  @{f['handle']} “{f['caption']}”: {f['views']:,} views then (tier {f['tier']}), "
            f"{f['views_now']:,} now (tier {f['tier_now']})"
        )
    if data["decisions"]:
        out += ["", "decisions you tipped"] + [f"  {decision_line(d)}" for d in data["decisions"]]
    return "\n".join(printable(line, one_line=True) for line in out)


def _spark(values: list[float], width: int = 60) -> str:
    ticks = "▁▂▃▄▅▆▇█"
    if len(values) > width:  # the mean of each of `width` runs
        step = len(values) / width
        values = [
            sum(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            / max(int((i + 1) * step) - int(i * step), 1)
            for i in range(width)
        ]
    return "".join(ticks[min(int(v * len(ticks)), len(ticks) - 1)] for v in values)


def load_session(db: str | None, profile: str) -> dict[str, Any]:
    """The saved log of ``profile``'s last session on the world at ``db`` (FypError if none)."""
    from fyp_tui.live.summary import log_path, read_log
    from fyp_tui.store.db import describe, resolve_url

    url = resolve_url(db)
    path = log_path(url, profile)
    try:
        data = read_log(path)
    except (OSError, ValueError) as exc:
        raise FypError(f"the session log {path} cannot be read ({exc}); it is rewritten at the next session") from None
    if data is None:
        raise FypError(
            f"no session of profile {profile!r} on {describe(url)} yet: open the app with "
            f"`fyp-tui --profile {_quoted(profile)}`, watch a few cards, and quit"
        )
    return data


@cli.command("report")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    default=None,
    shell_complete=complete_profile,
    help="Whose session [default: fyp-tui's --profile].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="text, json (the session log), or html (one self-contained page with charts).",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@db_option
@click.pass_context
def report_cmd(ctx: click.Context, profile_name: str | None, fmt: str, output: Path | None, db: str | None) -> None:
    """A report of your last session in the app: cards, watch time, interest drift, the
    echo-chamber meter, the videos you found early and the decisions you tipped."""
    parent = ctx.parent
    db = db if db is not None else (parent.params.get("db") if parent is not None else None)
    name = profile_name or (parent.params.get("profile") if parent is not None else None) or "me"
    data = load_session(db, name)
    if fmt == "json":
        import json

        from fyp_tui.text import json_safe

        text = json_safe(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "html":
        from fyp_tui.cli.report_html import report_html

        text = report_html(data)
    else:
        text = report_text(data)
    if output is None:
        click.echo(text)
        return
    from fyp_tui.live.summary import write_text

    try:
        write_text(output, text + "\n")
    except OSError as exc:
        raise FypError(f"cannot write {output}: {exc.strerror or exc}") from None
    echo(f"wrote the {fmt} report of {name}'s session to {output}")
