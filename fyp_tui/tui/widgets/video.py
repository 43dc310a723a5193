"""The moving procedural "video": half-block pixels drawn by :mod:`fyp_tui.tui.art`.

The widget draws whatever frame time it is given (``show_frame``); the feed
screen's one animation timer drives it, so a paused video, a hidden screen or a
frozen test app simply stops calling it. A frame is rendered once into strips
(run-length segments with cached styles) and served line by line.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from fyp_tui.tui import art

HALF = "▀"


class VideoCanvas(Widget):
    """Renders ``art.frame`` for one video at a given play time."""

    DEFAULT_CSS = """
    VideoCanvas {
        width: 1fr;
        height: 1fr;
        min-height: 3;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._spec: art.ArtSpec | None = None
        self._styles: dict[tuple[int, int], Style] = {}
        self._t = 0.0
        self._strips: list[Strip] = []
        self._strips_key: tuple | None = None

    @property
    def spec(self) -> art.ArtSpec | None:
        return self._spec

    @property
    def frame_time(self) -> float:
        return self._t

    def set_video(self, video: int, topic: int, sound: int, t: float = 0.0) -> None:
        self._spec = art.art_spec(video, topic, sound)
        pal = art.palette(self._spec)
        self._styles = {
            (a, b): Style(color=pal[a], bgcolor=pal[b]) for a in range(art.LEVELS) for b in range(art.LEVELS)
        }
        self._t = t
        self._strips_key = None
        self.refresh()

    def clear_video(self) -> None:
        self._spec = None
        self._strips_key = None
        self.refresh()

    def show_frame(self, t: float) -> None:
        """Draw the frame at play time ``t`` (seconds)."""
        self._t = t
        self.refresh()

    def _frame_strips(self, size: Size) -> list[Strip]:
        key = (self._spec, size.width, size.height, self._t)
        if key == self._strips_key:
            return self._strips
        w, h = size.width, size.height
        if self._spec is None or w <= 0 or h <= 0:
            blank = Strip.blank(w, self.rich_style)
            strips = [blank] * h
        else:
            pix = art.frame(self._spec, w, h, self._t)
            styles = self._styles
            strips = [Strip([Segment(HALF * n, styles[(a, b)]) for n, a, b in row], w) for row in art.frame_runs(pix)]
        self._strips, self._strips_key = strips, key
        return strips

    def render_lines(self, crop: Region) -> list[Strip]:
        """The frame's strips as they are: every cell carries its own colours, so the
        widget needs none of the styles cache's work (borders, padding, tint)."""
        strips = self._frame_strips(self.size)
        width = self.size.width
        out = []
        for y in range(crop.y, crop.bottom):
            strip = strips[y] if 0 <= y < len(strips) else Strip.blank(width, self.rich_style)
            out.append(strip.crop(crop.x, crop.right) if (crop.x or crop.right != width) else strip)
        return out

    def render_line(self, y: int) -> Strip:
        strips = self._frame_strips(self.size)
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.rich_style)
