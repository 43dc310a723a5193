"""The app's session on a classroom host: the interface of LiveSession, over the protocol.

``fyp-tui --connect URL --profile NAME`` runs the same Textual app on a
:class:`RemoteSession`: the parts the app calls (``feed``, ``profile``,
``overview``, ``clock``, ``checkpoints``, ``studio``) have the same methods and
return the same view data as :class:`~fyp_tui.live.session.LiveSession`'s, but
each call is one request to the host (:class:`~fyp_tui.host.client.BlockingClient`).
The studio posts in the shared world (protocol version 2; on a host of version 1
it says posting needs a newer host).
The host owns the world, the clock and the checkpoints, so ``clock.advance``
only hands over the strip lines the host pushed, and a checkpoint is a no-op.

Losing the host: the strip says so, a thread connects again every second, and
what the person did meanwhile (cards watched, reactions) waits in an outbox and
is sent, in order, once the host is back; nothing is dropped while the app runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from fyp_tui.errors import FypError, UsageError
from fyp_tui.host.client import BlockingClient, HostLost, HostRefused
from fyp_tui.live.checkpointer import Checkpointer
from fyp_tui.live.feed import SerialQueue
from fyp_tui.live.studio import check_duration, clean_caption, complete_hashtag, hashtags_topic, parse_hashtags
from fyp_tui.live.views import (
    AdvanceOutcome,
    CardData,
    Counters,
    CreatorAccount,
    OpenInfo,
    PostedVideo,
    SoundChoice,
    StripItem,
)

#: seconds between two tries to reach a lost host
RECONNECT_SECONDS = 1.0
#: a reaction kept while the host is away, as the card shows it: field, value
KEPT_REACTIONS = {
    "like": ("liked", True),
    "unlike": ("liked", False),
    "favourite": ("favourited", True),
    "unfavourite": ("favourited", False),
    "share": ("shared", True),
    "follow": ("following", True),
    "unfollow": ("following", False),
}
#: seconds a card's counters are shown before they are asked for again
COUNTERS_SECONDS = 0.5
#: seconds the Studio's copy of the host's hashtags (for completion) is kept
HASHTAGS_SECONDS = 30.0


class RemoteFeed(SerialQueue):
    """The feed queue: one local thread, each job one request to the host."""

    thread_name = "fyp-remote-feed"

    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote
        self.current: int | None = None
        self._counters: dict[int, tuple[float, Counters]] = {}
        self._asking: set[int] = set()
        self._cards: dict[int, CardData] = {}

    def take_ahead(self) -> CardData | None:
        return None  # the host preloads; the swipe asks it (one request)

    def _shown(self, card: CardData | None) -> CardData | None:
        if card is not None:
            self.current = card.video
        return self._shown_only(card)

    def _shown_only(self, card: Any) -> Any:
        """Remember ``card`` (a reaction while the host is away is shown on it)."""
        if card is not None:
            self._cards[card.video] = card
            if len(self._cards) > 64:
                self._cards.pop(next(iter(self._cards)))
        return card

    def begin(self) -> CardData | None:
        return self._shown(self.remote.call("begin"))

    def forward(self, leaving: Any) -> tuple[CardData | None, list[StripItem]]:
        self.remote.flush()
        card, items = self.remote.call("next", leaving=_leaving(leaving))
        return self._shown(card), list(items)

    def after_swap(self, leaving: Any) -> list[StripItem]:  # pragma: no cover - take_ahead is always None
        return []

    def back(self, leaving: Any) -> tuple[CardData | None, list[StripItem]]:
        self.remote.flush()
        card, items = self.remote.call("back", leaving=_leaving(leaving))
        return self._shown(card), list(items)

    def watched(self, video: int, seconds: float, loops: int) -> list[StripItem]:
        return list(self.remote.keep("watched", video=int(video), seconds=float(seconds), loops=int(loops)) or ())

    def react(self, video: int, kind: str, text: str | None = None) -> tuple[CardData, list[StripItem]]:
        """A reaction; while the host is away it waits in the outbox (the card shows it
        at once) and is sent, in order, when the host is back."""
        card = self._cards.get(int(video))
        if not self.remote.lost:
            try:
                self.remote.flush()
                extra = {"text": text} if text else {}
                card, items = self.remote.call("react", video=int(video), kind=kind, **extra)
                return self._shown_only(card), list(items)
            except FypError:
                if not self.remote.lost or card is None:
                    raise
        if card is None:
            raise FypError("lost the class host; reconnecting…")
        self.remote.keep("react", video=int(video), kind=kind, **({"text": text} if text else {}))
        field = KEPT_REACTIONS.get(kind)
        if field is not None:
            changes: dict[str, Any] = {field[0]: field[1]}
            card = replace(card, **changes)
            self._cards[card.video] = card
        note = StripItem(
            self.remote.sim_clock, f"your {kind.replace('_', ' ')} is kept: sent when the host is back", True
        )
        return card, [note]

    def panel(self, video: int) -> tuple[Any, Any]:
        why, spread = self.remote.call("panel", video=int(video))
        return why, spread

    def counters(self, video: int) -> Counters:
        """The last counters the host sent (UI thread: never waits); asked again when stale."""
        got = self._counters.get(video)
        if (got is None or time.monotonic() - got[0] > COUNTERS_SECONDS) and video not in self._asking:
            self._asking.add(video)
            threading.Thread(target=self._ask_counters, args=(video,), daemon=True).start()
        return got[1] if got is not None else Counters()

    def _ask_counters(self, video: int) -> None:
        try:
            self._counters[video] = (time.monotonic(), self.remote.call("counters", video=int(video)))
            if len(self._counters) > 64:
                self._counters.pop(next(iter(self._counters)))
        except FypError:
            pass
        finally:
            self._asking.discard(video)


def _leaving(leaving: Any) -> list | None:
    if leaving is None:
        return None
    video, seconds, loops = leaving
    return [int(video), float(seconds), int(loops)]


class RemoteProfile:
    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote

    def data(self) -> Any:
        return self.remote.call("profile")

    def onboard(self, topics: list[int], **_kw: Any) -> None:
        self.remote.call("onboard", topics=[int(t) for t in topics])

    def set_knob(self, knob: float) -> float:
        return float(self.remote.call("knob", value=float(min(max(knob, 0.0), 1.0))))

    def refresh_interests(self) -> None:
        self.remote.call("refresh")

    def others(self) -> list[tuple[str, int]]:
        raise FypError("on a class host, join again with --profile NAME to be someone else")


class RemoteOverview:
    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote

    def data(self, top_k: int = 8) -> Any:
        return self.remote.call("overview")


class RemoteClass:
    """The Class screen's data: who is online, what the class pushed, everyone's meter."""

    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote

    def data(self) -> Any:
        return self.remote.call("class")


class RemoteStudio:
    """The Studio on a class host (protocol version 2): the person posts under their
    profile in the shared world, and follows their posts as the host runs it.

    The form's checks that need no world (caption, hashtags, seconds) are made here,
    with the local Studio's words; the rest is the host's (``bad_args``, shown the
    same way). Completing a hashtag and the topic the hashtags name are worked out
    here, on the UI thread, from the host's hashtags (asked for with the sounds,
    and again at most every :data:`HASHTAGS_SECONDS` as the Studio reloads). A host
    of protocol version 1 has no posting: every call but ``pace`` says so."""

    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote
        self._tags: tuple[tuple[str, ...], tuple[int, ...], tuple[float, ...]] = ((), (), ())
        self._topic_of: dict[str, int] = {}
        self._tags_at = -math.inf
        #: what the host last said (shown while it is away: the strip says it is lost, once)
        self._account: CreatorAccount | None = None
        self._videos: list[PostedVideo] = []

    def _call(self, op: str, **args: Any) -> Any:
        if self.remote.version < 2:
            raise FypError("this class host is older (protocol version 1): it has no posting")
        return self.remote.call(op, **args)

    def _kept(self, op: str, last: Any) -> Any:
        """``op``'s result, or ``last`` while the host is away (the Studio reloads each tick)."""
        if self.remote.lost:
            return last
        try:
            return self._call(op)
        except FypError:
            if self.remote.lost:
                return last
            raise

    def pace(self, pace: float) -> float:
        return pace  # the host sets the class's pace: one person's post does not slow it

    def account(self) -> CreatorAccount | None:
        """The person's creator account on the host (None on a host with no posting)."""
        if self.remote.version < 2:
            return None
        self._account = self._kept("account", self._account)
        return self._account

    def sounds(self) -> list[SoundChoice]:
        sounds = list(self._call("sounds"))
        self._load_hashtags()
        return sounds

    def my_videos(self) -> list[PostedVideo]:
        self._videos = list(self._kept("my_videos", self._videos))
        if time.monotonic() - self._tags_at > HASHTAGS_SECONDS and not self.remote.lost:
            try:
                self._load_hashtags()
            except FypError:
                pass  # (completion keeps the hashtags it has)
        return self._videos

    def _load_hashtags(self) -> None:
        got = self._call("hashtags")
        names = tuple(str(n) for n in got["names"])
        topics = tuple(int(t) for t in got["topics"])
        self._tags = (names, topics, tuple(float(t) for t in got["trends"]))
        self._topic_of = {n.casefold(): t for n, t in zip(names, topics, strict=False)}
        self._tags_at = time.monotonic()

    def complete_hashtag(self, text: str, topic: int | None = None) -> str | None:
        names, topics, trends = self._tags
        return complete_hashtag(text, names, topics, trends, topic)

    def topic_for_hashtags(self, text: str | Sequence[str]) -> int | None:
        return hashtags_topic(text, self._topic_of.get)

    def post_video(
        self,
        *,
        caption: str,
        hashtags: str | Sequence[str | int],
        sound: int,
        duration: float,
        topic: int | None = None,
    ) -> tuple[int, list[StripItem]]:
        """Post on the host (the local Studio's post: see :meth:`fyp_tui.live.studio.Studio.post_video`);
        it is committed there before this returns. (video id, the strip's line)."""
        caption = clean_caption(caption)
        check_duration(duration)
        if not isinstance(hashtags, str) and any(not isinstance(h, str) for h in hashtags):
            raise UsageError("on a class host, hashtags are given by name")
        names = parse_hashtags(hashtags if isinstance(hashtags, str) else [str(h) for h in hashtags])
        args: dict[str, Any] = {"caption": caption, "hashtags": names, "sound": int(sound), "duration": float(duration)}
        if topic is not None:
            args["topic"] = int(topic)
        if self.remote.lost:
            raise FypError("lost the class host; post again when it is back")
        got = self._call("post", **args)
        return int(got["video_id"]), list(got.get("items", ()))


