"""``fyp-tui serve [--connect URL | --db URL] [--port N]``: the app in web browsers, a tab a person.

textual-serve runs one app process per browser tab and relays its terminal over a
websocket. :class:`ClassServer` adds the person: ``/?profile=NAME`` opens the app
as ``NAME`` (its websocket is ``/ws/p/NAME``, so the command names the profile);
``/`` with no valid profile asks for one first. Every tab's app is a client of one
class host (``--connect URL``); with ``--db`` the server runs that host itself, in
the same process and event loop.
"""

from __future__ import annotations

import asyncio
import html
import shlex
import sys
from typing import Any

import aiohttp_jinja2
import click
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from fyp_tui.cli import cli, db_option
from fyp_tui.host.protocol import PROFILE_RE

ASK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:monospace;background:#111;color:#eee;display:flex;justify-content:center;padding-top:15vh}}
input,button{{font:inherit;padding:.4em}}</style></head>
<body><form method="get" action="/">
<h1>{title}</h1>
<p>Your name in the class (letters, digits, <code>_ . -</code>):</p>
<p><input name="profile" id="profile" pattern="[A-Za-z0-9_.\\-]{{1,32}}" required autofocus>
<button type="submit">Join</button></p>{error}
</form></body></html>
"""


def app_command(url: str, profile: str, token: str | None) -> str:
    """The shell command of one tab's app: this Python, the app as a client of ``url``."""
    parts = [sys.executable, "-m", "fyp_tui", "--connect", url, "--profile", profile]
    if token:
        parts += ["--token", token]
    return " ".join(shlex.quote(p) for p in parts)


class ClassServer(Server):
    """textual-serve with a profile per tab (see the module doc)."""

    def __init__(
        self, *, join_url: str | None, token: str | None = None, host: Any = None, bind: str, port: int
    ) -> None:
        super().__init__(command="fyp-tui", host=bind, port=port, title="fyp-tui · class")
        self.join_url = join_url
        self.token = token
        self.class_host = host  # a fyp_tui.host.server.Host to run here (serve --db), or None

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/ws/p/{profile}", self.handle_profile_websocket)
        if self.class_host is not None:
            app.on_startup.append(self._start_host)
            app.on_shutdown.append(self._stop_host)
        return app

    async def _start_host(self, app: web.Application) -> None:
        self.join_url = await self.class_host.start("127.0.0.1", 0)
        self.console.print(f"class host at {self.join_url}")

    async def _stop_host(self, app: web.Application) -> None:
        await self.class_host.stop()

    async def handle_index(self, request: web.Request) -> Any:
        profile = request.query.get("profile", "")
        if not PROFILE_RE.match(profile):
            error = "<p>That name has characters that are not allowed.</p>" if profile else ""
            return web.Response(
                text=ASK_PAGE.format(title=html.escape(self.title), error=error), content_type="text/html"
            )
        context = await Server.handle_index.__wrapped__(self, request)  # type: ignore[attr-defined]  # (the template's function)
        context["app_websocket_url"] = f"{context['app_websocket_url']}/p/{profile}"
        context["application"] = {"name": f"{self.title} · @{profile}"}
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_profile_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's websocket handler, with the tab's profile in the app's command."""
        profile = request.match_info["profile"]
        if not PROFILE_RE.match(profile) or not self.join_url:
            raise web.HTTPBadRequest(text="no such profile")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        service: AppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            service = AppService(
                app_command(self.join_url, profile, self.token),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        finally:
            if service is not None:
                await service.stop()
        return websocket


def _int(value: str | None, default: int) -> int:
    try:
        return max(10, min(int(value or default), 1000))
    except ValueError:
        return default


@cli.command("serve")
@click.option("--connect", "url", default=None, metavar="URL", help="The class host every tab joins (ws://...).")
@db_option
@click.option("--token", default=None, envvar="FYP_TUI_TOKEN", help="The class host's join token.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address the web server listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--pace", default=60.0, show_default=True, type=click.FloatRange(0.1, 1440.0), help="With --db.")
@click.pass_context
def serve(
    ctx: click.Context,
    url: str | None,
    db: str | None,
    token: str | None,
    bind: str,
    port: int,
    pace: float,
) -> None:
    """The app in web browsers: each tab is one person (``/?profile=NAME``, or asked)."""
    if db is None and ctx.parent is not None:
        db = ctx.parent.params.get("db")
    if url is not None and db is not None:
        raise click.UsageError("give --connect URL (a running host) or --db URL (host it here), not both")
    from fyp_tui.cli.host import is_loopback

    if not is_loopback(bind) and not token:
        raise click.UsageError(f"--bind {bind} reaches other machines: give a join token with --token")
    host = None
    if url is None:
        from fyp_tui.cli.app import seed_first_world, world_exists
        from fyp_tui.host.server import Host
        from fyp_tui.host.world import SharedWorld
        from fyp_tui.store.db import resolve_url

        world_url = resolve_url(db)
        if not world_exists(world_url):
            world_url = seed_first_world(db)
        shared = SharedWorld(world_url)
        shared.open()
        shared.pace = pace
        host = Host(shared, token=token)
    click.echo(f"fyp-tui serve: open http://{bind}:{port}/?profile=NAME in a browser (one tab, one person)")
    ClassServer(join_url=url, token=token, host=host, bind=bind, port=port).serve()
