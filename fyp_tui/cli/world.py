"""``fyp-tui seed`` and ``fyp-tui info``: create a world, and describe one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from fyp_tui.cli import cli, db_option, echo, echo_json
from fyp_tui.config import DEFAULT_SCENARIO
from fyp_tui.text import printable


def _db(ctx: click.Context, db: str | None) -> str | None:
    """``fyp-tui seed --db X`` wins over ``fyp-tui --db X seed``."""
    if db is not None:
        return db
    parent = ctx.parent
    return parent.params.get("db") if parent is not None else None


@contextmanager
def seed_progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, as a ``progress(label, done, total)`` callback."""
    if not enabled:
        yield lambda label, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(label: str, done: int, total: int) -> None:
        phase = "writing" if label.startswith("writing") else "building"
        if phase not in tasks:
            tasks[phase] = bar.add_task(label, total=total)
        bar.update(
            tasks[phase], description=label if phase == "writing" else f"building {label}", completed=done, total=total
        )

    with bar:
        yield report


def seed_world(
    *,
    scenario: str,
    seed: int | None,
    db: str | None,
    force: bool,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Build and save a world; return a summary dict (used by ``seed`` and the app's first run)."""
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario
    from fyp_tui.seeding.size import check_fits
    from fyp_tui.store.db import describe
    from fyp_tui.store.io import ensure_can_create, save_new_world

    sc = load_scenario(scenario)
    check_fits(sc.world, name=sc.name)  # before any allocation or file (even the lock)
    url = ensure_can_create(db, force=force)  # fail before spending time on the build
    seed = sc.seed if seed is None else seed
    t0 = time.perf_counter()
    world = build_world(sc, seed, progress=progress)
    save_new_world(url, world, force=force, progress=progress)
    return {
        "db": describe(url),
        "scenario": sc.name,
        "seed": seed,
        "videos": world.n_videos,
        "creators": world.n_creators,
        "viewers": world.n_viewers,
        "sounds": world.n_sounds,
        "hashtags": world.n_hashtags,
        "topics": world.n_topics,
        "seconds": round(time.perf_counter() - t0, 2),
    }


@cli.command("seed")
@click.option(
    "--scenario",
    "scenario",
    default=DEFAULT_SCENARIO,
    show_default=True,
    metavar="NAME|PATH",
    help="A built-in scenario (tiny, demo, large) or a scenario .toml file.",
)
@click.option(
    "--seed",
    "seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    metavar="N",
    help="Random seed [default: the scenario's].",
)
@db_option
@click.option("--force", is_flag=True, help="Replace an existing world at --db.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_context
def seed_cmd(ctx: click.Context, scenario: str, seed: int | None, db: str | None, force: bool, quiet: bool) -> None:
    """Create a world from a scenario (refuses to overwrite one without --force)."""
    with seed_progress(not quiet) as progress:
        s = seed_world(scenario=scenario, seed=seed, db=_db(ctx, db), force=force, progress=progress)
    echo(
        f"seeded {printable(s['scenario'], one_line=True)!r} (seed {s['seed']}) into {s['db']}: {s['videos']:,} videos, "
        f"{s['creators']:,} creators, {s['viewers']:,} viewers, {s['sounds']:,} sounds, "
        f"{s['hashtags']:,} hashtags, {s['topics']} topics in {s['seconds']:.1f} s"
    )


def world_info(db: str | None) -> dict:
    """The summary ``fyp-tui info`` prints (also its ``--json``)."""
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(db, lock=False) as store:
        from fyp_tui.cli.sim import check_memory

        check_memory(store.sizes(), hours=0.0, upload_scale=0.0, where=store.where)  # (before the load below)
        store.load()  # a world the app would refuse (values out of range ...) is refused here too
        meta = store.meta
        settings = meta.get("settings", {})
        counts = store.counts()
        tiers = {str(t): n for t, n in store.group_counts("video", "tier").items()}
        statuses = store.group_counts("video", "status")
        from fyp_tui.engine.world import Status

        return {
            "db": store.where,
            "scenario": meta["scenario"],
            "description": settings.get("description", ""),
            "seed": meta["seed"],
            "clock": meta["clock"],
            "schema_version": meta["schema_version"],
            "created_at": str(meta.get("created_at")),
            "checkpointed_at": str(meta.get("checkpointed_at")),
            "counts": counts,
            "topics": store.names("topic", "name"),
            "countries": store.names("country", "code"),
            "languages": store.names("language", "code"),
            "devices": store.names("device", "name"),
            "videos_by_tier": tiers,
            "videos_by_status": {
                Status(s).name.lower(): n for s, n in sorted(statuses.items()) if s in Status._value2member_map_
            },
        }


@cli.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
@click.pass_context
def info_cmd(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """Summarise the world: counts per table, topics, countries, scenario, seed, clock."""
    info = world_info(_db(ctx, db))
    if as_json:
        echo_json(info, indent=2)
        return
    c = info["counts"]

    def one(value: object) -> str:  # a world string shown inside a line
        return printable(value, one_line=True)

    def names(values: list) -> str:
        return ", ".join(one(v) for v in values)

    hours = info["clock"]
    lines = [
        f"world       {one(info['db'])}",
        f"scenario    {one(info['scenario'])} (seed {info['seed']})"
        + (f" - {one(info['description'])}" if info["description"] else ""),
        f"clock       {hours:.2f} simulated hours (day {int(hours // 24) + 1}, {int(hours % 24):02d}:{int(hours * 60 % 60):02d})",
        f"schema      v{info['schema_version']}, created {info['created_at'][:19]}, checkpointed {info['checkpointed_at'][:19]}",
        "",
        "rows per table",
        *(f"  {name:<14}{n:>12,}" for name, n in c.items()),
        "",
        "videos by tier  " + ", ".join(f"{t}: {n:,}" for t, n in info["videos_by_tier"].items()),
        "videos by state " + ", ".join(f"{s}: {n:,}" for s, n in info["videos_by_status"].items()),
        f"topics ({len(info['topics'])})  " + names(info["topics"]),
        "countries   " + names(info["countries"]) + "   languages " + names(info["languages"]),
        "devices     " + names(info["devices"]),
    ]
    echo("\n".join(lines))
