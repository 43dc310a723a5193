"""World: the tier funnel of all videos, trending sounds and hashtags, top videos now."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from fyp_tui import fmt
from fyp_tui.live.views import WorldData
from fyp_tui.tui.messages import OverviewReady
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.widgets.header import AppHeader

REFRESH_SECONDS = 1.0


def funnel_content(d: WorldData, width: int) -> Content:
    peak = max([a + s for _t, a, s in d.funnel] + [d.top, 1])
    bar_w = max(width - 24, 6)
    lines = []
    for tier, active, stalled in d.funnel:
        a = int(round(bar_w * active / peak))
        s = min(int(round(bar_w * stalled / peak)), bar_w - a)
        lines.append(
            Content.assemble(
                (f"tier {tier} ", "$foreground"),
                ("█" * a, "$accent"),
                ("░" * s, "$error"),
                (" " * (bar_w - a - s), ""),
                (f" {fmt.count(active):>5} ", "$foreground"),
                (f"{fmt.count(stalled):>5}", "$text-muted"),
            )
        )
    a = int(round(bar_w * d.top / peak))
    lines.append(
        Content.assemble(
            ("top    ", "bold $success"),
            ("█" * a, "$success"),
            (" " * (bar_w - a), ""),
            (f" {fmt.count(d.top):>5}", "$foreground"),
        )
    )
    lines.append(Content.assemble(("       ", ""), ("█ live  ", "$accent"), ("░ stalled", "$error")))
    return Content("\n").join(lines)


def _move(moves: tuple[str, ...], i: int) -> tuple[str, str]:
    """The rank change of item ``i`` as a styled piece (up green, down red, new accent)."""
    m = moves[i] if i < len(moves) else ""
    style = "$success" if m.startswith("▲") else "$error" if m.startswith("▼") else "$accent"
    return (f" {m}" if m else "", style)


def trends_content(d: WorldData) -> Content:
    lines = [Content.assemble(("Sounds", "bold $text-secondary"), (" (moves: last hour)", "$text-muted"))]
    lines += [
        Content.assemble((f" {i + 1}. ", "$text-muted"), ("♫ " + s[:30], "$foreground"), _move(d.sound_moves, i))
        for i, s in enumerate(d.trending_sounds)
    ] or [Content.assemble((" none yet", "$text-muted"))]
    lines.append(Content.assemble(("Hashtags", "bold $text-secondary")))
    lines += [
        Content.assemble((f" {i + 1}. ", "$text-muted"), (h[:30], "bold $accent"), _move(d.hashtag_moves, i))
        for i, h in enumerate(d.trending_hashtags)
    ] or [Content.assemble((" none yet", "$text-muted"))]
    return Content("\n").join(lines)


def top_content(d: WorldData, width: int) -> Content:
    lines = []
    cap_w = max(width - 30, 8)
    for _v, handle, caption, tier, views in d.top_videos:
        lines.append(
            Content.assemble(
                (f"t{tier} ", "bold $accent"),
                (f"{fmt.count(views):>6} ", "$foreground"),
                (f"@{handle[:14]:<14} ", "$text-secondary"),
                (caption[:cap_w], "$text-muted"),
            )
        )
    return Content("\n").join(lines) if lines else Content.assemble(("no live video has views yet", "$text-muted"))


class WorldScreen(FypScreen):
    MODE = "world"
    RELOAD_SECONDS = REFRESH_SECONDS
    BINDINGS = []

    def __init__(self) -> None:
        super().__init__()
        self.data: WorldData | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader("world", id="header")
        with VerticalScroll(id="world-body"):
            yield Static("", id="world-title", classes="section-title")
            with Horizontal(id="world-top"):
                with Vertical(id="world-funnel", classes="box"):
                    yield Static("Tier funnel", classes="box-title")
                    yield Static("", id="funnel")
                with Vertical(id="world-trends", classes="box"):
                    yield Static("Trending", classes="box-title")
                    yield Static("", id="trends")
            with Vertical(id="world-top-videos", classes="box"):
                yield Static("Top videos now", classes="box-title")
                yield Static("", id="top-videos")
        yield Footer()

    def reload(self) -> None:
        """Read the overview on the live layer's queue; it comes back as OverviewReady."""
        live = self.live
        self.request(lambda: OverviewReady(live.overview.data(), live.studio.account()), reply=lambda ready: ready)

    @on(OverviewReady)
    def _overview_ready(self, message: OverviewReady) -> None:
        d = self.data = message.data
        account = message.account
        self.query_one("#world-title", Static).update(
            Content.assemble(
                (f"{fmt.count(d.n_videos)} videos", "bold $foreground"),
                (f" · {fmt.count(d.n_viewers)} simulated viewers · ", "$text-muted"),
                (fmt.sim_clock(d.clock), "$foreground"),
                *(
                    ()
                    if account is None or not account.made
                    else (
                        (" · you post as ", "$text-muted"),
                        (f"@{account.handle}", "bold $accent"),
                        (f" ({fmt.count(account.followers)} followers)", "$text-muted"),
                    )
                ),
            )
        )
        self._render_parts()

    def _render_parts(self) -> None:
        d = self.data
        if d is None:
            return
        f = self.query_one("#funnel", Static)
        f.update(funnel_content(d, f.size.width or 40))
        self.query_one("#trends", Static).update(trends_content(d))
        t = self.query_one("#top-videos", Static)
        t.update(top_content(d, t.size.width or 76))

    def on_resize(self) -> None:
        self._render_parts()