class _NoLog:
    """The session log of ``fyp-tui report`` is the host's world's; a client keeps none."""

    def save(self, *_a: Any, **_kw: Any) -> None:
        return None


class RemoteClock:
    def __init__(self, remote: RemoteSession) -> None:
        self.remote = remote

    def advance(self, hours: float) -> AdvanceOutcome:
        """The host runs the clock: the strip lines it pushed since the last tick."""
        return AdvanceOutcome(clock=self.remote.sim_clock, items=self.remote.take_items())


class RemoteCheckpoints(Checkpointer):
    """The host checkpoints the world; the app's checkpoints have nothing to write."""

    @property
    def due(self) -> bool:
        return False  # (nothing waits here: the host takes its own checkpoints)

    def capture(self) -> None:
        return None

    def submit_write(self, snap: Any) -> Future:
        done: Future = Future()
        done.set_result(None)
        return done

    def final_save(self) -> None:
        return None

    def shutdown(self) -> None:
        return None


class RemoteSession:
    """A person's session on a host (see the module doc)."""

    #: as ``LiveSession.damaged`` (the app polls it); a damaged world file is the host's
    #: to meet and report, so never set here
    damaged: None = None

    def __init__(self, url: str, profile: str, *, token: str | None = None, teacher_token: str | None = None) -> None:
        self.url = url
        self.profile_name = profile
        self.token = token
        self.teacher_token = teacher_token
        #: the host's clock as the teacher set it (from hello and each tick)
        self.host_paused = False
        self.host_pace = 0.0
        self.closed = False
        self.sim_clock = 0.0
        self.lost = False
        self.hello: dict[str, Any] = {}
        self._items: deque[StripItem] = deque(maxlen=200)
        self._outbox: deque[tuple[str, dict]] = deque()
        self._outbox_lock = threading.Lock()
        self._client = BlockingClient(url, on_push=self._on_push)
        self._opened: Future | None = None
        self._reconnecting = threading.Lock()
        self._losing = threading.Lock()
        self.feed = RemoteFeed(self)
        self.profile = RemoteProfile(self)
        self.overview = RemoteOverview(self)
        self.classroom = RemoteClass(self)
        self.studio = RemoteStudio(self)
        self.checkpoints: Checkpointer = RemoteCheckpoints()
        self.log = _NoLog()
        self.clock = RemoteClock(self)

    # LiveSession's names for the parts the app uses
    @property
    def is_open(self) -> bool:
        return bool(self.hello)

    @property
    def world(self) -> Any:
        raise FypError("a class host's world is not in this process (autoplay needs a local world)")

    # -- lifecycle ---------------------------------------------------------------------
    def _connect(self) -> dict[str, Any]:
        hello = self._client.connect(profile=self.profile_name, token=self.token, teacher_token=self.teacher_token)
        self.hello = hello
        self.sim_clock = float(hello.get("clock", 0.0))
        self.host_paused, self.host_pace = bool(hello.get("paused")), float(hello.get("pace", 0.0))
        return hello

    @property
    def version(self) -> int:
        """The protocol version the host speaks with this client (2: with posting)."""
        return int(self.hello.get("protocol", 1))

    @property
    def teacher(self) -> bool:
        """Whether this client showed the teacher's token (it may pause and pace the class)."""
        return bool(self.hello.get("teacher"))

    def set_clock(self, *, paused: bool | None = None, pace: float | None = None) -> None:
        """The teacher pauses, resumes or paces the class's clock (any thread but the UI's)."""
        got = self.call("pause", paused=paused) if paused is not None else self.call("pace", pace=float(pace or 1.0))
        self.host_paused, self.host_pace = bool(got["paused"]), float(got["pace"])

    def preload(self) -> None:
        if self._opened is None:
            self._opened = Future()
            threading.Thread(target=self._open_into, name="fyp-remote-open", daemon=True).start()

    def _open_into(self) -> None:
        assert self._opened is not None
        try:
            self._opened.set_result(self._connect())
        except BaseException as exc:
            self._opened.set_exception(exc)

    def check_store(self, timeout: float = 30.0) -> None:
        """Wait for the hello: a host that cannot be reached, a wrong token or a profile in
        use ends as one line before the app starts."""
        if self._opened is None:
            self.preload()
        assert self._opened is not None
        exc = self._opened.exception(timeout)
        if exc is not None:
            raise exc

    def wait_open(self) -> OpenInfo:
        self.check_store()
        return OpenInfo(clock=self.sim_clock, needs_onboarding=bool(self.hello.get("needs_onboarding")))

    def open(self) -> OpenInfo:
        return self.wait_open()

    def warm_up(self) -> None:
        return None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.feed.shutdown()
        self._client.close()

    def topic_names(self) -> list[str]:
        return list(self.hello.get("topics", ()))

    # -- requests ----------------------------------------------------------------------
    def call(self, op: str, **args: Any) -> Any:
        """One request; a lost host is said once in the strip, and reconnecting starts."""
        try:
            return self._client.call(op, **args)
        except HostLost:
            self._lose()
            raise FypError("lost the class host; reconnecting…") from None
        except HostRefused as exc:
            # bad_args: the host refused the request's input (a post with no topic...)
            raise (UsageError if exc.code == "bad_args" else FypError)(str(exc)) from None

    def keep(self, op: str, **args: Any) -> Any:
        """A request that must reach the host even if it is away now (kept in the outbox)."""
        with self._outbox_lock:
            self._outbox.append((op, args))
        if self.lost:
            return None
        try:
            return self.flush()
        except FypError:
            return None

    def flush(self) -> Any:
        """Send the outbox in order (what the person did while the host was away)."""
        result = None
        with self._outbox_lock:
            while self._outbox:
                op, args = self._outbox[0]
                try:
                    result = self._client.call(op, **args)
                except HostLost:
                    self._lose()
                    raise FypError("lost the class host; reconnecting…") from None
                except HostRefused:
                    result = None  # refused for good (e.g. a video the host no longer has): not retried
                self._outbox.popleft()
        return result

    def _lose(self) -> None:
        with self._losing:  # said once, however many threads notice
            if self.lost or self.closed:
                return
            self.lost = True
        self._items.append(
            StripItem(self.sim_clock, "lost the class host: reconnecting… (what you do is kept)", True, "info")
        )
        threading.Thread(target=self._reconnect, name="fyp-remote-reconnect", daemon=True).start()

    def _reconnect(self) -> None:
        with self._reconnecting:
            while self.lost and not self.closed:
                time.sleep(RECONNECT_SECONDS)
                try:
                    self._connect()
                except (HostLost, HostRefused):
                    continue
                except FypError:
                    continue
                try:
                    self.flush()  # what the person did while away, in order, before anything new
                except FypError:
                    continue
                self._items.append(StripItem(self.sim_clock, "back on the class host", True, "info"))
                self.lost = False

    def _on_push(self, kind: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if kind == "tick":
            self.sim_clock = float(data.get("clock", self.sim_clock))
            self.host_paused = bool(data.get("paused", self.host_paused))
            self.host_pace = float(data.get("pace", self.host_pace))
        items = data.get("items", ())
        self._items.extend(i for i in items if isinstance(i, StripItem))

    def take_items(self) -> list[StripItem]:
        items = []
        while self._items:
            items.append(self._items.popleft())
        if not self.lost and not self._client.connected and self.hello and not self.closed:
            self._lose()  # the socket closed between requests
        return items
