"""Profile: learned interests, the echo-chamber meter and knob, follows, likes, Refresh,
and a switch to another profile (:class:`SwitchProfileScreen`; the app saves the world
and opens again as that person)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from fyp_tui import fmt
from fyp_tui.live.summary import meter_verdict
from fyp_tui.live.views import ProfileData, StripItem
from fyp_tui.tui.messages import InterestsRefreshed, ProfileReady
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.screens.dialogs import ConfirmScreen
from fyp_tui.tui.widgets.header import AppHeader


def interests_content(p: ProfileData, width: int, rows: int = 12) -> Content:
    """The learned interests, strongest first: the top ones and, when there are more than
    ``rows``, the bottom ones too, so a topic turned negative stays in sight."""
    learned = [t for t in p.topics if abs(t[1]) > 1e-3]
    if not learned:
        return Content.assemble(
            ("No learned interests yet: watch, like and share, and they appear here.", "$text-muted")
        )
    if len(learned) > rows:
        bottom = rows // 3
        top = rows - bottom
        shown: list[tuple[str, float] | None] = [*learned[:top], None, *learned[-bottom:]]
        hidden = len(learned) - top - bottom
    else:
        shown, hidden = list(learned), 0
    topics = [t for t in shown if t is not None]
    peak = max(abs(v) for _n, v in topics) or 1.0
    name_w = min(max(len(n) for n, _v in topics), 16)
    bar_w = max(width - name_w - 9, 4)
    lines = []
    for topic in shown:
        if topic is None:
            lines.append(Content.assemble((f"{'⋯':>{name_w}} {hidden} more", "$text-muted")))
            continue
        name, v = topic
        style = "$accent" if v >= 0 else "$error"
        lines.append(
            Content.assemble(
                (name[:name_w].ljust(name_w), "$foreground"),
                " ",
                (fmt.bar(abs(v) / peak, bar_w), style),
                (f" {v:+.2f}", "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def echo_content(p: ProfileData, width: int) -> Content:
    """The diversity meter and the knob, each on one line of ``width`` cells (never wrapped,
    so the knob's value always shows)."""
    verdict = meter_verdict(p.diversity)
    style = {"echo chamber": "bold $error", "narrowing": "bold $warning"}.get(verdict, "bold $success")
    meter = f" {p.diversity * 100:3.0f}% "
    knob = f" {p.knob:.1f}"
    # the long labels while a bar of 8 cells still fits beside them
    meter_label = "Topic diversity " if width >= 16 + len(meter) + len(verdict) + 8 else "Diversity "
    knob_label = "Echo-chamber knob " if width >= 18 + len(knob) + 8 else "Knob "
    return Content("\n").join(
        [
            Content.assemble(
                (meter_label, "$text-muted"),
                (fmt.bar(p.diversity, max(width - len(meter_label) - len(meter) - len(verdict), 1)), "$text-secondary"),
                (meter, "$foreground"),
                (verdict, style),
            ),
            Content.assemble(
                (knob_label, "$text-muted"),
                (fmt.bar(p.knob, max(width - len(knob_label) - len(knob), 1)), "$accent"),
                (knob, "$foreground"),
            ),
        ]
    )


def list_content(title: str, items: tuple[str, ...], empty: str) -> Content:
    head = Content.assemble((title, "bold $text-secondary"), (f"  {len(items)}", "$text-muted"))
    if not items:
        return Content("\n").join([head, Content.assemble((f"  {empty}", "$text-muted"))])
    return Content("\n").join([head, *(Content.assemble(("  " + i, "$foreground")) for i in items[:10])])


class Fitted(Static):
    """A Static drawn for its own width, drawn again whenever that width changes (a
    scrollbar coming or going, a resize), so its lines never wrap."""

    def __init__(self, draw: Callable[[int], Content | None], *, id: str) -> None:
        super().__init__("", id=id)
        self._draw = draw

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.size.width:
            return  # not laid out yet: its first Resize draws it
        content = self._draw(self.size.width)
        if content is not None:
            self.update(content)


@dataclass
class ProfilesListed(Message):
    """The world's profiles, (name, cards watched), for the switch dialog."""

    profiles: list[tuple[str, int]]


class SwitchProfileScreen(ModalScreen[str | None]):
    """Pick another profile of this world, or type a new name; dismissed with the name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="switch.cancel", tooltip="Stay who you are")]

    def __init__(self, current: str, profiles: list[tuple[str, int]]) -> None:
        super().__init__()
        self.current = current
        self.profiles = profiles

    def compose(self) -> ComposeResult:
        with Vertical(id="switch-box", classes="dialog"):
            yield Static(Content.assemble(("Switch profile", "bold $accent")), classes="dialog-title")
            yield Static(
                Content.assemble(
                    ("The world is saved, and the app opens again as the profile you pick.", "$text-muted")
                ),
                classes="dialog-note",
            )
            options = [
                Option(
                    Content.assemble(
                        (name, "bold" if name == self.current else ""),
                        (f"  {cards:,} cards" + ("  (you now)" if name == self.current else ""), "$text-muted"),
                    ),
                    id=f"p{i}",
                )
                for i, (name, cards) in enumerate(self.profiles)
            ]
            yield OptionList(*options, id="switch-list")
            yield Input(placeholder="or a new profile's name, then enter", id="switch-new", max_length=64)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel esc", id="switch-cancel", compact=True, action="screen.cancel")

    def on_mount(self) -> None:
        self.query_one(OptionList if self.profiles else Input).focus()

    @on(OptionList.OptionSelected, "#switch-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.profiles[event.option_index][0])

    @on(Input.Submitted, "#switch-new")
    def _typed(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProfileScreen(FypScreen):
    MODE = "profile"
    BINDINGS = [
        Binding(
            "r",
            "refresh_interests",
            "Refresh",
            id="profile.refresh",
            tooltip="Reset your learned interests (asks first)",
        ),
        Binding(
            "left_square_bracket",
            "knob(-1)",
            "Knob -",
            id="profile.knob_down",
            tooltip="Turn the echo-chamber knob down: more of the same",
        ),
        Binding(
            "right_square_bracket",
            "knob(1)",
            "Knob +",
            id="profile.knob_up",
            tooltip="Turn the echo-chamber knob up: more exploration",
        ),
        Binding("d", "device", "Device", id="profile.device", tooltip="Switch your device (it counts weakly)"),
        Binding(
            "s",
            "switch_profile",
            "Switch",
            id="profile.switch",
            tooltip="Switch to another profile, or a new one",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: ProfileData | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader("profile", id="header")
        with VerticalScroll(id="profile-body"):
            with Horizontal(id="profile-head"):
                yield Static("", id="profile-title", classes="section-title")
                yield Button(
                    "⇄ Switch profile",
                    id="switch",
                    compact=True,
                    action="screen.switch_profile",
                    tooltip="Switch to another profile, or a new one (s)",
                )
            with Horizontal(id="profile-top"):
                with Vertical(id="profile-interests", classes="box"):
                    yield Static("Learned interests", classes="box-title")
                    yield Fitted(lambda w: interests_content(self.data, w) if self.data else None, id="interests")
                with Vertical(id="profile-echo", classes="box"):
                    yield Static("Echo chamber (last 50 videos)", classes="box-title")
                    yield Fitted(lambda w: echo_content(self.data, w) if self.data else None, id="echo")
                    yield Sparkline([], id="echo-chart")
                    with Horizontal(classes="button-row"):
                        yield Button(
                            "◀ same",
                            id="knob-down",
                            compact=True,
                            action="screen.knob(-1)",
                            tooltip="More of the same ([)",
                        )
                        yield Button(
                            "explore ▶",
                            id="knob-up",
                            compact=True,
                            action="screen.knob(1)",
                            tooltip="More exploration (])",
                        )
                        yield Button(
                            "↺ Refresh",
                            id="refresh",
                            compact=True,
                            variant="warning",
                            action="screen.refresh_interests",
                            tooltip="Reset learned interests (r)",
                        )
            with Horizontal(id="profile-lists"):
                yield Static("", id="follows", classes="box")
                yield Static("", id="liked", classes="box")
                yield Static("", id="favourites", classes="box")
            yield Static("", id="found-early", classes="box")
        yield Footer()

    def world_ready(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if self.fyp.ready:
            self.reload()

    def world_advanced(self, items: list[StripItem]) -> None:
        pass  # the profile changes with the person's actions, not the clock

    def reload(self) -> None:
        """Read the profile on the live layer's queue; it comes back as ProfileReady."""
        self.request(self.live.profile.data, reply=ProfileReady)

    @on(ProfileReady)
    def _profile_ready(self, message: ProfileReady) -> None:
        self.show_profile(message.data)

    def show_profile(self, p: ProfileData) -> None:
        self.data = p
        self.query_one("#profile-title", Static).update(
            Content.assemble(
                ("Profile ", "$text-muted"),
                (p.name, "bold $accent"),
                (f"  ·  {p.seen} videos seen", "$text-muted"),
                *(
                    (("  ·  device ", "$text-muted"), (p.device, "$foreground"), (" (d)", "$text-muted"))
                    if p.device
                    else ()
                ),
            )
        )
        self._render_parts()
        chart = self.query_one("#echo-chart", Sparkline)
        chart.data = list(p.diversity_series)
        chart.display = len(p.diversity_series) >= 5
        self.query_one("#follows", Static).update(list_content("Following", p.follows, "nobody yet (f on a card)"))
        self.query_one("#liked", Static).update(list_content("Liked", p.liked, "nothing yet (l on a card)"))
        self.query_one("#favourites", Static).update(
            list_content("Favourites", p.favourited, "nothing yet (b on a card)")
        )
        self.query_one("#found-early", Static).update(
            list_content(
                "Found early: you were among the first viewers, it climbed later",
                p.found_early,
                "none yet (◆ on a card: a video still in its test pool)",
            )
        )

    def _render_parts(self) -> None:
        for part in self.query(Fitted):
            part.redraw()

    def action_knob(self, direction: int) -> None:
        if self.data is None:
            return
        profile = self.live.profile
        knob = self.data.knob + self.fyp.settings.knob_step * direction

        def turn() -> ProfileData:
            profile.set_knob(knob)
            return profile.data()

        self.request(turn, reply=ProfileReady)

    def action_device(self) -> None:
        profile = self.live.profile

        def switch() -> ProfileData:
            profile.next_device()
            return profile.data()

        self.request(switch, reply=ProfileReady)

    def action_refresh_interests(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                profile = self.live.profile

                def refresh() -> ProfileData:
                    profile.refresh_interests()
                    return profile.data()

                self.request(refresh, reply=InterestsRefreshed)

        self.app.push_screen(
            ConfirmScreen(
                "Refresh your feed?",
                "This forgets the interests the feed has learned. Follows, likes and not-interested filters stay.",
                "Refresh",
            ),
            answered,
        )

    @on(InterestsRefreshed)
    def _interests_refreshed(self, message: InterestsRefreshed) -> None:
        self.notify("Learned interests reset. Follows and filters stay.", title="Refreshed", timeout=3)
        self.show_profile(message.data)

    def action_switch_profile(self) -> None:
        self.request(self.live.profile.others, reply=ProfilesListed)

    @on(ProfilesListed)
    def _profiles_listed(self, message: ProfilesListed) -> None:
        current = self.live.profile_name

        def chosen(name: str | None) -> None:
            if not name:
                return
            if name == current:
                self.notify(f"You are {name} already.", timeout=2)
                return
            self.fyp.switch_profile(name)

        self.app.push_screen(SwitchProfileScreen(current, message.profiles), chosen)
