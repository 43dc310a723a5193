"""``fyp-tui host``: one live world for a class; ``host status``, ``host pause|resume|pace``."""

from __future__ import annotations

import ipaddress
import secrets
import sys
from typing import Any

import click

from fyp_tui.cli import cli, db_option, echo, echo_json

DEFAULT_PORT = 8765


def is_loopback(bind: str) -> bool:
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.group("host", invoke_without_command=True)
@db_option
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on (not loopback: --token).")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="0: any free port."
)
@click.option(
    "--token", default=None, envvar="FYP_TUI_TOKEN", help="Join token clients must present [env: FYP_TUI_TOKEN]."
)
@click.option(
    "--teacher-token",
    default=None,
    help="Token of the teacher's copy (pause the clock, set the pace); a random one is printed if not given.",
)
@click.option(
    "--pace",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1, 1440.0),
    help="Simulated minutes per real second (60: one hour a second).",
)
@click.option("--seed", type=int, default=None, help="Seed the simulation and the feeds (reproducible runs).")
@click.pass_context
def host(
    ctx: click.Context,
    db: str | None,
    bind: str,
    port: int,
    token: str | None,
    teacher_token: str | None,
    pace: float,
    seed: int | None,
) -> None:
    """Run one live world for many people: terminals join with --connect, browsers through serve."""
    if ctx.invoked_subcommand is not None:
        return
    if db is None and ctx.parent is not None:
        db = ctx.parent.params.get("db")
    if not is_loopback(bind) and not token:
        raise click.UsageError(f"--bind {bind} reaches other machines: give a join token with --token")
    if token is not None and not 0 < len(token) <= 256:
        raise click.UsageError("--token must be 1..256 characters")
    import asyncio

    from fyp_tui.cli.app import seed_first_world, world_exists
    from fyp_tui.host.server import Host, serve_forever
    from fyp_tui.host.world import SharedWorld
    from fyp_tui.store.db import describe, resolve_url

    url = resolve_url(db)
    if not world_exists(url):
        url = seed_first_world(db)
    shared = SharedWorld(url, seed=seed)
    shared.open()  # a locked, damaged or newer world: one line, exit 1
    shared.pace = pace
    teacher = teacher_token or secrets.token_urlsafe(9)
    server = Host(shared, token=token, teacher_token=teacher)

    def ready(join: str) -> None:
        echo(f"fyp-tui host: {describe(url)} at {shared.world.clock:.1f} h, {pace:g} simulated min/s")
        extra = f" --token {token}" if token else ""
        echo(f"join:    fyp-tui --connect {join}{extra} --profile NAME")
        echo(f"status:  fyp-tui host status --connect {join}{extra}")
        if teacher_token is None:
            echo(f"teacher: fyp-tui host pause --connect {join}{extra} --teacher-token {teacher}")
        sys.stdout.flush()  # (not click.get_text_stream: deprecated in Click 8.5)

    try:
        asyncio.run(serve_forever(server, bind, port, ready))
    except OSError as exc:  # the port is taken, the address is not ours
        shared.close()
        from fyp_tui.errors import FypError

        raise FypError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}") from None


def _connect_options(f):
    f = click.option("--token", default=None, envvar="FYP_TUI_TOKEN", help="The host's join token.")(f)
    f = click.option("--connect", "url", required=True, metavar="URL", help="The host's address (ws://...).")(f)
    return f


def _watch(url: str, token: str | None, teacher_token: str | None = None):
    from fyp_tui.host.client import BlockingClient

    client = BlockingClient(url)
    try:
        client.connect(watch=True, token=token, teacher_token=teacher_token)
    except BaseException:
        client.close()
        raise
    return client


@host.command("status")
@_connect_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: clock, live_videos, people.")
def status(url: str, token: str | None, as_json: bool) -> None:
    """Who is in the class, and the world's clock."""
    client = _watch(url, token)
    try:
        got: dict[str, Any] = client.call("status")
    finally:
        client.close()
    if as_json:
        echo_json(
            {
                "clock": got["clock"],
                "live_videos": got["live_videos"],
                "paused": got["paused"],
                "pace": got["pace"],
                "people": [dict(p) for p in got["people"]],
            },
            indent=2,
        )
        return
    state = "paused" if got["paused"] else f"{got['pace']:g} simulated min/s"
    echo(f"clock {got['clock']:.2f} h ({state}), {got['live_videos']:,} live videos")
    for p in got["people"]:
        on = "online " if p["connected"] else "offline"
        echo(f"  @{p['profile']:<20} {on}  {p['cards']:>5} cards  {p['reactions']:>4} reactions  {p['tips']:>3} tips")


def _teacher(url: str, token: str | None, teacher_token: str, op: str, **args: Any) -> None:
    client = _watch(url, token, teacher_token)
    try:
        got = client.call(op, **args)
    finally:
        client.close()
    state = "paused" if got["paused"] else "running"
    echo(f"{state} at {got['pace']:g} simulated min/s")


_teacher_token = click.option("--teacher-token", required=True, help="The token the host printed for the teacher.")


@host.command("pause")
@_connect_options
@_teacher_token
def pause(url: str, token: str | None, teacher_token: str) -> None:
    """Pause the class's clock (the teacher's copy)."""
    _teacher(url, token, teacher_token, "pause", paused=True)


@host.command("resume")
@_connect_options
@_teacher_token
def resume(url: str, token: str | None, teacher_token: str) -> None:
    """Restart the class's clock."""
    _teacher(url, token, teacher_token, "pause", paused=False)


@host.command("pace")
@_connect_options
@_teacher_token
@click.argument("minutes", type=click.FloatRange(0.1, 1440.0))
def pace_cmd(url: str, token: str | None, teacher_token: str, minutes: float) -> None:
    """Set the pace for everyone: simulated MINUTES per real second."""
    _teacher(url, token, teacher_token, "pace", pace=minutes)
