"""``fyp-tui explain`` and ``fyp-tui audit``: the feed, headless."""

from __future__ import annotations

import click

from fyp_tui.cli import cli, db_option, echo, echo_json
from fyp_tui.errors import UsageError
from fyp_tui.text import printable

#: same bound as a bot file's ``videos`` (fyp_tui.audit.MAX_VIDEOS; not imported: keeps --help fast)
MAX_BOT_VIDEOS = 100_000


def _parent(ctx: click.Context, key: str):
    parent = ctx.parent
    return parent.params.get(key) if parent is not None else None


@cli.command("explain")
@click.argument("video_id", type=int)
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    default=None,
    help="Whose feed to explain for [default: fyp-tui's --profile, 'me'].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
@click.pass_context
def explain_cmd(ctx: click.Context, video_id: int, profile_name: str | None, as_json: bool, db: str | None) -> None:
    """Why VIDEO_ID would be in your feed: its score's named contributions, its tier,
    budget progress and distance to the promotion bar."""
    import numpy as np

    from fyp_tui.engine.explain import format_explanation
    from fyp_tui.engine.feed import FeedSession
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.viewer import PersonState
    from fyp_tui.store.io import WorldStore

    db = db if db is not None else _parent(ctx, "db")
    name = profile_name or _parent(ctx, "profile") or "me"
    with WorldStore.open(db, lock=False) as store:
        world = store.load()
        if not 0 <= video_id < world.n_videos:
            raise UsageError(f"no video with id {video_id} (this world has ids 0..{world.n_videos - 1})")
        found = store.load_person(name, world)  # the app's read path: plain SQL, checked values
        pid, person = found if found is not None else (0, PersonState.new(world))
        params = EngineParams.from_world(world)
        session = FeedSession(world, params, person, pid, np.random.default_rng(0), journal=None)
        e = session.explain(video_id)
        detail = store.video_detail(video_id, world=world)
    if as_json:
        out = {"profile": name, "profile_exists": found is not None, "detail": detail, **e.to_dict()}
        echo_json(out, allow_nan=False, default=_json_default)
        return
    title = (
        f"video {video_id} by @{printable(detail['creator_handle'], one_line=True)}: "
        f"{printable(detail['caption'], one_line=True)}"
    )
    echo(format_explanation(e, title=title))
    if found is None:
        echo(f"  (no profile named {name!r} yet: explained for a new profile)")


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


@cli.command("audit")
@click.option(
    "--bots",
    "bots_file",
    metavar="FILE",
    default=None,
    help="Bot file (TOML, see the README) [default: the built-in bots].",
)
@click.option(
    "--videos",
    type=click.IntRange(min=1, max=MAX_BOT_VIDEOS),
    default=None,
    help="Videos per bot (overrides each bot's own).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the bots' feed sessions."
)
@click.option(
    "--reference",
    is_flag=True,
    help="Run the bot sets of published audits (WSJ 2021, Boeker & Urman 2022, a random-feed control) "
    "and print each published figure beside the measured one.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
@click.pass_context
def audit_cmd(
    ctx: click.Context,
    bots_file: str | None,
    videos: int | None,
    seed: int,
    reference: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Sock-puppet audit: scripted bots scroll their own feeds on a copy of the world
    (the world itself is not changed); report what their feeds turned into."""
    from pathlib import Path

    from fyp_tui.audit import format_report, load_bots, run_audit, run_reference
    from fyp_tui.store.io import WorldStore

    if reference and bots_file is not None:
        raise click.UsageError("--reference runs its own bots: leave out --bots")
    # the built-in bots (None) are fitted to the world; a bot file is checked against it
    bots = load_bots(bots_file) if bots_file is not None else None
    label = (Path(bots_file).name or bots_file) if bots_file is not None else None
    db = db if db is not None else _parent(ctx, "db")
    with WorldStore.open(db, lock=False) as store:
        world = store.load()

    def progress(label: str, done: int, total: int) -> None:
        if label != "done":
            echo(f"audit: bot {done + 1}/{total}: {printable(label, one_line=True)}", err=True)

    if reference:
        report = run_reference(world, videos=videos, seed=seed, progress=None if as_json else progress)
    else:
        report = run_audit(world, bots, videos=videos, seed=seed, progress=None if as_json else progress, label=label)
    if as_json:
        echo_json(report.to_dict())
    else:
        echo(format_report(report))
