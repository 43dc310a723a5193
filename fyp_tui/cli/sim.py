"""``fyp-tui simulate`` and ``fyp-tui export videos``."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from fyp_tui.cli import cli, db_option, echo, echo_json
from fyp_tui.errors import FypError, UsageError, WorldDamagedError
from fyp_tui.text import json_safe, printable


def _db(ctx: click.Context, db: str | None) -> str | None:
    """``fyp-tui simulate --db X`` wins over ``fyp-tui --db X simulate``."""
    if db is not None:
        return db
    parent = ctx.parent
    while parent is not None:
        if parent.params.get("db") is not None:
            return parent.params["db"]
        parent = parent.parent
    return None


@contextmanager
def sim_progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr (only on a terminal), as ``progress(label, done, total)``."""
    if not enabled:
        yield lambda label, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task: list[TaskID] = []

    def report(label: str, done: int, total: int) -> None:
        if not task:
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], description=label, completed=done, total=total)

    with bar:
        yield report


def simulate_world(
    *, db: str | None, hours: float, seed: int | None, progress=None, step_minutes: float | None = None
) -> dict:
    """Load the world, run it ``hours`` simulated hours, checkpoint; return the report dict."""
    from fyp_tui.engine.events import Promoted, Reignited, Stalled
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.simulate import run
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(db, lock=True) as store:
        engine_settings = (store.meta.get("settings") or {}).get("engine") or {}
        try:
            scale = EngineParams.from_dict(engine_settings).upload_scale
        except (FypError, ValueError, TypeError):  # (bad settings: the load below says so in one line)
            scale = 1.0
        check_memory(store.sizes(), hours=hours, upload_scale=scale, where=store.where)
        world = store.load()
        params = EngineParams.from_world(world)
        tier_events: list = []

        def keep(events: list) -> None:
            tier_events.extend(e for e in events if isinstance(e, (Promoted, Stalled, Reignited)))

        report = run(
            world,
            params,
            world.seed if seed is None else seed,
            hours,
            progress=progress,
            on_events=keep,
            step_minutes=step_minutes,
        )
        if progress is not None:
            progress("checkpoint", 0, 1)
        try:
            store.checkpoint(world, tier_events)
        except WorldDamagedError as exc:  # (its one transaction was not committed)
            raise WorldDamagedError(f"{exc}; this run's {hours:g} simulated hours were not saved") from None
        return report.to_dict()


def check_memory(sizes: dict[str, float], *, hours: float, upload_scale: float, where: str) -> None:
    """Refuse in one line (:class:`~fyp_tui.errors.TooBigError`) to simulate a world
    that will not fit in the memory available, before it is loaded (``sizes``:
    :meth:`~fyp_tui.store.io.WorldStore.sizes`): the estimate of
    :mod:`fyp_tui.seeding.size` for ``simulate``, counting the videos the creators
    upload meanwhile, times its margin."""
    from fyp_tui.errors import TooBigError
    from fyp_tui.seeding.size import MARGIN, available_bytes, estimate, human_size

    grown = dict(sizes)
    grown["n_videos"] = sizes["n_videos"] + sizes.get("uploads_per_hour", 0.0) * max(upload_scale, 0.0) * hours
    need = int(estimate(grown).simulate * MARGIN)
    what = f"simulate {hours:g} h" if hours else "load"
    free = available_bytes()
    if free is not None and need > free:
        raise TooBigError(
            f"{where} needs about {human_size(need)} of memory to {what} "
            f"({sizes['n_viewers']:,} viewers x {sizes['n_topics']} topics, {sizes['n_videos']:,} videos); "
            f"{human_size(free)} is available"
        )


