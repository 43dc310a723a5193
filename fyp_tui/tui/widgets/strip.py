"""The live event strip: promotions, stalls, trends; the person's own tips highlighted."""

from __future__ import annotations

from collections import deque

from textual.content import Content
from textual.widgets import Static

from fyp_tui import fmt
from fyp_tui.live.views import StripItem

MARKS = {
    "promoted": ("▲", "$success"),
    "stalled": ("■", "$error"),
    "trending": ("↑", "$text-secondary"),
    "milestone": ("◆", "$accent"),
}


def item_content(item: StripItem) -> Content:
    mark, style = MARKS.get(item.kind, ("·", "$text-muted"))
    clock = fmt.sim_clock(item.time).split(" ")[-1]
    if item.mine:
        return Content.assemble((f" ★ {clock} ", "bold $text on $warning-muted"), (f" {item.text}", "bold $warning"))
    return Content.assemble((f" {mark} {clock} ", style), (item.text, "$foreground"))


class EventStrip(Static):
    """Keeps the latest events; shows as many as it has lines, newest last."""

    def __init__(self, *, keep: int = 50, **kw) -> None:
        super().__init__("", **kw)
        self.items: deque[StripItem] = deque(maxlen=keep)
        self.last_mine: StripItem | None = None

    def on_mount(self) -> None:
        self._render_items()

    def add(self, items: list[StripItem]) -> None:
        if not items:
            return
        for item in items:
            self.items.append(item)
            if item.mine:
                self.last_mine = item
        self._render_items()

    def on_resize(self) -> None:
        self._render_items()

    def _render_items(self) -> None:
        rows = max(self.size.height, 1) if self.size.height else 2
        if not self.items:
            self.update(Content.assemble((" The world's events appear here as the clock runs.", "$text-muted")))
            return
        shown = list(self.items)[-rows:]
        # keep the person's latest tip visible even when newer events arrive
        if self.last_mine is not None and self.last_mine not in shown and rows >= 2:
            shown = [self.last_mine] + shown[-(rows - 1) :]
        self.update(Content("\n").join(item_content(i) for i in shown))
