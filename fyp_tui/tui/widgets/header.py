"""The app header: where you are, the simulated clock and its pace."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.content import Content
from textual.widgets import Static

from fyp_tui import fmt

if TYPE_CHECKING:
    from fyp_tui.tui.app import FypApp

SCREENS = (("feed", "1 For You"), ("profile", "2 Profile"), ("studio", "3 Studio"), ("world", "4 World"))


class AppHeader(Static):
    """Reads the app's clock reactives; one per screen, docked top."""

    def __init__(self, current: str, **kw) -> None:
        super().__init__("", **kw)
        self.current = current

    def on_mount(self) -> None:
        app = self.app
        for name in ("sim_clock", "pace", "world_paused", "world_status", "autoplay_status"):
            self.watch(app, name, self._changed, init=False)
        self._changed()

    def _changed(self, _value: object = None) -> None:
        app = cast("FypApp", self.app)
        parts: list = [(" fyp-tui ", "bold $text on $primary"), " "]
        for key, label in SCREENS:
            if key == self.current:
                parts.append((f" {label} ", "bold $accent underline"))
            else:
                parts.append((f" {label} ", "$text-muted"))
        status = app.world_status
        parts.append("  ")
        if status:
            parts.append((status, "$text-muted"))
        else:
            parts.append((fmt.sim_clock(app.sim_clock), "bold $foreground"))
            if app.world_paused:
                parts.append(("  ‖ paused", "bold $warning"))
            else:
                parts.append((f"  ▶ {fmt.pace(app.pace)}", "$text-muted"))
        autoplay = app.autoplay_status
        if autoplay:
            parts.append((f"  ⏵ {autoplay}", "bold $accent"))
        self.update(Content.assemble(*parts))