def format_report(r: dict) -> str:
    """The human-readable form of ``fyp-tui simulate``'s report (world strings in it:
    control characters escaped)."""

    def one(value: object) -> str:
        return printable(value, one_line=True)

    lines = [
        f"simulated {r['hours']:g} h (clock {r['clock_start']:.2f} -> {r['clock_end']:.2f} h, seed {r['seed']}, "
        f"{r['steps']} steps)",
        f"impressions {r['impressions']:,} in {r['wall_seconds']:.2f} s = {r['impressions_per_second']:,.0f}/s"
        f"  (catalogue {r['catalogue_impressions']:,}, unserved {r['dropped_impressions']:,}; uploads {r['uploads']:,})",
        "",
        "tier funnel",
        f"  {'tier':>4} {'budget':>10} {'entered':>9} {'promoted':>9} {'stalled':>9} {'active':>8}",
    ]
    for f in r["funnel"]:
        budget = f"{f['budget']:,}" if f["budget"] is not None else "site-wide"
        lines.append(
            f"  {f['tier']:>4} {budget:>10} {f['entered']:>9,} {f['promoted']:>9,} {f['stalled']:>9,} {f['active']:>8,}"
        )
    lines += [
        "",
        "engagement per slice",
        f"  {'':<9} {'impr.':>11} {'complete':>9} {'like':>7} {'share':>7} {'follow':>7} {'watch':>6}",
    ]
    for name, s in r["slices"].items():
        lines.append(
            f"  {name:<9} {s['impressions']:>11,} {s['completion_rate']:>9.1%} {s['like_rate']:>7.2%} "
            f"{s['share_rate']:>7.3%} {s['follow_rate']:>7.3%} {s['mean_watch_ratio']:>6.2f}"
        )
    lines += ["", "top videos by views"]
    for v in r["top_videos"]:
        lines.append(
            f"  #{v['video_id']:<8} @{one(v['creator']):<22} {one(v['topic']):<14} tier {v['tier']} ({v['status']:<7}) "
            f"{v['views']:>10,} views {v['likes']:>9,} likes {v['shares']:>7,} shares"
        )
    t = r["trending"]
    lines += ["", "trending sounds   " + (", ".join(one(s["title"]) for s in t["sounds"][:5]) or "-")]
    lines += ["trending hashtags " + (", ".join("#" + one(h["name"]) for h in t["hashtags"][:5]) or "-")]
    e = r["events"]
    lines += ["", "events " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in e.items())]
    hourly = r.get("hourly") or []
    if hourly:
        live = [h["live"] for h in hourly]
        last = hourly[-1]
        lines += [
            f"live videos per hour: {min(live):,} .. {max(live):,} (at the end {last['live']:,});"
            f" bars in force at the end: {', '.join(f'{b:.3f}' for b in last['bars'])}"
        ]
    return "\n".join(lines)


class Hours(click.FloatRange):
    """A FloatRange that also refuses NaN (``nan`` passes every comparison-based bound)."""

    name = "hours"

    def convert(self, value, param, ctx):
        import math

        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a number of hours", param, ctx)
        return rv


