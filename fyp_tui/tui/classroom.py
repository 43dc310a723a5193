"""The app as a client of a classroom host: the same app, plus the Class screen (key 5).

``fyp-tui --connect URL --profile NAME`` runs :class:`ClassroomApp` on a
:class:`~fyp_tui.host.remote.RemoteSession` (built by the CLI): every screen
talks to it exactly as to a local live session.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from fyp_tui.tui.app import FypApp
from fyp_tui.tui.screens.classroom import ClassScreen


class ClassroomApp(FypApp):
    """:class:`FypApp` with the Class screen."""

    MODES = {**FypApp.MODES, "class": ClassScreen}
    BINDINGS = [
        *FypApp.BINDINGS,
        Binding(
            "5",
            "show('class')",
            "Class",
            id="app.screen.class",
            show=False,
            tooltip="Who is online, the videos the class pushed, everyone's echo-chamber meter",
        ),
    ]

    def __init__(self, live: Any, **kw: Any) -> None:
        super().__init__(live, **kw)
        self.title = f"fyp-tui · class at {getattr(live, 'url', '')}"
