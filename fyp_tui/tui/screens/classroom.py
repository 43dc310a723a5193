"""The Class screen: who is online, the videos the class pushed and posted, everyone's echo-chamber meter.

Shown in the app when it is a client of a classroom host (``fyp-tui --connect``):
the data comes from the host's ``class`` op (``live.classroom.data``), once a
tick at most every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Static

from fyp_tui import fmt
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.widgets.header import AppHeader

#: real seconds between two reads of the class while the screen shows
REFRESH_SECONDS = 2.0
#: cells of a person's meter
METER = 20


@dataclass
class ClassReady(Message):
    data: Any  # fyp_tui.host.protocol.ClassData


def meter(value: float, width: int = METER) -> str:
    """The echo-chamber meter as a bar: full is every topic, empty is one."""
    full = round(max(0.0, min(value, 1.0)) * width)
    return "█" * full + "░" * (width - full)


def people_content(data: Any) -> Content:
    """One line a person: online, cards, reactions, tips and their meter, side by side."""
    if not data.people:
        return Content.assemble(("nobody has joined yet", "$text-muted"))
    lines = [
        Content.assemble(
            (f"{'':2}{'who':<18}{'cards':>6}{'reacts':>7}{'tips':>5}  ", "$text-muted"),
            ("echo chamber ◀ meter ▶ diverse", "$text-muted"),
        )
    ]
    for p in data.people:
        dot = ("● ", "$success") if p.connected else ("○ ", "$text-muted")
        lines.append(
            Content.assemble(
                dot,
                (f"@{fmt.short(p.profile, 16):<17}", "bold $foreground" if p.connected else "$text-muted"),
                (f"{p.cards:>6}{p.reactions:>7}{p.tips:>5}  ", "$foreground"),
                (meter(p.diversity), "$accent"),
                (f" {p.diversity:.2f}", "$foreground"),
            )
        )
    return Content("\n").join(lines)


def pushed_content(data: Any) -> Content:
    if not data.pushed:
        return Content.assemble(("no decision tipped by the class yet", "$text-muted"))
    return Content("\n").join(
        Content.assemble(
            (f"{fmt.sim_clock(p.time)}  ", "$text-muted"), (f"@{p.profile}'s ", "bold $accent"), (p.text, "$foreground")
        )
        for p in data.pushed
    )


def posts_content(data: Any) -> Content:
    """The videos the class posted from the Studio, newest first: whose, where they stand."""
    posts = getattr(data, "posts", ())  # (a host of protocol version 1 sends none)
    if not posts:
        return Content.assemble(("nobody in the class has posted yet (Studio, key 3)", "$text-muted"))
    marks = {"stalled": ("■", "$error"), "top": ("★", "$success")}
    return Content("\n").join(
        Content.assemble(
            (f"{fmt.sim_clock(p.time)}  ", "$text-muted"),
            (f"@{p.profile} ", "bold $accent"),
            (f"{marks.get(p.status, ('●', '$accent'))[0]} t{p.tier} ", marks.get(p.status, ("●", "$accent"))[1]),
            (f"{fmt.count(p.views):>5} views  ", "$foreground"),
            (fmt.short(p.caption, 40), "$text-muted"),
        )
        for p in posts
    )


class ClassScreen(FypScreen):
    MODE = "class"
    RELOAD_SECONDS = REFRESH_SECONDS
    BINDINGS = []

    def __init__(self) -> None:
        super().__init__()
        self.data: Any = None

    def compose(self) -> ComposeResult:
        yield AppHeader("class", id="header")
        with VerticalScroll(id="class-body"):
            yield Static("", id="class-title", classes="section-title")
            with Vertical(id="class-people", classes="box"):
                yield Static("The class", classes="box-title")
                yield Static("", id="people")
            with Vertical(id="class-pushed", classes="box"):
                yield Static("Videos the class pushed", classes="box-title")
                yield Static("", id="pushed")
            with Vertical(id="class-posts", classes="box"):
                yield Static("Videos the class posted", classes="box-title")
                yield Static("", id="posts")
        yield Footer()

    def reload(self) -> None:
        classroom = getattr(self.live, "classroom", None)
        if classroom is None:
            self.query_one("#class-title", Static).update("Not on a class host (fyp-tui --connect URL)")
            return
        self.request(classroom.data, reply=ClassReady)

    @on(ClassReady)
    def _class_ready(self, message: ClassReady) -> None:
        d = self.data = message.data
        online = sum(p.connected for p in d.people)
        state = "paused by the teacher" if d.paused else f"{d.pace:g} simulated min/s"
        self.query_one("#class-title", Static).update(
            Content.assemble(
                (f"{online} online", "bold $foreground"),
                (f" of {len(d.people)} · ", "$text-muted"),
                (fmt.sim_clock(d.clock), "$foreground"),
                (f" · {state}", "$text-muted"),
            )
        )
        self.query_one("#people", Static).update(people_content(d))
        self.query_one("#pushed", Static).update(pushed_content(d))
        self.query_one("#posts", Static).update(posts_content(d))
