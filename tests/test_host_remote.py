"""The app as a client of a host (issue 16): ``fyp-tui --connect``'s RemoteSession and the
Textual app on it. A host that goes away is said, what the person did is kept, and the
client reconnects by itself when the host is back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from pilot import drain, open_feed, until

from fyp_tui.errors import FypError
from fyp_tui.host.remote import RemoteSession
from fyp_tui.host.server import Host
from fyp_tui.host.world import SharedWorld


class HostThread:
    """An in-process host on its own event loop thread (a test can stop and start it)."""

    def __init__(self, db: str, port: int = 0) -> None:
        self.db, self.port = db, port
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        shared = SharedWorld(self.db, seed=4)
        shared.open()
        host = Host(shared, tick_seconds=0.05, teacher_token="teach")
        self.url = await host.start("127.0.0.1", self.port)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self.host = host
        self._ready.set()
        await self._stop.wait()
        await host.stop()

    def __enter__(self) -> HostThread:
        self._thread.start()
        assert self._ready.wait(30), "the host did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def wait_for(cond, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def likes_of(db: str, profile: str) -> set[int]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT i.video_id FROM interaction i JOIN profile p ON p.id = i.profile_id "
            "WHERE p.name = ? AND i.kind = 'like'",
            (profile,),
        ).fetchall()
    finally:
        con.close()
    return {v for (v,) in rows}


def test_a_lost_host_is_said_what_the_person_did_is_kept_and_sent_when_it_is_back(tiny_db):
    with HostThread(tiny_db) as first:
        port = first.port
        remote = RemoteSession(first.url, "alex")
        remote.preload()
        info = remote.wait_open()
        assert info.needs_onboarding and remote.topic_names()
        card = remote.feed.begin()
        assert card is not None
        card, _items = remote.feed.forward((card.video, 2.0, 0))
        assert card is not None
    # the host is gone: the next request says so, and reconnecting starts
    try:
        with pytest.raises(FypError, match="lost the class host"):
            remote.feed.forward((card.video, 1.0, 0))
        assert remote.lost
        kept, items = remote.feed.react(card.video, "like")
        assert kept.liked and any("kept" in i.text for i in items)
        strip = [i.text for i in remote.clock.advance(0.1).items]
        assert any("lost the class host" in t for t in strip)
        assert card.video not in likes_of(tiny_db, "alex")
        with HostThread(tiny_db, port):
            wait_for(lambda: not remote.lost, "the client to reconnect")
            wait_for(lambda: card.video in likes_of(tiny_db, "alex"), "the kept like to reach the host")
            assert any("back on the class host" in i.text for i in remote.clock.advance(0.1).items)
            nxt, _ = remote.feed.forward((card.video, 1.0, 0))
            assert nxt is not None and nxt.video != card.video
    finally:
        remote.close()


async def test_the_app_scrolls_a_class_host_and_shows_the_class(tiny_db):
    from fyp_tui.tui.classroom import ClassroomApp
    from fyp_tui.tui.screens.classroom import ClassScreen

    with HostThread(tiny_db) as host:
        remote = RemoteSession(host.url, "sam")
        remote.preload()
        app = ClassroomApp(remote, frozen=True)
        async with app.run_test(size=(100, 32)) as pilot:
            feed = await open_feed(pilot)
            first = feed.card
            assert first is not None
            await pilot.press("j")
            await until(pilot, lambda: feed.card is not None and feed.card.video != first.video, "the next card")
            await pilot.press("l")
            await drain(pilot)
            await until(pilot, lambda: feed.card is not None and feed.card.liked, "the like")
            await pilot.press("5")
            await until(pilot, lambda: isinstance(app.screen, ClassScreen) and app.screen.data is not None, "the class")
            people = {p.profile: p for p in app.screen.data.people}
            assert people["sam"].connected and people["sam"].reactions == 1 and people["sam"].cards >= 2
        assert feed.card is not None and feed.card.video in likes_of(tiny_db, "sam")


async def test_the_teachers_copy_pauses_and_paces_the_class_and_a_students_does_not(tiny_db):
    from fyp_tui.tui.classroom import ClassroomApp

    with HostThread(tiny_db) as host:
        shared = host.host.shared

        student = ClassroomApp(RemoteSession(host.url, "student"))
        student.live.preload()
        async with student.run_test(size=(100, 32)) as pilot:
            await open_feed(pilot)
            await pilot.press("p")
            await pilot.pause(0.3)
            assert not shared.paused  # a student's p only says who sets the clock

        app = ClassroomApp(RemoteSession(host.url, "teacher", teacher_token="teach"))
        app.live.preload()
        async with app.run_test(size=(100, 32)) as pilot:
            await open_feed(pilot)
            await pilot.press("p")
            await until(pilot, lambda: shared.paused, "the host to pause")
            await until(pilot, lambda: app.world_status == "paused by the teacher", "the header to say so")
            await pilot.press("p")
            await until(pilot, lambda: not shared.paused, "the host to resume")
            pace = shared.pace
            await pilot.press("plus")
            await until(pilot, lambda: shared.pace > pace, "a faster pace for everyone")
            await until(pilot, lambda: app.pace == shared.pace, "the header's pace")


async def test_a_class_clients_header_shows_the_class_tab_at_80_columns(tiny_db):
    """Five tabs and the clock fit 80 columns (the brand makes room), and a click on
    "5 Class" opens the Class screen; at 120 columns the brand is back."""
    from fyp_tui import fmt
    from fyp_tui.tui.classroom import ClassroomApp
    from fyp_tui.tui.screens.classroom import ClassScreen
    from fyp_tui.tui.widgets.header import CLASS_TAB, SCREENS, AppHeader, tab_offset

    with HostThread(tiny_db) as host:
        app = ClassroomApp(RemoteSession(host.url, "sam"), frozen=True)
        app.live.preload()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_feed(pilot)
            header = app.screen.query_one("#header", AppHeader)
            text = str(header.render())
            assert "5 Class" in text and "fyp-tui" not in text and not header.brand
            assert text.rstrip().endswith(fmt.pace(app.pace))  # the clock's pace is not cut off
            assert len(text.rstrip()) <= 80
            await pilot.click("#header", offset=(tab_offset("class", (*SCREENS, CLASS_TAB), brand=False), 0))
            await until(pilot, lambda: isinstance(app.screen, ClassScreen), "the Class screen")
            await pilot.resize_terminal(120, 30)
            header = app.screen.query_one("#header", AppHeader)
            await until(pilot, lambda: header.brand, "the brand at 120 columns")


async def test_a_class_clients_tick_shows_each_strip_line_and_toast_once(tiny_db):
    """The class app's handler of a tick runs with the app's own (Textual calls both):
    each line reaches the strip once, a tip's toast says "You tipped it" once, and news
    of the person's own video is not called a tip."""
    from fyp_tui.live.views import StripItem
    from fyp_tui.tui.classroom import ClassroomApp
    from fyp_tui.tui.messages import WorldAdvanced
    from fyp_tui.tui.widgets.strip import EventStrip

    with HostThread(tiny_db) as host:
        app = ClassroomApp(RemoteSession(host.url, "sam"), frozen=True)
        app.live.preload()
        async with app.run_test(size=(100, 32)) as pilot:
            feed = await open_feed(pilot)
            tip = StripItem(1.0, "your share pushed this video into tier 2", True, "promoted", tipped=True)
            own = StripItem(1.0, "🎉 Your video moved up to tier 1: 84 viewers", True, "promoted")
            app.post_message(WorldAdvanced(1.0, [tip, own]))
            await drain(pilot)
            strip = feed.query_one(EventStrip)
            assert list(strip.items).count(tip) == 1 and list(strip.items).count(own) == 1
            tipped = [n.message for n in app._notifications if n.title == "You tipped it"]
            assert tipped == [tip.text]
