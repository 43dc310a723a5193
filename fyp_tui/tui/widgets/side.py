"""The side panel: "Why this video" and "Spread", as two tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Sparkline, Static, TabbedContent, TabPane

from fyp_tui import fmt
from fyp_tui.live.strip import INSTEAD
from fyp_tui.live.views import OUTLOOK_WORDS, SpreadData, TierStep, WhyData

Part = "str | tuple[str, str]"


def _line(*parts) -> Content:
    return Content.assemble(*parts, end="\n")


def budget_line(tier_views: int, budget: int, width: int) -> list[Content]:
    if budget <= 0:
        return [_line(("  site-wide: ", "$text-muted"), (f"{fmt.count(tier_views)} views in this tier", "$foreground"))]
    frac = tier_views / budget if budget else 0.0
    w = max(width - 8, 6)
    return [
        _line(("  budget ", "$text-muted"), (f"{fmt.count(tier_views)} / {fmt.count(budget)} views", "$foreground")),
        _line("  ", (fmt.bar(frac, w), "$accent"), (f" {min(frac, 1) * 100:3.0f}%", "$text-muted")),
    ]


_OUTLOOK_STYLE = {
    "moving up": ("▲ ", "bold $success"),
    "stalling": ("▼ ", "bold $warning"),
    "undecided": ("● ", "$accent"),
    "no views": ("", "$text-muted"),
    "stalled": ("■ ", "bold $error"),
    "site-wide": ("★ ", "bold $success"),
}


def bar_verdict(outlook: str, next_look: int | None) -> Content:
    """The tier's outlook, in the words ``explain`` uses (the engine derives it from the
    bounds and the bar shown above it, by the ladder's own rule)."""
    mark, style = _OUTLOOK_STYLE.get(outlook, ("", "$text-muted"))
    words = OUTLOOK_WORDS.get(outlook, outlook)
    look = (
        f" ({next_look:,} views)" if next_look is not None and outlook in ("moving up", "stalling", "undecided") else ""
    )
    return _line((f"  {mark}{words}{look}", style))


