"""The ``fyp-tui`` command line.

Each command group lives in its own module and registers itself on :data:`cli`;
heavy imports (textual, sqlmodel, faker) happen inside the commands, so
``fyp-tui --help`` stays fast. Every error a person can cause ends as one line on
stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import sys

import click

from fyp_tui import __version__
from fyp_tui.errors import FypError

DB_HELP = "SQLAlchemy URL or path of the world database [env: FYP_TUI_DB; default: a file in the user data dir]."


def db_option(f):
    return click.option("--db", "db", metavar="URL", envvar="FYP_TUI_DB", default=None, help=DB_HELP)(f)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option("--profile", default="me", show_default=True, help="Name of the person using the feed.")
@click.version_option(__version__, prog_name="fyp-tui")
@click.pass_context
def cli(ctx: click.Context, db: str | None, profile: str) -> None:
    """A terminal For You feed. With no command, open the app (seeding a demo world on first run)."""
    if ctx.invoked_subcommand is not None:
        return
    from fyp_tui.cli.app import run_app

    run_app(db=db, profile=profile)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected failure into one line."""
    from fyp_tui.cli import app, feed, sim, world  # noqa: F401  (register commands)

    try:
        rv = cli.main(args=argv, prog_name="fyp-tui", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("fyp-tui: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"fyp-tui: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except FypError as exc:
        click.echo(f"fyp-tui: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("fyp-tui: interrupted", err=True)
        sys.exit(130)
    if isinstance(rv, int) and rv:
        sys.exit(rv)
