"""``fyp-tui profiles``: list the people using a world, delete one, or reset one's interests."""

from __future__ import annotations

import sys

import click

from fyp_tui.cli import cli, db_option, echo, echo_json
from fyp_tui.errors import UsageError
from fyp_tui.text import printable


def _db(ctx: click.Context, db: str | None) -> str | None:
    """The nearest ``--db`` given: the command's, the group's, then fyp-tui's."""
    c: click.Context | None = ctx
    while db is None and c is not None:
        db = c.params.get("db")
        c = c.parent
    return db


@cli.group("profiles", invoke_without_command=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def profiles_group(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """List the world's profiles: name, created, cards watched, reactions, knob, device."""
    if ctx.invoked_subcommand is not None:
        return
    from fyp_tui.store.io import WorldStore
    from fyp_tui.store.profiles import list_profiles

    with WorldStore.open(_db(ctx, db), lock=False) as store:  # reading only: fine while the app runs
        rows = list_profiles(engine=store.engine)
        where = store.where
    if as_json:
        echo_json(rows, indent=2)
        return
    if not rows:
        echo(f"no profiles yet in {where} (open the app, or `fyp-tui --profile NAME`)")
        return
    head = ["name", "created", "cards", "reactions", "knob", "device"]
    table = [
        [
            printable(r["name"], one_line=True),
            (r["created"] or "")[:16].replace("T", " "),
            f"{r['cards_watched']:,}",
            f"{r['reactions']:,}",
            f"{r['knob']:.2f}",
            printable(r["device"] or "-", one_line=True),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(head)]
    right = {2, 3, 4}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    echo("\n".join([line(head), *(line(row) for row in table)]))


def complete_profile(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of a profile name: the world's profiles (none if it cannot be read)."""
    try:
        from fyp_tui.store.io import WorldStore
        from fyp_tui.store.profiles import list_profiles

        with WorldStore.open(_db(ctx, None), lock=False) as store:
            names = [str(r["name"]) for r in list_profiles(engine=store.engine)]
    except Exception:  # completing must never print an error into the person's command line
        return []
    return [n for n in names if n.startswith(incomplete)]


def _ask(question: str, yes: bool) -> None:
    """Go on if ``yes`` or the person says so; a terminal is needed to ask."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Asking needs a terminal: add --yes to go ahead without asking")
    click.confirm(question, abort=True)


@profiles_group.command("delete")
@click.argument("name", shell_complete=complete_profile)
@click.option("--yes", "-y", is_flag=True, help="Do not ask first.")
@db_option
@click.pass_context
def delete_cmd(ctx: click.Context, name: str, yes: bool, db: str | None) -> None:
    """Delete profile NAME and its reactions (asks first). Videos it posted stay in the world."""
    from fyp_tui.store.io import WorldStore
    from fyp_tui.store.profiles import delete_profile, list_profiles

    with WorldStore.open(_db(ctx, db)) as store:  # the world lock: not while the app has it open
        row = _find(list_profiles(engine=store.engine), name)
        _ask(
            f"Delete profile {printable(name, one_line=True)!r} ({row['cards_watched']:,} cards watched, "
            f"{row['reactions']:,} reactions)? This cannot be undone.",
            yes,
        )
        done = delete_profile(engine=store.engine, name=name)
    echo(
        f"deleted profile {printable(name, one_line=True)!r}: {done['interactions']:,} interactions"
        + (
            f"; the {done['videos']:,} video{'s' if done['videos'] != 1 else ''} it posted "
            f"{'stay' if done['videos'] != 1 else 'stays'} in the world"
            if done["videos"]
            else ""
        )
    )


@profiles_group.command("reset")
@click.argument("name", shell_complete=complete_profile)
@click.option("--yes", "-y", is_flag=True, help="Do not ask first.")
@db_option
@click.pass_context
def reset_cmd(ctx: click.Context, name: str, yes: bool, db: str | None) -> None:
    """Forget NAME's learned interests, as the Profile screen's Refresh does (asks first):
    the profile, its follows, likes, filters and history stay."""
    from fyp_tui.store.io import WorldStore
    from fyp_tui.store.profiles import list_profiles, reset_profile

    with WorldStore.open(_db(ctx, db)) as store:
        _find(list_profiles(engine=store.engine), name)
        _ask(f"Forget the interests the feed has learned for {printable(name, one_line=True)!r}?", yes)
        reset_profile(engine=store.engine, name=name)
    echo(f"reset profile {printable(name, one_line=True)!r}: learned interests forgotten; follows and filters stay")


def _find(rows: list[dict], name: str) -> dict:
    for row in rows:
        if row["name"] == name:
            return row
    names = ", ".join(printable(r["name"], one_line=True) for r in rows[:10]) or "none yet"
    raise UsageError(f"no profile called {printable(name, one_line=True)!r} in this world (profiles: {names})")
