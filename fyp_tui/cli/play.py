"""``fyp-tui play``: a bot scrolls the live session, headless, and the world moves on."""

from __future__ import annotations

import json
import math

import click

from fyp_tui.cli import PROFILE_NAME, cli, db_option

#: fyp_tui.live.clock.DEFAULT_PACE (not imported: keeps --help fast; a test checks they agree)
DEFAULT_PACE = 10.0
#: same bound as a bot file's ``videos`` (fyp_tui.audit.MAX_VIDEOS)
MAX_CARDS = 100_000
#: simulated minutes per real second at most (the app's keys go to 240)
MAX_PACE = 10_000.0


class Number(click.FloatRange):
    """A FloatRange that also refuses NaN (``nan`` passes every comparison-based bound)."""

    name = "number"

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a number", param, ctx)
        return rv


def _root(ctx: click.Context, key: str):
    """``fyp-tui --KEY X play`` when KEY was given there (not its default)."""
    from click.core import ParameterSource

    parent = ctx.parent
    if parent is None or parent.params.get(key) is None:
        return None
    if parent.get_parameter_source(key) in (ParameterSource.DEFAULT, None):
        return None
    return parent.params[key]


@cli.command("play")
@click.option(
    "--bot",
    "bot",
    metavar="NAME|FILE",
    required=True,
    help="A built-in bot's name (the audit's, or two-likes-one-share) or a bot file (TOML, one bot; FILE:NAME picks one).",
)
@click.option(
    "--profile",
    "profile_name",
    type=PROFILE_NAME,
    metavar="NAME",
    default=None,
    help="Whose feed the bot scrolls [default: fyp-tui's --profile if given, else the bot's name].",
)
@click.option(
    "--cards",
    type=click.IntRange(1, MAX_CARDS),
    default=None,
    metavar="N",
    help="Cards to scroll [default: the bot's videos].",
)
@click.option(
    "--pace",
    type=Number(min=0, min_open=True, max=MAX_PACE),
    default=DEFAULT_PACE,
    show_default=True,
    metavar="MIN_PER_S",
    help="Simulated minutes per real second, as the app's clock.",
)
@click.option(
    "--seconds-per-card",
    "seconds_per_card",
    type=Number(min=0, min_open=True, max=3600),
    default=None,
    metavar="S",
    help="Real seconds the bot spends on each card (the clock runs pace x S a card) "
    "[default: the bot's watch_seconds].",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    metavar="N",
    help="Seed of the feed's and the simulation's draws [default: a random one, reported].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
@click.pass_context
def play_cmd(
    ctx: click.Context,
    bot: str,
    profile_name: str | None,
    cards: int | None,
    pace: float,
    seconds_per_card: float | None,
    seed: int | None,
    as_json: bool,
    db: str | None,
) -> None:
    """A bot scrolls your world's live feed, as a person in the app would: the clock
    runs at the app's pace while it watches, its reactions are journaled, and the
    world is saved at the end (it changes the world, as the app does). Reports the
    cards live in a tier pool, first-viewer cards and the decisions its reactions
    tipped."""
    import secrets

    from fyp_tui.audit import read_bot_ref
    from fyp_tui.cli.sim import sim_progress
    from fyp_tui.live.autoplay import run_play

    ref = read_bot_ref(bot)  # a bad bot file: one line, before the world is opened
    db = db if db is not None else _root(ctx, "db")
    profile = profile_name or _root(ctx, "profile") or ref.name
    if seed is None:
        seed = secrets.randbelow(2**32)
    with sim_progress() as progress:
        result = run_play(
            db=db,
            profile=profile,
            bot=ref,
            cards=cards,
            pace=pace,
            seconds_per_card=seconds_per_card,
            seed=seed,
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    else:
        click.echo(format_result(result))


def format_result(r) -> str:
    """The human summary of a :class:`~fyp_tui.live.autoplay.PlayResult`."""
    from fyp_tui import fmt
    from fyp_tui.live.strip import INSTEAD

    share = r.first_viewer_cards / r.cards if r.cards else 0.0
    lines = [
        f"{r.bot} scrolled {r.cards} cards as {r.profile!r}"
        + (f" (of {r.cards_requested}: nothing left to recommend)" if r.ran_out else "")
        + f", {r.seconds_per_card:g} s a card at {fmt.pace(r.pace)}: "
        f"clock {r.clock_start:.2f} -> {r.clock_end:.2f} h ({fmt.span(r.clock_end - r.clock_start)})",
        f"  first-viewer cards     {r.first_viewer_cards} ({share:.1%})",
        "  cards live, per 25     " + " ".join(f"{s:.0%}".rjust(4) for s in r.live_share_by_window),
        "  live videos, per 25    " + " ".join(str(n) for n in r.live_videos_by_window),
        "  reactions              " + (", ".join(f"{k} {v}" for k, v in sorted(r.reactions.items())) or "none"),
        f"  decisions it tipped    {len(r.tips)}",
    ]
    for t in r.tips[:10]:
        verb = f"promoted out of tier {t.tier}" if t.decision == "promoted" else f"stalled in tier {t.tier}"
        without = INSTEAD.get(t.instead or "", "it would have gone the other way")
        lines.append(f"    video {t.video_id} {verb}: without the bot's {t.reaction} {without}")
    if len(r.tips) > 10:
        lines.append(f"    ... {len(r.tips) - 10} more (--json lists them all)")
    lines.extend(f"note: {n}" for n in r.notes)
    return "\n".join(lines)
