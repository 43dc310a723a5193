"""The ``fyp-tui`` command line.

Each command group lives in its own module and registers itself on :data:`cli`;
a module is imported only when one of its commands runs (:data:`COMMAND_MODULES`;
``--help`` imports them all), and heavy imports (textual, sqlmodel, faker) happen
inside the commands, so ``fyp-tui`` opens the app without loading the others and
``fyp-tui --help`` stays fast. Every error a person can cause ends as one line on
stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from fyp_tui import __version__
from fyp_tui.errors import FypError, Interrupted
from fyp_tui.text import json_safe, printable

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

#: set to 1 to get the Python traceback of an unexpected error instead of one line
DEBUG_ENV = "FYP_TUI_DEBUG"

DB_HELP = "SQLAlchemy URL or path of the world database [env: FYP_TUI_DB; default: a file in the user data dir]."


#: command name -> the module under fyp_tui.cli that registers it (a test checks it)
COMMAND_MODULES = {
    "audit": "feed",
    "config": "settings",
    "explain": "feed",
    "export": "sim",
    "host": "host",
    "simulate": "sim",
    "info": "world",
    "play": "play",
    "post": "post",
    "profiles": "profiles",
    "report": "report",
    "seed": "world",
    "serve": "serve",
}


def db_option(f):
    return click.option("--db", "db", metavar="URL", envvar="FYP_TUI_DB", default=None, help=DB_HELP)(f)


class ProfileName(click.ParamType):
    """A profile's name, as the store keeps it (surrounding spaces dropped): an empty or
    blank one is a usage error on the command line, before anything opens."""

    name = "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            self.fail("a profile name must not be empty", param, ctx)
        return text


PROFILE_NAME = ProfileName()


class LazyGroup(click.Group):
    """A group whose commands' modules are imported when a command is looked up."""

    def _load(self, name: str) -> None:
        module = COMMAND_MODULES.get(name)
        if module is not None and name not in self.commands:
            importlib.import_module(f"fyp_tui.cli.{module}")  # registers its commands on cli

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option(
    "--profile", type=PROFILE_NAME, default="me", show_default=True, help="Name of the person using the feed."
)
@click.option(
    "--autoplay",
    "autoplay",
    metavar="NAME|FILE",
    default=None,
    help="Open the app and let a bot scroll it (a built-in bot's name or a bot file, as `play --bot`) "
    "until you press a key; its profile is the bot's name unless --profile is given.",
)
@click.option("--connect", "connect", metavar="URL", default=None, help="Join a class: the app on a `fyp-tui host`.")
@click.option("--token", "token", default=None, envvar="FYP_TUI_TOKEN", help="The class host's join token.")
@click.option(
    "--teacher-token",
    "teacher_token",
    default=None,
    help="With --connect: the teacher's copy (p, +, - set the class's clock).",
)
@click.version_option(__version__, prog_name="fyp-tui")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    profile: str,
    autoplay: str | None,
    connect: str | None = None,
    token: str | None = None,
    teacher_token: str | None = None,
) -> None:
    """A terminal For You feed. With no command, open the app (seeding a demo world on first run)."""
    if ctx.invoked_subcommand is None and connect is not None:
        if autoplay is not None:
            raise click.UsageError("--autoplay needs a local world; it does not go with --connect")
        from fyp_tui.cli.connect import run_remote_app

        run_remote_app(url=connect, profile=profile, token=token, teacher_token=teacher_token)
        return
    if ctx.invoked_subcommand is not None:
        if autoplay is not None:
            raise click.UsageError(
                "--autoplay opens the app: give it without a command (for a headless bot: fyp-tui play --bot)"
            )
        _trap_signals(ctx)
        return
    from fyp_tui.cli.app import run_app

    if autoplay is not None:
        from click.core import ParameterSource

        from fyp_tui.audit import read_bot_ref

        bot = read_bot_ref(autoplay)  # a bad bot file: one line, before anything opens
        if ctx.get_parameter_source("profile") in (ParameterSource.DEFAULT, None):
            profile = bot.name
        run_app(db=db, profile=profile, autoplay=bot)
        return
    run_app(db=db, profile=profile)


def _trap_signals(ctx: click.Context) -> None:
    """For a command (not the app, which handles its keys itself): SIGINT, SIGTERM and
    SIGHUP raise :class:`Interrupted`, so a killed ``seed`` removes its temp file and
    a killed ``simulate`` rolls back, then exit with one line. Restored on close."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous: dict[int, Callable[[int, FrameType | None], Any] | int] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            old = signal.getsignal(sig)
            if old is signal.SIG_IGN:  # nohup, or a background job: keep ignoring it
                continue
            signal.signal(sig, handler)
            if old is not None:  # None: a handler not set from Python, which cannot be put back
                previous[sig] = old
        except (ValueError, OSError):  # pragma: no cover - not the main thread / not supported
            continue

    def restore() -> None:
        for sig, old in previous.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError, TypeError):  # pragma: no cover
                pass

    ctx.call_on_close(restore)


def echo(text: str, *, err: bool = False) -> None:
    """Print a command's text output: world strings in it (names, captions ...) have
    their control characters shown as escapes, never obeyed by the terminal."""
    click.echo(printable(text), err=err)


def echo_json(obj: object, **kwargs: Any) -> None:
    """Print ``obj`` as JSON (``ensure_ascii=False``, ``kwargs`` for ``json.dumps``),
    with no raw control character."""
    import json

    click.echo(json_safe(json.dumps(obj, ensure_ascii=False, **kwargs)))


def _fail(message: str, code: int) -> None:
    # a message may quote world data or the person's input: one line, nothing obeyed
    click.echo(f"fyp-tui: {printable(message, one_line=True)}", err=True)
    sys.exit(code)


def _line(exc: BaseException | str) -> str:
    """The first line of a message (a message is one line; a stray newline must not
    turn it into two)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected failure into one line."""
    try:
        rv = cli.main(args=argv, prog_name="fyp-tui", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as exc:
        _fail(f"error: {_line(exc.format_message())}", exc.exit_code)
    except FypError as exc:
        _fail(f"error: {_line(exc)}", exc.exit_code)
    except Interrupted as exc:
        _fail("interrupted", 128 + exc.signum)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:  # stdout closed early (`fyp-tui export videos | head`)
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:  # pragma: no cover
            pass
        sys.exit(1)
    except MemoryError:
        _fail("error: out of memory (try a smaller scenario or fewer hours)", 1)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {_line(exc)} "
            f"(a bug in fyp-tui; set {DEBUG_ENV}=1 for the traceback)",
            70,
        )
    if isinstance(rv, int) and rv:
        sys.exit(rv)
