"""Creator studio: post a video and follow it live as the audience meets it."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.suggester import Suggester
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Sparkline, Static
from textual.widgets.option_list import Option
from textual.widgets.select import NoSelection

from fyp_tui import fmt
from fyp_tui.errors import UsageError
from fyp_tui.live.studio import DURATION_MAX, DURATION_MIN, Studio
from fyp_tui.live.views import CreatorAccount, PostedVideo, StripItem
from fyp_tui.tui.messages import JobFailed, MyVideosReady, PostRefused, StudioChoices, VideoPosted
from fyp_tui.tui.screens.base import FypScreen
from fyp_tui.tui.widgets.header import AppHeader
from fyp_tui.tui.widgets.side import step_line


class HashtagSuggester(Suggester):
    """Completes the last hashtag typed to one the world has, the topic's own first
    (the live layer's :meth:`~fyp_tui.live.studio.Studio.complete_hashtag`)."""

    def __init__(self, studio: Studio, topic) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # (the topic changes the order)
        self.studio = studio
        self.topic = topic  # () -> the form's topic id or None

    async def get_suggestion(self, value: str) -> str | None:
        return self.studio.complete_hashtag(value, self.topic())


def account_line(a: CreatorAccount) -> Content:
    who = f"@{a.handle}"
    if not a.made:
        return Content.assemble(
            ("You post as ", "$text-muted"),
            (who, "bold $accent"),
            (f" · {a.country}/{a.language} · your first post makes the account", "$text-muted"),
        )
    return Content.assemble(
        ("You post as ", "$text-muted"),
        (who, "bold $accent"),
        (
            f" · {fmt.count(a.followers)} followers · {a.posts} post{'' if a.posts == 1 else 's'}"
            f" · {a.country}/{a.language}",
            "$text-muted",
        ),
    )


def posted_line(v: PostedVideo) -> Content:
    if v.status == "stalled":
        mark, style = "■", "$error"
    elif v.status == "top":
        mark, style = "★", "$success"
    else:
        mark, style = "●", "$accent"
    return Content.assemble(
        (f"{mark} t{v.tier} ", f"bold {style}"),
        (f"{fmt.count(v.views):>5} ", "$foreground"),
        (v.caption[:40], "$text-muted"),
    )


def detail_content(v: PostedVideo, width: int) -> Content:
    lines: list[Content] = [
        Content.assemble((v.caption[: max(width, 10)], "bold $foreground")),
        Content.assemble(
            (f"tier {v.tier} · {v.status}", "$accent"),
            (
                f" · {fmt.count(v.views)} views · {fmt.count(v.likes)} like{'' if v.likes == 1 else 's'}"
                f" · {fmt.count(v.shares)} share{'' if v.shares == 1 else 's'}",
                "$text-muted",
            ),
        ),
    ]
    if v.watched:
        lines.append(Content.assemble(("◷ the clock runs slow while its early tiers decide", "$accent")))
    if v.budget and v.status == "active":
        frac = v.tier_views / v.budget
        lines.append(
            Content.assemble(
                ("budget ", "$text-muted"),
                (fmt.bar(frac, max(width - 22, 4)), "$accent"),
                (f" {v.tier_views}/{v.budget}", "$text-muted"),
            )
        )
    if v.status == "active" and v.tier_views == 0:
        lines.append(
            Content.assemble(("no views in this tier yet: its test audience meets it as the clock runs", "$text-muted"))
        )
    elif v.status == "active":
        gap = v.score - v.bar
        style = "$success" if gap >= 0 else "$warning"
        lines.append(
            Content.assemble(
                ("score ", "$text-muted"),
                (f"{v.score:.3f}", style),
                (" vs bar ", "$text-muted"),
                (f"{v.bar:.3f}", "$foreground"),
                (" (passing)" if gap >= 0 else " (below)", style),
            )
        )
    for step in v.steps:
        lines.extend(c.rstrip() for c in step_line(step, width))
    if v.post_mortem:
        lines.append(Content.assemble(("Why it stalled", "bold $error")))
        lines.extend(Content.assemble((line, "$text-muted")) for line in v.post_mortem)
    elif v.rates:
        bar_w = max(width - 20, 4)
        for name, rate in v.rates:
            lines.append(
                Content.assemble(
                    (name[:10].ljust(10), "$foreground"),
                    (fmt.bar(rate, bar_w), "$text-secondary"),
                    (f" {rate * 100:5.1f}%", "$text-muted"),
                )
            )
    return Content("\n").join(lines)


class StudioScreen(FypScreen):
    MODE = "studio"
    #: the caption has focus when the screen opens: typing goes into the form
    AUTO_FOCUS = "#caption"
    BINDINGS = [
        Binding("ctrl+r", "post", "Post", id="studio.post", tooltip="Post the video (also the Post button)"),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            id="studio.leave_field",
            tooltip="Leave the form's field, so the app's keys work again (tab goes back)",
        ),
        Binding(
            "ctrl+f",
            "fast_forward",
            "+1 h",
            id="studio.fast_forward",
            tooltip="Run the world one simulated hour ahead now",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.videos: list[PostedVideo] = []
        self.selected: int | None = None
        self._topic_auto = True  # the topic follows the hashtags until the person picks one
        self._setting_topic = False

    def compose(self) -> ComposeResult:
        yield AppHeader("studio", id="header")
        with Horizontal(id="studio-body"):
            with VerticalScroll(id="studio-form", classes="box", can_focus=False):  # (tab goes to the caption)
                yield Static("Post a video", classes="box-title")
                yield Static("", id="studio-account")
                with Grid(id="studio-grid"):
                    yield Label("Caption")
                    yield Input(placeholder="what is it about?", id="caption", compact=True, max_length=150)
                    yield Label("Hashtags")
                    yield Input(
                        placeholder="#tag #tag (→ completes)",
                        id="hashtags",
                        compact=True,
                        suggester=HashtagSuggester(self.live.studio, self._topic_value),
                    )
                    yield Label("Sound")
                    yield Select([], id="sound", compact=True, allow_blank=True, prompt="pick a sound")
                    yield Label("Seconds")
                    yield Input("20", id="duration", compact=True, type="integer", max_length=3)
                    yield Label("Topic")
                    yield Select([], id="topic", compact=True, allow_blank=True, prompt="pick a topic")
                with Horizontal(classes="button-row"):
                    yield Button(
                        "Post ⏎",
                        id="post",
                        variant="primary",
                        compact=True,
                        action="screen.post",
                        tooltip="Post it (ctrl+r)",
                    )
                    yield Button(
                        "» +1 h",
                        id="fast-forward",
                        compact=True,
                        action="screen.fast_forward",
                        tooltip="Run the world one simulated hour ahead (ctrl+f)",
                    )
                yield Static("", id="studio-error")
            with Vertical(id="studio-mine", classes="box"):
                yield Static("Your videos", classes="box-title")
                yield OptionList(id="my-videos")
                with VerticalScroll(id="studio-detail-scroll"):
                    yield Static("", id="studio-detail")
                    yield Sparkline([], id="studio-chart")
        yield Footer()

    def _topic_value(self) -> int | None:
        topic = self.query_one("#topic", Select).value
        return None if isinstance(topic, NoSelection) else int(topic)

    def _in_form(self) -> bool:
        focused = self.focused
        return focused is not None and self.query_one("#studio-form") in focused.ancestors_with_self

    def on_key(self, event: events.Key) -> None:
        """A key typed while a form field has focus is the form's, never an app binding
        (a Select or a button takes no text: its letters must not quit or switch screens)."""
        if self._in_form() and event.is_printable and event.key not in ("space",):
            event.stop()
            event.prevent_default()

    def action_leave_field(self) -> None:
        if self._in_form():
            self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return self._in_form()
        return True

    @on(Input.Changed, "#hashtags")
    def _hashtags_changed(self, event: Input.Changed) -> None:
        """The topic follows the hashtags (the topic their known tags name), until picked by hand."""
        if not self._topic_auto or not self.fyp.ready:
            return
        topic = self.live.studio.topic_for_hashtags(event.value)
        if topic is not None and topic != self._topic_value():
            self._setting_topic = True
            self.query_one("#topic", Select).value = topic

    @on(Select.Changed, "#topic")
    def _topic_changed(self, event: Select.Changed) -> None:
        if self._setting_topic:
            self._setting_topic = False
        else:
            self._topic_auto = isinstance(event.value, NoSelection)

    def world_ready(self) -> None:
        live = self.live
        self.request(lambda: StudioChoices(live.topic_names(), live.studio.sounds()), reply=lambda choices: choices)
        self.reload()

    @on(StudioChoices)
    def _choices(self, message: StudioChoices) -> None:
        self.query_one("#topic", Select).set_options([(name, i) for i, name in enumerate(message.topics)])
        self.query_one("#sound", Select).set_options(
            [((f"↑ {s.title}" if s.trending else s.title)[:48], s.sound) for s in message.sounds]
        )

    def on_screen_resume(self) -> None:
        if self.fyp.ready:
            self.reload()

    def world_advanced(self, items: list[StripItem]) -> None:
        # the strip lives on the feed: the person's own climbs and stalls are told here too
        for item in items:
            if item.tipped:
                continue  # (the feed's toast says you tipped it)
            if item.mine and item.kind == "promoted":
                self.notify(item.text, title="Your video", timeout=6)
            elif item.mine and item.kind == "stalled":
                self.notify(item.text, title="Your video", severity="warning", timeout=6)
        self.reload()

    def reload(self) -> None:
        """Read the person's videos on the live layer's queue; they come back as MyVideosReady."""
        studio = self.live.studio
        self.request(lambda: MyVideosReady(studio.my_videos(), studio.account()), reply=lambda ready: ready)

    @on(MyVideosReady)
    def _my_videos(self, message: MyVideosReady) -> None:
        self.videos = message.videos
        if message.account is not None:
            self.query_one("#studio-account", Static).update(account_line(message.account))
        ol = self.query_one("#my-videos", OptionList)
        keep = self.selected
        ol.clear_options()
        if not self.videos:
            ol.add_option(Option(Content.assemble(("Nothing posted yet.", "$text-muted")), disabled=True))
        else:
            ol.add_options([Option(posted_line(v), id=str(v.video)) for v in self.videos])
            ids = [v.video for v in self.videos]
            self.selected = keep if keep in ids else ids[0]
            ol.highlighted = ids.index(self.selected)
        self._show_detail()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.selected = int(event.option.id)
            self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#studio-detail", Static)
        chart = self.query_one("#studio-chart", Sparkline)
        v = next((v for v in self.videos if v.video == self.selected), None)
        if v is None:
            detail.update(
                Content.assemble(
                    (
                        "Post a video on the left: it enters tier 0 at once and meets its test audience as the clock runs.",
                        "$text-muted",
                    )
                )
            )
            chart.display = False
            return
        detail.update(detail_content(v, detail.size.width or 36))
        chart.data = list(v.views_series)
        chart.display = len(v.views_series) >= 3

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_post()

    def _error(self, text: str) -> None:
        self.query_one("#studio-error", Static).update(Content.assemble(("✕ " + text, "bold $error")) if text else "")

    def action_post(self) -> None:
        caption = self.query_one("#caption", Input).value.strip()
        tags_text = self.query_one("#hashtags", Input).value
        sound = self.query_one("#sound", Select).value
        duration_text = self.query_one("#duration", Input).value.strip()
        if not caption:
            return self._error("Write a caption.")
        if isinstance(sound, NoSelection):
            return self._error("Pick a sound.")
        try:
            duration = int(duration_text)
        except ValueError:
            return self._error(f"Seconds must be a whole number ({DURATION_MIN}-{DURATION_MAX}).")
        topic = self._topic_value()
        studio = self.live.studio

        def post() -> VideoPosted:
            video, items = studio.post_video(
                caption=caption, hashtags=tags_text, sound=int(sound), duration=float(duration), topic=topic
            )
            return VideoPosted(video, items)

        def refused(error: BaseException) -> PostRefused | JobFailed:
            if isinstance(error, UsageError):
                return PostRefused(str(error))
            return JobFailed(error)

        self.request(post, reply=lambda posted: posted, failed=refused)

    @on(PostRefused)
    def _refused(self, message: PostRefused) -> None:
        reason = message.reason
        self._error(reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else "."))

    @on(VideoPosted)
    def _posted(self, message: VideoPosted) -> None:
        self._error("")
        self.query_one("#caption", Input).value = ""
        self.query_one("#hashtags", Input).value = ""
        self._topic_auto = True
        self.selected = message.video
        self.fyp.feed_screen.add_items(message.items)
        self.notify("Your video is live: its test audience meets it as the clock runs.", title="Posted", timeout=4)
        self.reload()

    def action_fast_forward(self) -> None:
        self.fyp.fast_forward(1.0)