@cli.command("simulate")
@db_option
@click.option(
    "--hours",
    "hours",
    type=Hours(min=0, min_open=True, max=24 * 365),
    default=24.0,
    show_default=True,
    metavar="H",
    help="Simulated hours to advance the clock by.",
)
@click.option(
    "--seed",
    "seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    metavar="N",
    help="Random seed of the run [default: the world's seed].",
)
@click.option(
    "--step-minutes",
    "step_minutes",
    type=Hours(min=0.1, max=24 * 60),
    default=None,
    metavar="M",
    help="Length of one simulation step in simulated minutes [default: up to 60, shorter for a big audience]. "
    "The world's statistics do not depend on it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_context
def simulate_cmd(
    ctx: click.Context,
    db: str | None,
    hours: float,
    seed: int | None,
    step_minutes: float | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Advance the world's clock by H simulated hours as fast as possible, checkpoint it, and report."""
    with sim_progress(not quiet) as progress:
        report = simulate_world(db=_db(ctx, db), hours=hours, seed=seed, progress=progress, step_minutes=step_minutes)
    if as_json:
        echo_json(report)
    else:
        echo(format_report(report))


# -- export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "video_id",
    "creator",
    "topic",
    "tier",
    "status",
    "views",
    "likes",
    "shares",
    "favourites",
    "comments",
    "follows",
    "skips",
    "not_interested",
    "completion_rate",
    "mean_watch_ratio",
    "watch_seconds",
    "duration",
    "upload_time",
    "quality",
)

_EXPORT_SQL = """
SELECT v.id, c.handle, t.name, v.tier, v.status, v.views, v.likes, v.shares, v.favourites, v.comments,
       v.follows, v.skips, v.not_interested, v.full_watches, v.watch_seconds, v.duration, v.upload_time, v.quality
FROM video v JOIN creator c ON c.id = v.creator_id JOIN topic t ON t.id = v.topic_id
ORDER BY v.id
"""


def export_rows(db: str | None) -> Iterator[dict]:
    """Every video of the world as a dict of :data:`EXPORT_COLUMNS` (hidden quality included)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from fyp_tui.engine.world import Status
    from fyp_tui.errors import StoreError
    from fyp_tui.store.db import error_line
    from fyp_tui.store.io import WorldStore

    names = {int(s): s.name.lower() for s in Status}
    with WorldStore.open(db, lock=False) as store:
        try:
            yield from _export_rows(store, names, text)
        except (DBAPIError, TypeError, ValueError) as exc:
            raise StoreError(f"{store.where} is corrupt or unreadable: {error_line(exc)}") from None


def _export_rows(store, names: dict[int, str], text) -> Iterator[dict]:
    with store.engine.connect() as conn:
        for row in conn.execute(text(_EXPORT_SQL)):
            (
                vid,
                handle,
                topic,
                tier,
                status,
                views,
                likes,
                shares,
                favs,
                comments,
                follows,
                skips,
                ni,
                full,
                watch,
                duration,
                upload,
                quality,
            ) = row
            n = max(int(views), 1)
            yield {
                "video_id": int(vid),
                "creator": handle,
                "topic": topic,
                "tier": int(tier),
                "status": names.get(int(status), str(status)),
                "views": int(views),
                "likes": int(likes),
                "shares": int(shares),
                "favourites": int(favs),
                "comments": int(comments),
                "follows": int(follows),
                "skips": int(skips),
                "not_interested": int(ni),
                "completion_rate": round(int(full) / n, 6),
                "mean_watch_ratio": round(float(watch) / (n * float(duration)), 6) if duration else 0.0,
                "watch_seconds": round(float(watch), 3),
                "duration": float(duration),
                "upload_time": round(float(upload), 6),
                "quality": round(float(quality), 6),
            }


@cli.group("export")
def export_group() -> None:
    """Export world data for analysis and teaching."""


@export_group.command("videos")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: one row per video with a header; json: one JSON array.",
)
@click.pass_context
def export_videos_cmd(ctx: click.Context, db: str | None, fmt: str) -> None:
    """Every video with its creator, topic, tier, counters and its hidden quality (to stdout)."""
    rows = export_rows(_db(ctx, db))
    out = sys.stdout  # not click.get_text_stream: deprecated in Click 8.5, removed in 9
    try:
        if fmt == "csv":
            # CSV is data: exact when it goes to a file or a pipe; on a terminal the
            # text columns' control characters are shown as escapes, not obeyed
            tty = out.isatty()
            w = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            w.writeheader()
            for r in rows:
                if tty:
                    r = {k: printable(v, one_line=True) if isinstance(v, str) else v for k, v in r.items()}
                w.writerow(r)
        else:
            out.write("[")
            for i, r in enumerate(rows):
                out.write(("," if i else "") + "\n" + json_safe(json.dumps(r, ensure_ascii=False)))
            out.write("\n]\n")
        out.flush()
    except BrokenPipeError:  # `fyp-tui export videos | head`
        sys.stderr.close()
    except ValueError as exc:  # pragma: no cover - defensive: a bad row
        raise UsageError(f"cannot export: {exc}") from None
