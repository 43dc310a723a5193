"""``fyp-tui --connect URL --profile NAME``: the app as a client of a classroom host."""

from __future__ import annotations

import sys
from typing import Any, cast

import click


def run_remote_app(*, url: str, profile: str, token: str | None, teacher_token: str | None = None) -> None:
    """Open the app on the host at ``url`` as ``profile``; a host that cannot be reached,
    a wrong token or a profile in use ends as one line before the terminal is taken."""
    click.echo(f"fyp-tui: joining the class at {url}…", err=True)
    from fyp_tui.host.protocol import PROFILE_RE
    from fyp_tui.host.remote import RemoteSession

    if not PROFILE_RE.match(profile):
        raise click.UsageError("--profile on a class host: 1..32 letters, digits, '_', '.' or '-'")
    remote = RemoteSession(url, profile, token=token, teacher_token=teacher_token)
    remote.preload()
    try:
        remote.check_store()
    except BaseException:
        remote.close()
        raise
    from fyp_tui.tui.classroom import ClassroomApp

    app = ClassroomApp(cast(Any, remote), pace=float(remote.hello.get("pace", 10.0)))
    app.run()
    if app.failed:
        from fyp_tui.text import printable

        click.echo(f"fyp-tui: error: {printable(app.failed, one_line=True)}", err=True)
        sys.exit(1)
