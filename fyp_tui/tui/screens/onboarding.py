"""Onboarding, on a new profile's first run: pick interest topics, or skip."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, SelectionList, Static


class OnboardingScreen(ModalScreen[list[int] | None]):
    BINDINGS = [
        Binding(
            "enter",
            "start",
            "Start",
            id="onboarding.start",
            tooltip="Start the feed with the picked topics",
            priority=True,
        ),
        Binding("escape", "skip", "Skip", id="onboarding.skip", tooltip="Start from what is popular"),
    ]

    def __init__(self, topics: list[str]) -> None:
        super().__init__()
        self.topics = topics

    def compose(self) -> ComposeResult:
        with Vertical(id="onboarding-box", classes="dialog"):
            yield Static(Content.assemble(("Welcome to your For You feed", "bold $accent")), classes="dialog-title")
            yield Static(
                Content.assemble(
                    (
                        "Pick a few topics you like (space to tick), or skip and let the feed learn from what you watch.",
                        "$text-muted",
                    )
                ),
                classes="dialog-note",
            )
            yield SelectionList[int](*[(name, i) for i, name in enumerate(self.topics)], id="onboarding-topics")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start ⏎", id="onboarding-start", variant="primary", compact=True, action="screen.start")
                yield Button("Skip esc", id="onboarding-skip", compact=True, action="screen.skip")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_start(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    def action_skip(self) -> None:
        self.dismiss([])
