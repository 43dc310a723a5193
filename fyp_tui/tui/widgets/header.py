"""The app header: where you are, the simulated clock and its pace."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.content import Content
from textual.widgets import Static

from fyp_tui import fmt

if TYPE_CHECKING:
    from fyp_tui.tui.app import FypApp

SCREENS = (("feed", "1 For You"), ("profile", "2 Profile"), ("studio", "3 Studio"), ("world", "4 World"))


def tab_spans() -> list[tuple[int, int, str]]:
    """(first column, end column, screen) of each tab in the header."""
    spans, x = [], len(" fyp-tui  ")
    for key, label in SCREENS:
        width = len(label) + 2
        spans.append((x, x + width, key))
        x += width
    return spans


def tab_offset(name: str) -> int:
    """The column of the middle of screen ``name``'s tab (for a click)."""
    return next((start + end) // 2 for start, end, key in tab_spans() if key == name)


class AppHeader(Static):
    """Reads the app's clock reactives; one per screen, docked top. A click on a tab
    switches to its screen (the same action as its key)."""

    def __init__(self, current: str, **kw) -> None:
        super().__init__("", **kw)
        self.current = current

    def on_mount(self) -> None:
        app = self.app
        for name in ("sim_clock", "pace", "world_paused", "world_status", "autoplay_status", "slowed_for_post"):
            self.watch(app, name, self._changed, init=False)
        self._changed()

    def on_click(self, event: events.Click) -> None:
        """A click on a tab switches to its screen (the same action as its key)."""
        for start, end, key in tab_spans():
            if start <= event.x < end:
                event.stop()
                cast("FypApp", self.app).action_show(key)
                return

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
                if app.slowed_for_post:  # the studio slows the clock while your post is judged early
                    parts.append(("  ◷ your video", "bold $accent"))
                else:
                    parts.append((f"  ▶ {fmt.pace(app.pace)}", "$text-muted"))
        autoplay = app.autoplay_status
        if autoplay:
            parts.append((f"  ⏵ {autoplay}", "bold $accent"))
        self.update(Content.assemble(*parts))
