"""What every top-level screen of the app shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from fyp_tui.live.views import StripItem
from fyp_tui.tui.messages import JobFailed

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession
    from fyp_tui.tui.app import FypApp


T = TypeVar("T")


class FypScreen(Screen):
    """A mode's base screen: registers with the app, hears about the world."""

    MODE: ClassVar[str] = ""
    #: a screen of the world's state (World, Class) reads it again at most this often
    #: (seconds of real time) while the clock runs, and whenever it is shown; ``None``:
    #: the screen reloads on its own terms
    RELOAD_SECONDS: ClassVar[float | None] = None

    def __init__(self) -> None:
        super().__init__()
        self._reloaded = float("-inf")

    @property
    def fyp(self) -> FypApp:
        return cast("FypApp", self.app)  # every FypScreen runs in the FypApp

    @property
    def live(self) -> LiveSession:
        return self.fyp.live

    def request(
        self,
        fn: Callable[..., T],
        *args: Any,
        reply: Callable[[T], Message],
        failed: Callable[[BaseException], Message] = JobFailed,
    ) -> None:
        """Run ``fn`` on the live layer's feed queue (one thread, in order, off the UI
        thread); its result comes back to this screen as the message ``reply`` makes."""

        def done(future: Future[T]) -> None:
            error = future.exception()
            self.post_message(failed(error) if error is not None else reply(future.result()))

        self.live.feed.submit(fn, *args).add_done_callback(done)

    @on(JobFailed)
    def _job_failed(self, message: JobFailed) -> None:
        self.fyp.show_error(message.error)

    def on_mount(self) -> None:
        self.fyp.register_screen(self)
        if self.fyp.ready:
            self.world_ready()

    def world_ready(self) -> None:
        """The world is loaded (called once, or at mount if it already was)."""
        if self.RELOAD_SECONDS is not None:
            self._reload()

    def world_advanced(self, items: list[StripItem]) -> None:
        """A simulation tick finished while this screen is showing."""
        if self.RELOAD_SECONDS is not None and time.monotonic() - self._reloaded >= self.RELOAD_SECONDS:
            self._reload()

    def on_screen_resume(self) -> None:
        if self.RELOAD_SECONDS is not None and self.fyp.ready:
            self._reload()

    def reload(self) -> None:
        """Read what the screen shows again (screens with ``RELOAD_SECONDS``)."""

    def _reload(self) -> None:
        self._reloaded = time.monotonic()
        self.reload()

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(title, help, action) for the command palette: one per binding with an id."""
        out = []
        for b in self.BINDINGS:
            if isinstance(b, Binding) and b.id and b.description:
                out.append((b.description, f"{b.tooltip} ({self.app.get_key_display(b)})", b.action))
        return out
