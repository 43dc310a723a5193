"""``fyp-tui`` with no command: open the app, seeding the demo world on first run."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fyp_tui.audit import BotRef
    from fyp_tui.live.session import LiveSession

FIRST_RUN_SCENARIO = "demo"


def run_app(*, db: str | None, profile: str, autoplay: BotRef | None = None) -> None:
    """Open the app on the world at ``db``; if there is none yet, seed ``demo`` first.
    ``autoplay``: a bot scrolls the feed until the person presses a key. When the app
    ends it prints the session's summary; when the Profile screen switched profile, it
    opens again as that one."""
    # Something on screen at once: Python and Textual take a moment to start.
    click.echo("fyp-tui: opening the world…", err=True)
    from fyp_tui.store.db import resolve_url

    url = resolve_url(db)
    if not world_exists(url):
        url = seed_first_world(db)
    while True:
        switch_to = run_once(url, profile, autoplay)
        if switch_to is None:
            return
        click.echo(f"fyp-tui: switching to profile {switch_to!r}…", err=True)
        profile, autoplay = switch_to, None


def run_once(url: str, profile: str, autoplay: BotRef | None) -> str | None:
    """One run of the app as ``profile``; the profile to switch to, or None."""
    from fyp_tui.settings import settings_path
    from fyp_tui.text import printable
    from fyp_tui.tui import make_app

    app = make_app(url, profile, autoplay=autoplay, config=settings_path())
    if app.settings_note:  # a bad config file: said here too (it stays after the app)
        click.echo(f"fyp-tui: {printable(app.settings_note, one_line=True)}", err=True)
    # a world that cannot be opened (locked by another process, damaged, newer) ends
    # here as one line and a non-zero exit, before the terminal is taken over; so
    # does a bot that does not fit the world
    try:
        app.live.check_store()
        if autoplay is not None:
            from fyp_tui.audit import resolve_bot_ref

            app.live.wait_open()
            resolve_bot_ref(app.live.world, autoplay)
    except BaseException:
        app.live.close()
        raise
    try:
        app.run()
    finally:
        if app.settings_writer is not None:
            app.settings_writer.flush()
            if app.settings_writer.error:
                click.echo(f"fyp-tui: {printable(app.settings_writer.error, one_line=True)}", err=True)
    if app.failed:
        # the app showed it already; leave it in the terminal too, as one line
        click.echo(f"fyp-tui: error: {printable(app.failed, one_line=True)}", err=True)
        sys.exit(1)
    quit_summary(app.live)
    return app.switch_to


def quit_summary(live: LiveSession) -> None:
    """Print the session's summary and keep its log for ``fyp-tui report``."""
    if not live.log.started:
        return
    from fyp_tui.cli.report import summary_lines

    data = live.log.data()
    try:
        live.log.save()
    except OSError as exc:  # the summary still shows; only the report will miss this session
        click.echo(f"fyp-tui: could not keep the session log: {exc.strerror or exc}", err=True)
    click.echo("\n".join(summary_lines(data)))


def world_exists(url: str) -> bool:
    """True if a world (or at least a file) is at ``url``; non-SQLite URLs are assumed seeded."""
    from fyp_tui.store.db import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return True
    return path.is_file() and path.stat().st_size > 0


def seed_first_world(db: str | None) -> str:
    """Build and save the ``demo`` world at ``db`` (``--db`` as given) with a progress
    display (first run); return the world's URL."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import load_scenario
    from fyp_tui.seeding.size import check_fits
    from fyp_tui.store.db import describe
    from fyp_tui.store.io import ensure_can_create, save_new_world

    scenario = load_scenario(FIRST_RUN_SCENARIO)
    check_fits(scenario.world, name=scenario.name)
    # a directory, a device or a symbolic link there: say so before building anything
    url = ensure_can_create(db)
    console = Console(stderr=True)
    from rich.markup import escape

    from fyp_tui.text import printable

    def shown(text: str) -> str:  # literal, not markup; control characters escaped
        return escape(printable(text, one_line=True))

    console.print(
        f"First run: seeding the [b]{shown(scenario.name)}[/b] world at {shown(describe(url))} — {shown(scenario.description)}"
    )
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        build = progress.add_task("building the world", total=1)
        save = progress.add_task("writing the database", total=1)

        def on_build(label: str, done: int, total: int) -> None:
            progress.update(build, description=label[:28], completed=done, total=max(total, 1))

        def on_save(label: str, done: int, total: int) -> None:
            progress.update(save, description=label[:28], completed=done, total=max(total, 1))

        world = build_world(scenario, scenario.seed, progress=on_build)
        progress.update(build, description="world built", completed=1, total=1)
        save_new_world(url, world, progress=on_save)
        progress.update(save, description="database written", completed=1, total=1)
    return url
