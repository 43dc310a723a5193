"""The app as a client of a classroom host: the same app, plus the Class screen (key 5).

The clock is the host's: the header shows the pace the teacher set, and "paused by
the teacher"; the clock keys (p, +, -) change it for everyone on the teacher's copy
(``--teacher-token``) and only say so on the others.

``fyp-tui --connect URL --profile NAME`` runs :class:`ClassroomApp` on a
:class:`~fyp_tui.host.remote.RemoteSession` (built by the CLI): every screen
talks to it exactly as to a local live session.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.binding import Binding

from fyp_tui.tui.app import PACES, FypApp
from fyp_tui.tui.messages import WorldAdvanced
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

    @property
    def remote(self) -> Any:
        """The session on the host (a :class:`~fyp_tui.host.remote.RemoteSession`: the
        app types ``live`` as the local session whose interface it shares)."""
        return self.live

    # -- the class's clock is the host's: shown as the teacher set it ---------------------
    def on_world_advanced(self, message: WorldAdvanced) -> None:
        # (Textual also calls FypApp's handler of this message, after this one: calling it
        # here too ran every tick twice, each strip line and its toast shown twice)
        live = self.remote
        if live.host_pace:
            self.pace = live.host_pace
        teacher_paused = "paused by the teacher"
        if live.host_paused:
            self.world_status = teacher_paused
        elif self.world_status == teacher_paused:
            self.world_status = ""

    def action_toggle_world(self) -> None:
        if self._teach():
            self.set_class_clock(paused=not self.remote.host_paused)

    def action_faster(self) -> None:
        if self._teach():
            bigger = [p for p in PACES if p > self.remote.host_pace]
            self.set_class_clock(pace=bigger[0] if bigger else PACES[-1])

    def action_slower(self) -> None:
        if self._teach():
            smaller = [p for p in PACES if p < self.remote.host_pace]
            self.set_class_clock(pace=smaller[-1] if smaller else PACES[0])

    def fast_forward(self, hours: float) -> None:
        """The Studio's +1 h: the class's clock is the host's, run at the teacher's pace."""
        self.notify("The host runs the class's clock (the teacher sets its pace).", timeout=3)

    def _teach(self) -> bool:
        if not self.remote.teacher:
            self.notify("The teacher sets the class's clock.", timeout=3)
            return False
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="teacher")
    def set_class_clock(self, *, paused: bool | None = None, pace: float | None = None) -> None:
        """The teacher's key: the host pauses or paces the clock for everyone."""
        try:
            self.remote.set_clock(paused=paused, pace=pace)
        except Exception as exc:
            self.call_from_thread(self.show_error, exc)