def why_content(why: WhyData | None, width: int) -> Content:
    if why is None:
        return Content("No video yet.")
    lines: list[Content] = [
        _line(
            ("Score ", "$text-muted"),
            (f"{why.score:+.3f}", "bold $foreground"),
            ("  from ", "$text-muted"),
            (why.source, "bold $accent"),
        ),
        _line(),
    ]
    contribs = sorted(why.contributions, key=lambda c: -abs(c.value))
    name_w = min(max((len(c.name) for c in contribs), default=8), max(width // 2, 10))
    bar_w = max(width - name_w - 10, 4)
    peak = max((abs(c.value) for c in contribs), default=1.0) or 1.0
    for c in contribs:
        style = "$success" if c.value >= 0 else "$error"
        lines.append(
            _line(
                (c.name[:name_w].ljust(name_w), "$foreground"),
                " ",
                (fmt.bar(abs(c.value) / peak, bar_w), style),
                (f" {c.value:+.2f}", "$text-muted"),
            )
        )
    lines.append(_line())
    lines.append(
        _line(
            ("Ladder ", "$text-muted"),
            (fmt.tier_name(why.tier), "bold $foreground"),
            (f"  ({why.status})", "$text-muted"),
        )
    )
    lines.extend(budget_line(why.tier_views, why.budget, width))
    if why.outlook not in ("stalled", "site-wide", "no views"):
        lines.append(
            _line(
                ("  score ", "$text-muted"),
                (f"{why.tier_score:.3f} .. {why.tier_ucb:.3f}", "$foreground"),
                ("  bar ", "$text-muted"),
                (f"{why.bar:.3f}", "$foreground"),
            )
        )
    lines.append(bar_verdict(why.outlook, why.next_look))
    for note in why.notes:
        lines.append(_line(("· " + note, "$text-muted")))
    return Content("").join(lines).rstrip()


def step_line(step: TierStep, width: int) -> list[Content]:
    if step.outcome == "promoted":
        mark, style = "▲", "$success"
    elif step.outcome.startswith("stalled"):
        mark, style = "■", "$error"
    else:
        mark, style = "●", "$accent"
    head = _line(
        (f"{mark} {fmt.tier_name(step.tier)} ", f"bold {style}"),
        (step.outcome, style),
        (f"  {fmt.sim_clock(step.time)}", "$text-muted"),
    )
    budget = f"/{fmt.count(step.budget)}" if step.budget else ""
    body = _line(
        ("   ", ""),
        (f"{fmt.count(step.impressions)}{budget} views", "$foreground"),
        ("  score ", "$text-muted"),
        (f"{step.score:.3f}", "$foreground"),
        (" vs bar ", "$text-muted"),
        (f"{step.bar:.3f}", "$foreground"),
    )
    out = [head, body]
    if step.tipped_by:
        text = (
            f"   ★ without your {step.tipped_by} {INSTEAD.get(step.instead or '', 'it would have gone the other way')}"
        )
        if step.instead is None:
            text = f"   ★ your {step.tipped_by} decided it"
        out.append(_line((text, "bold $warning")))
    return out


def spread_content(spread: SpreadData | None, width: int) -> Content:
    if spread is None:
        return Content("No video yet.")
    lines: list[Content] = [
        _line(("Climb ", "$text-muted"), (f"{fmt.count(spread.views)} views so far", "bold $foreground"))
    ]
    for step in spread.steps:
        lines.extend(step_line(step, width))
    if spread.rates:
        lines.append(_line())
        lines.append(_line(("Rates in this tier", "$text-muted")))
        bar_w = max(width - 20, 4)
        for name, rate in spread.rates:
            lines.append(
                _line(
                    (name[:10].ljust(10), "$foreground"),
                    (fmt.bar(rate, bar_w), "$text-secondary"),
                    (f" {rate * 100:5.1f}%", "$text-muted"),
                )
            )
    if spread.comments:
        lines.append(_line())
        lines.append(_line(("Comments", "$text-muted")))
        for who, text in spread.comments:
            lines.append(_line((f"{who}: ", "bold $text-secondary"), (text, "$foreground")))
    return Content("").join(lines).rstrip()


class FittedText(Widget):
    """Text drawn to the widget's width (bars span it): built from ``data`` by
    ``build(data, width)`` for the width layout gives it, both when layout asks for
    its height and when it renders, so the height and the picture always agree
    (building it once ahead, at a width guessed before layout, did not)."""

    DEFAULT_CSS = "FittedText { height: auto; }"

    def __init__(self, build: Callable[[Any, int], Content], **kw) -> None:
        super().__init__(**kw)
        self._build = build
        self.data: Any = None

    def show(self, data: Any) -> None:
        self.data = data
        self.refresh(layout=True)

    @property
    def content(self) -> Content:
        """What is drawn now."""
        return self._build(self.data, self.content_size.width or 34)

    def render(self) -> Content:
        return self.content

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # RenderStyles is read through .get like the RulesMap it is typed as (Textual's Widget does the same)
        return self._build(self.data, width).get_height(self.styles, width) if width else 0  # type: ignore[arg-type]


class WhyView(FittedText):
    """Renders :class:`WhyData`."""

    def __init__(self, **kw) -> None:
        super().__init__(why_content, **kw)


class SpreadView(Vertical):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.data: SpreadData | None = None

    def compose(self) -> ComposeResult:
        yield FittedText(spread_content, id="spread-text")
        yield Static("", id="spread-caption")
        yield Sparkline([], id="spread-chart")

    def show(self, spread: SpreadData | None) -> None:
        self.data = spread
        self.query_one("#spread-text", FittedText).show(spread)
        cap = self.query_one("#spread-caption", Static)
        chart = self.query_one("#spread-chart", Sparkline)
        if spread is not None and len(spread.views_series) >= 2:
            cap.update(
                Content.assemble(
                    ("Views over ", "$text-muted"),
                    (fmt.span(spread.series_span), "$foreground"),
                    (" of simulated time", "$text-muted"),
                )
            )
            chart.data = list(spread.views_series)
            chart.display = True
        else:
            cap.update(Content.assemble(("Views chart: fills in as the clock runs", "$text-muted")))
            chart.data = []
            chart.display = False


class SidePanel(Vertical):
    """Two tabs about the current video; the screen fills them through :meth:`show`.

    Its scroll areas never take focus: the feed's keys (arrows included) stay with
    the feed, and the panel scrolls with the mouse wheel.
    """

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="tab-why", id="side-tabs"):
            with TabPane("Why this video", id="tab-why"):
                with VerticalScroll(can_focus=False):
                    yield WhyView(id="why")
            with TabPane("Spread", id="tab-spread"):
                with VerticalScroll(can_focus=False):
                    yield SpreadView(id="spread")

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def switch_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-spread" if tabs.active == "tab-why" else "tab-why"

    def show(self, why: WhyData | None, spread: SpreadData | None) -> None:
        self.query_one(WhyView).show(why)
        self.query_one(SpreadView).show(spread)
