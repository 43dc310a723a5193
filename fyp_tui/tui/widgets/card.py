"""The feed card: the moving video, creator, caption, sound ticker, progress; and the action rail."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Static

from fyp_tui import fmt
from fyp_tui.live.views import CardData, Counters
from fyp_tui.tui.widgets.video import VideoCanvas


def caption_content(card: CardData) -> Content:
    """The caption, then the video's hashtags the caption does not already carry (each once)."""
    parts: list[str | tuple[str, str]] = [(card.caption, "$foreground")]
    shown = {word.casefold() for word in card.caption.split() if word.startswith("#")}
    for tag in card.hashtags:
        if f"#{tag}".casefold() in shown:
            continue
        shown.add(f"#{tag}".casefold())
        parts.append(" ")
        parts.append((f"#{tag}", "bold $accent"))
    return Content.assemble(*parts)


def creator_content(card: CardData) -> Content:
    parts: list[str | tuple[str, str]] = [(f"@{card.handle}", "bold $foreground")]
    if card.display_name:
        parts.append((f"  {card.display_name}", "$text-muted"))
    if card.mine:
        parts.append(("  your video", "bold $success"))
    elif card.following:
        parts.append(("  ✓ following", "$success"))
    else:
        parts.append(("  + follow", "$text-muted"))
    return Content.assemble(*parts)


def progress_content(position: float, duration: float, width: int, paused: bool) -> Content:
    """The playback bar over the video's duration (it loops), with the time."""
    pos = position % duration if duration > 0 else 0.0
    label = f" {fmt.duration(pos)}/{fmt.duration(duration)}"
    icon = "‖ " if paused else "▶ "
    bar_w = max(width - len(label) - len(icon), 4)
    filled = int(round(bar_w * (pos / duration))) if duration > 0 else 0
    filled = min(filled, bar_w)
    return Content.assemble(
        (icon, "$text-muted" if not paused else "bold $warning"),
        ("━" * filled, "$accent"),
        ("─" * (bar_w - filled), "$panel-lighten-2"),
        (label, "$text-muted"),
    )


