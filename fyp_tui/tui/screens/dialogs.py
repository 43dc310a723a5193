"""Modal dialogs: help, not-interested choice, confirmation, errors."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


def key_text(keys: str) -> str:
    """A binding's keys as people write them: ``left_square_bracket,f1`` -> ``[, f1``;
    modifiers stay words (``ctrl+r``)."""
    shown = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        shown.append("+".join([*modifiers, format_key(name)]))
    return ", ".join(shown)


class HelpScreen(ModalScreen[None]):
    """Every key, built from the bindings (so a keymap change shows here)."""

    BINDINGS = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static(Content.assemble(("Keys", "bold $accent")), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(self._table(), id="help-table")
            yield Static(
                Content.assemble(
                    ("Mouse: ", "bold"),
                    ("wheel = next/previous, double-click the video = like, every action is a button. ", "$text-muted"),
                    ("ctrl+p", "bold"),
                    (" opens the command palette.", "$text-muted"),
                ),
                classes="dialog-note",
            )
            yield Button("Close", id="help-close", variant="primary", compact=True, action="screen.dismiss")

    def _table(self) -> Content:
        shown_rows = [(key_text(keys), what, where) for keys, what, where in self.rows]
        width = max((len(shown) for shown, _, _ in shown_rows), default=0) + 2
        lines = []
        where_prev = None
        for shown, what, where in shown_rows:
            if where != where_prev:
                if where_prev is not None:
                    lines.append(Content(""))
                lines.append(Content.assemble((where.capitalize(), "bold $text-secondary")))
                where_prev = where
            lines.append(Content.assemble((f"  {shown:<{width}}", "bold $accent"), (what, "$foreground")))
        return Content("\n").join(lines)


class NotInterestedScreen(ModalScreen[str | None]):
    """Not interested in what: this video, this creator or this sound."""

    BINDINGS = [
        Binding("v", "pick('not_interested_video')", "This video", id="ni.video", tooltip="Hide this video"),
        Binding(
            "c", "pick('not_interested_creator')", "This creator", id="ni.creator", tooltip="Show less of this creator"
        ),
        Binding("o", "pick('not_interested_sound')", "This sound", id="ni.sound", tooltip="Show less with this sound"),
        Binding("h", "pick('mute_hashtag')", "Mute hashtag", id="ni.hashtag", tooltip="Mute the video's hashtag"),
        Binding("escape,n", "pick('')", "Cancel", id="ni.cancel", tooltip="Keep watching"),
    ]

    def __init__(self, handle: str, sound: str, hashtag: str = "") -> None:
        super().__init__()
        self.handle = handle
        self.sound = sound
        self.hashtag = hashtag  # the hashtag "h" mutes ("": the video has none)

    def compose(self) -> ComposeResult:
        with Vertical(id="ni-box", classes="dialog"):
            yield Static(Content.assemble(("Not interested in…", "bold $accent")), classes="dialog-title")
            yield Button("v  This video", id="ni-video", compact=True, action="screen.pick('not_interested_video')")
            yield Button(
                f"c  @{self.handle[:22]}", id="ni-creator", compact=True, action="screen.pick('not_interested_creator')"
            )
            yield Button(
                f"o  ♫ {self.sound[:22]}", id="ni-sound", compact=True, action="screen.pick('not_interested_sound')"
            )
            if self.hashtag:
                yield Button(
                    f"h  Mute #{self.hashtag[:20]}", id="ni-hashtag", compact=True, action="screen.pick('mute_hashtag')"
                )
            yield Button("esc  Cancel", id="ni-cancel", compact=True, variant="default", action="screen.pick('')")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick" and parameters == ("mute_hashtag",) and not self.hashtag:
            return False
        return True

    def action_pick(self, kind: str) -> None:
        self.dismiss(kind or None)


class CommentScreen(ModalScreen[str | None]):
    """A short comment on the video (enter posts it, escape closes)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="comment.cancel", tooltip="Close without commenting"),
    ]

    def __init__(self, handle: str, max_chars: int) -> None:
        super().__init__()
        self.handle = handle
        self.max_chars = max_chars

    def compose(self) -> ComposeResult:
        with Vertical(id="comment-box", classes="dialog"):
            yield Static(
                Content.assemble((f"Comment on @{self.handle[:24]}'s video", "bold $accent")), classes="dialog-title"
            )
            yield Input(placeholder="Say something…", max_length=self.max_chars, id="comment-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("enter  Post", id="comment-post", variant="primary", compact=True, action="screen.post")
                yield Button("esc  Cancel", id="comment-cancel", compact=True, action="screen.cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_post()

    def action_post(self) -> None:
        text = self.query_one("#comment-text", Input).value.strip()
        if text:
            self.dismiss(text)
        else:
            self.notify("Type a comment first (escape closes)", timeout=2)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Confirm"),
        Binding("escape,n", "answer(False)", "No", id="confirm.no", tooltip="Cancel"),
    ]

    def __init__(self, title: str, text: str, yes: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(Content.assemble((self.title_text, "bold $accent")), classes="dialog-title")
            yield Static(self.text, classes="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"y  {self.yes}", id="confirm-yes", variant="warning", compact=True, action="screen.answer(True)"
                )
                yield Button("n  Cancel", id="confirm-no", compact=True, action="screen.answer(False)")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ErrorScreen(ModalScreen[None]):
    """A problem the app cannot work around (the world is locked, the database is bad)."""

    BINDINGS = [
        Binding("q,escape", "app.quit", "Quit", id="error.quit", tooltip="Quit fyp-tui"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="dialog"):
            yield Static(
                Content.assemble(("✕ ", "bold $error"), (self.title_text, "bold $error")), classes="dialog-title"
            )
            yield Static(self.message, id="error-message", classes="dialog-note")
            yield Static(
                Content.assemble(("Nothing you did is lost: reactions are saved as you make them.", "$text-muted")),
                classes="dialog-note",
            )
            yield Button("q  Quit", id="error-quit", variant="error", compact=True, action="app.quit")
