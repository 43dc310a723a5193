"""``fyp-tui config path`` and ``fyp-tui config show``: where the settings file is, and
what it sets (see :mod:`fyp_tui.settings`)."""

from __future__ import annotations

import click

from fyp_tui.cli import cli, echo, echo_json


@cli.group("config")
def config_group() -> None:
    """The settings file: theme, pace, animation, knob defaults and the keymap."""


@config_group.command("path")
def config_path_cmd() -> None:
    """Print the settings file's path (FYP_TUI_CONFIG, else the user config dir); it may not exist yet."""
    from fyp_tui.settings import settings_path

    echo(str(settings_path()))


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def config_show_cmd(as_json: bool) -> None:
    """Print the settings in effect and every key binding's id and keys (the ids a
    [keymap] table in the file can move). A bad file: one line naming the key, exit 2."""
    from fyp_tui.settings import load_settings, settings_path
    from fyp_tui.tui.app import default_keymap, keymap_clashes, theme_names

    path = settings_path()
    defaults = default_keymap()
    settings = load_settings(path, themes=theme_names(), binding_ids=set(defaults))
    exists = path.is_file()
    bindings = {bid: settings.keymap.get(bid, keys) for bid, keys in sorted(defaults.items())}
    clashes = keymap_clashes(dict(settings.keymap))
    if as_json:
        echo_json(
            {
                "path": str(path),
                "exists": exists,
                "settings": settings.to_dict(),
                "bindings": bindings,
                "clashes": clashes,
            },
            indent=2,
        )
        return
    width = max(map(len, bindings)) + 2
    lines = [
        f"config     {path}" + ("" if exists else "  (no file yet: the defaults)"),
        f"theme      {settings.theme}",
        f"pace       {settings.pace:g} simulated minutes per second",
        f"animation  {'on' if settings.animation else 'off'}",
        f"knob       a new profile starts at {settings.knob:g}; [ and ] turn it by {settings.knob_step:g}",
        "",
        "keymap     binding id = keys (a [keymap] table in the file moves them)",
        *(
            f"  {bid:<{width}}{keys}" + ("   (from the file)" if bid in settings.keymap else "")
            for bid, keys in bindings.items()
        ),
        *(["", *clashes] if clashes else []),
    ]
    echo("\n".join(lines))