class VideoCard(Vertical):
    """One video, drawn from :class:`CardData`; the screen drives time with :meth:`draw`."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.card: CardData | None = None
        self.muted = False
        self.paused = False
        self._last_play: tuple | None = None
        self._position = 0.0
        self._offset = 0

    def compose(self) -> ComposeResult:
        yield VideoCanvas(id="canvas")
        yield Static("", id="badge")
        yield Static("", id="meta")  # creator line + two caption lines
        yield Static("", id="play")  # sound ticker + playback bar

    def show_card(self, card: CardData, position: float = 0.0) -> None:
        """Swap in a video. Every line has a fixed height, so no re-layout is needed."""
        self.card = card
        self.query_one(VideoCanvas).set_video(card.video, card.topic, card.sound, position)
        self._show_badge(card)
        self.refresh_meta(card)
        self._last_play = None
        self.draw(position, 0)

    def _show_badge(self, card: CardData) -> None:
        badge = self.query_one("#badge", Static)
        wide = (badge.size.width or 40) >= 36
        if card.first_viewer:
            text = "◆ You are one of its first viewers" if wide else "◆ One of its first viewers"
            badge.update(Content.assemble((text, "bold $text")), layout=False)
            badge.set_class(True, "-on")
        elif card.reshown:
            badge.update(Content.assemble(("↺ seen before", "$text-muted")), layout=False)
            badge.set_class(False, "-on")
        else:
            badge.update("", layout=False)
            badge.set_class(False, "-on")

    def refresh_meta(self, card: CardData) -> None:
        """Update what reactions change (follow marker) without resetting the video."""
        self.card = card
        meta = self.query_one("#meta", Static)
        width = max(meta.size.width or 40, 10)
        lines = caption_content(card).wrap(width)
        caption = lines[:2]
        if len(lines) > 2:
            caption[1] = Content.assemble(caption[1].truncate(width - 1), ("…", "$text-muted"))
        if len(caption) == 1:
            caption.append(Content(""))
        meta.update(
            Content("\n").join(
                [
                    creator_content(card).truncate(width, ellipsis=True),
                    *(line.truncate(width, ellipsis=True) for line in caption),
                ]
            ),
            layout=False,
        )

    def sound_text(self, card: CardData) -> str:
        trend = "  ↑ trending" if card.sound_trending else ""
        artist = f" · {card.sound_artist}" if card.sound_artist else ""
        return f"{card.sound_title}{artist}{trend}"

    def draw(self, position: float, ticker_offset: int) -> None:
        """Show play time ``position`` (seconds): the video frame, the progress bar, the ticker."""
        card = self.card
        if card is None:
            return
        self._position, self._offset = position, ticker_offset
        self.query_one(VideoCanvas).show_frame(position)
        play = self.query_one("#play", Static)
        width = play.size.width or 40
        text = fmt.ticker(self.sound_text(card), 0 if self.muted else ticker_offset, max(width - 2, 8))
        content = progress_content(position, card.duration, width, self.paused)
        key = (text, content)
        if key != self._last_play:
            self._last_play = key
            sound = Content.assemble(("♫ ", "$accent"), (text, "$text-muted" if self.muted else "$foreground"))
            play.update(Content("\n").join([sound, content]), layout=False)

    def on_resize(self) -> None:
        self._last_play = None
        if self.card is not None:
            self.call_after_refresh(self._show_badge, self.card)
            self.call_after_refresh(self.refresh_meta, self.card)
        self.call_after_refresh(self.draw, self._position, self._offset)


class RailButton(Button, can_focus=False):
    """A rail button: mouse only, so keys always reach the feed."""


class ActionRail(Vertical):
    """The platform's right-hand rail: counters that are also the reaction buttons."""

    def compose(self) -> ComposeResult:
        yield Static("▷ 0", id="views", classes="counter")
        yield RailButton(
            "♥ 0", id="btn-like", compact=True, action="screen.like", tooltip="Like (l, or double-click the video)"
        )
        yield RailButton("✎ 0", id="comments", compact=True, action="screen.comment", tooltip="Comment (c)")
        yield RailButton("★ 0", id="btn-favourite", compact=True, action="screen.favourite", tooltip="Favourite (b)")
        yield RailButton("↗ 0", id="btn-share", compact=True, action="screen.share", tooltip="Share (s)")
        yield RailButton(
            "+ Follow", id="btn-follow", compact=True, action="screen.follow", tooltip="Follow the creator (f)"
        )
        yield RailButton(
            "✕ Not int.", id="btn-not", compact=True, action="screen.not_interested", tooltip="Not interested (n)"
        )
        yield RailButton(
            "‖ Pause", id="btn-pause", compact=True, action="screen.toggle_pause", tooltip="Pause the video (space)"
        )
        yield RailButton(
            "◧ Why",
            id="btn-panel",
            compact=True,
            action="screen.toggle_panel",
            tooltip="Side panel: why this video, spread (e)",
        )
        yield RailButton(
            "▲ Prev", id="btn-prev", compact=True, action="screen.previous", tooltip="Previous video (k, up, wheel up)"
        )
        yield RailButton(
            "▼ Next", id="btn-next", compact=True, action="screen.next", tooltip="Next video (j, down, wheel down)"
        )

    def show_counters(self, c: Counters) -> None:
        self.query_one("#views", Static).update(f"▷ {fmt.count(c.views)}", layout=False)
        self.query_one("#btn-like", Button).label = f"♥ {fmt.count(c.likes)}"
        self.query_one("#comments", Button).label = f"✎ {fmt.count(c.comments)}"
        self.query_one("#btn-favourite", Button).label = f"★ {fmt.count(c.favourites)}"
        self.query_one("#btn-share", Button).label = f"↗ {fmt.count(c.shares)}"

    def show_state(self, card: CardData, paused: bool) -> None:
        self.query_one("#btn-like", Button).set_class(card.liked, "-on")
        self.query_one("#btn-favourite", Button).set_class(card.favourited, "-on")
        self.query_one("#btn-share", Button).set_class(card.shared, "-on")
        follow = self.query_one("#btn-follow", Button)
        follow.label = "✓ Following" if card.following else "+ Follow"
        follow.set_class(card.following, "-on")
        follow.disabled = card.mine
        pause = self.query_one("#btn-pause", Button)
        pause.label = "▶ Play" if paused else "‖ Pause"
        pause.set_class(paused, "-on")
