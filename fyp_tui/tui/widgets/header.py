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
#: the Class screen's tab, on an app that has the screen (a client of a class host)
CLASS_TAB = ("class", "5 Class")
BRAND = " fyp-tui "


def tab_spans(tabs: tuple[tuple[str, str], ...] = SCREENS, brand: bool = True) -> list[tuple[int, int, str]]:
    """(first column, end column, screen) of each tab in the header."""
    spans, x = [], len(BRAND) + 1 if brand else 0
    for key, label in tabs:
        width = len(label) + 2
        spans.append((x, x + width, key))
        x += width
    return spans


def tab_offset(name: str, tabs: tuple[tuple[str, str], ...] = SCREENS, brand: bool = True) -> int:
    """The column of the middle of screen ``name``'s tab (for a click)."""
    return next((start + end) // 2 for start, end, key in tab_spans(tabs, brand) if key == name)


class AppHeader(Static):
    """Reads the app's clock reactives; one per screen, docked top. A click on a tab
    switches to its screen (the same action as its key). When the tabs and the clock
    do not fit the width (five tabs at 80 columns), the brand makes room."""

    def __init__(self, current: str, **kw) -> None:
        super().__init__("", **kw)
        self.current = current
        self.brand = True

    @property
    def tabs(self) -> tuple[tuple[str, str], ...]:
        return (*SCREENS, CLASS_TAB) if CLASS_TAB[0] in cast("FypApp", self.app).MODES else SCREENS

    def on_mount(self) -> None:
        app = self.app
        for name in ("sim_clock", "pace", "world_paused", "world_status", "autoplay_status", "slowed_for_post"):
            self.watch(app, name, self._changed, init=False)
        self._changed()

    def on_resize(self) -> None:
        self._changed()

    def on_click(self, event: events.Click) -> None:
        """A click on a tab switches to its screen (the same action as its key)."""
        for start, end, key in tab_spans(self.tabs, self.brand):
            if start <= event.x < end:
                event.stop()
                cast("FypApp", self.app).action_show(key)
                return

    def _changed(self, _value: object = None) -> None:
        app = cast("FypApp", self.app)
        parts: list = []
        for key, label in self.tabs:
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
        line = Content.assemble(*parts)
        self.brand = not self.size.width or line.cell_length + len(BRAND) + 1 <= self.size.width
        if self.brand:
            line = Content.assemble((BRAND, "bold $text on $primary"), " ", line)
        self.update(line)
