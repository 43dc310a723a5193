"""The host's websocket server (aiohttp): connections, the clock's thread, checkpoints.

Each connection is one person (``hello`` with a profile) or a watcher (``hello``
with ``watch``: ``fyp-tui host status``, a teacher's console). A profile is held
by one connection at a time; a second ``hello`` for it gets ``profile_in_use``.
Requests of one connection are answered in order: a person's ops run on their
feed queue (:class:`~fyp_tui.live.feed.Feed`, one thread each), so the event
loop never waits for the world. A reaction is acknowledged only after the
journal committed it (the FeedSession commits before it returns), so an
acknowledged reaction survives the host being killed.

The clock runs on its own thread: every ``tick_seconds`` it steps the world at
the pace (simulated minutes per real second), works out every person's strip
for the tick (and their credited decisions), and pushes it to those connected.
Every ``checkpoint_seconds`` it checkpoints the world (written on the checkpoint
writer thread). Every incoming message is
checked by :mod:`fyp_tui.host.protocol`: a malformed one gets an error reply
and the connection goes on; no message ends the host.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import WSMsgType, web

from fyp_tui.errors import FypError, UsageError
from fyp_tui.host import protocol
from fyp_tui.host.protocol import OPS, ProtocolError
from fyp_tui.host.world import PersonSession, SharedWorld
from fyp_tui.live.checkpoint import CHECKPOINT_SECONDS
from fyp_tui.live.clock import hours_of

log = logging.getLogger("fyp_tui.host")

#: real seconds between two clock ticks
TICK_SECONDS = 0.25
#: a tick never simulates more than this many real seconds' worth (a stall is batched, not lost)
MAX_TICK_SECONDS = 2.0
#: connections at once; more are refused before the websocket opens
MAX_CONNECTIONS = 256
#: profiles one host opens in its life (each holds a feed session in memory)
MAX_PEOPLE = 200
#: frames above this are closed by aiohttp (code 1009); below it, above
#: protocol.MAX_REQUEST_BYTES, they get a ``too_big`` error reply
MAX_FRAME_BYTES = 1024 * 1024
WS_PATH = protocol.WS_PATH


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    person: PersonSession | None = None
    watcher: bool = False
    teacher: bool = False
    #: the protocol version its hello spoke (its replies and pushes are of that version)
    version: int = protocol.VERSION
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the last request's op, and how a ``next`` was served (the trace's; see fyp_tui.host.trace)
    op: str = ""
    path: str = ""

    @property
    def joined(self) -> bool:
        return self.person is not None or self.watcher

    async def send(self, text: str) -> None:
        if self.ws.closed:
            return
        async with self.send_lock:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                pass  # the client went away; its handler ends the connection


class Host:
    """Serves one :class:`SharedWorld` to many connections (see the module doc)."""

    def __init__(
        self,
        shared: SharedWorld,
        *,
        token: str | None = None,
        teacher_token: str | None = None,
        tick_seconds: float = TICK_SECONDS,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
    ) -> None:
        self.shared = shared
        self.token = token
        self.teacher_token = teacher_token
        self.tick_seconds = tick_seconds
        self.checkpoint_seconds = checkpoint_seconds
        self.connections: set[Connection] = set()
        self.holders: dict[str, Connection] = {}  # profile -> the connection holding it
        self.errors = 0  # error replies sent (the fuzz test reads it)
        self._ticks = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._clock: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._lag_task: asyncio.Future | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(WS_PATH, self._ws)
        app.router.add_get("/", self._index)
        return app

    async def start(self, bind: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``bind:port`` (0: any free port) and start the clock; the join URL."""
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, bind, port)
        await site.start()
        server = site._server  # the bound socket's port (port 0 picks one)
        sockets = getattr(server, "sockets", None) or []
        real_port = sockets[0].getsockname()[1] if sockets else port
        shown = _reachable(bind)
        shown = f"[{shown}]" if ":" in shown else shown
        self.url = f"ws://{shown}:{real_port}{WS_PATH}"
        self._clock = threading.Thread(target=self._clock_loop, name="fyp-host-clock", daemon=True)
        self._clock.start()
        if self.shared.trace is not None:
            self._lag_task = asyncio.ensure_future(self._watch_lag())
        return self.url

    async def _watch_lag(self) -> None:
        """The trace's ``lag`` records: how late the event loop wakes from a 10 ms sleep."""
        trace = self.shared.trace
        assert trace is not None
        while not self._stop.is_set():
            t0 = time.monotonic()
            await asyncio.sleep(0.01)
            lag = time.monotonic() - t0 - 0.01
            if lag > 0.002:
                trace.add(k="lag", t0=t0, lag=lag)

    async def stop(self) -> None:
        """Stop the clock, close every connection, checkpoint, release the world."""
        self._stop.set()
        if self._clock is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._clock.join)
        for conn in list(self.connections):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await asyncio.get_running_loop().run_in_executor(None, self._final_save)

    def _final_save(self) -> None:
        try:
            self.shared.checkpoints.final_save()  # after every queue and every write in flight
        except Exception as exc:
            log.error("the final checkpoint failed: %s", exc)
        finally:
            self.shared.close()

    # -- the clock ---------------------------------------------------------------------
    def _clock_loop(self) -> None:
        shared = self.shared
        span = shared.trace.span if shared.trace is not None else _no_span
        last = last_checkpoint = time.monotonic()
        while not self._stop.wait(self.tick_seconds):
            now = time.monotonic()
            since, last = now - last, now
            if not shared.paused:
                try:
                    with span("advance"):
                        events = shared.advance(hours_of(min(since, MAX_TICK_SECONDS), shared.pace))
                except Exception as exc:  # a failed step pauses the world; the host stays up
                    log.error("the simulation stopped: %s", exc)
                    shared.paused = True
                    events = []
            else:
                events = []
            with span("tick_push"):
                self._push_tick(events)
            if now - last_checkpoint >= self.checkpoint_seconds:
                last_checkpoint = now
                # copied out here (fast, under the lock), written on the checkpoint writer
                # thread as the app does: the clock goes on while it writes
                try:
                    future = shared.checkpoints.submit_write(shared.checkpoints.capture())
                    future.add_done_callback(_log_failed_checkpoint)
                except Exception as exc:
                    log.error("checkpoint failed: %s", exc)

    def _push_items(self, conn: Connection, fut: Any) -> None:
        """Strip lines worked out on a person's queue after the reply (a ``strip`` push)."""
        loop = self._loop
        if loop is None or fut.exception() is not None or not fut.result():
            return
        text = protocol.push("strip", {"items": fut.result()}, conn.version)
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(conn.send(text)))

    def _push_tick(self, events: list) -> None:
        """Each connected person's strip for this tick, worked out here on the clock's
        thread (as the app's step worker does), then sent from the event loop: one
        hand-over to the loop a tick, not one thread wake-up a person. A person hears
        of every tick with strip lines, and of the clock at least once a second."""
        loop = self._loop
        if loop is None:
            return
        shared = self.shared
        self._ticks += 1
        head = {"clock": float(shared.world.clock), "paused": shared.paused, "pace": shared.pace}
        every = max(1, round(1.0 / self.tick_seconds))
        out: list[tuple[Connection, str]] = []
        told = shared.take_told()
        for name, person in list(shared.people.items()):
            if person.closed:
                continue
            try:
                # everyone's: a person away still has their decisions credited (tips)
                items = person.tick(events, told)
            except Exception as exc:  # a person's strip must not stop the clock
                log.error("strip for %s failed: %s", name, exc)
                continue
            conn = self.holders.get(name)
            if conn is not None and conn.person is person and (items or self._ticks % every == 0):
                out.append((conn, protocol.push("tick", {**head, "items": items}, conn.version)))
        if out:
            loop.call_soon_threadsafe(lambda: [asyncio.ensure_future(c.send(t)) for c, t in out])

    # -- connections -------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=f"fyp-tui host: join with  fyp-tui --connect {self.url}\n")

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if len(self.connections) >= MAX_CONNECTIONS:
            return web.Response(status=503, text="the host is full\n")
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30.0)
        await ws.prepare(request)
        conn = Connection(ws)
        self.connections.add(conn)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._handle(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._error(conn, None, "bad_message", "send JSON as text frames")
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.discard(conn)
            if conn.person is not None and self.holders.get(conn.person.profile_name) is conn:
                del self.holders[conn.person.profile_name]
                conn.person.connected = False
        return ws

    async def _error(self, conn: Connection, msg_id: int | None, code: str, message: str) -> None:
        self.errors += 1
        await conn.send(protocol.error(msg_id, code, message, conn.version))

    async def _handle(self, conn: Connection, raw: str) -> None:
        trace = self.shared.trace
        if trace is None:
            await self._answer(conn, raw)
            return
        t0 = time.monotonic()
        conn.path = ""
        await self._answer(conn, raw)
        who = conn.person.profile_name if conn.person is not None else ""
        trace.add(k="req", op=conn.op, who=who, t0=t0, t1=time.monotonic(), path=conn.path)

    async def _answer(self, conn: Connection, raw: str) -> None:
        msg_id: int | None = None
        try:
            req = protocol.parse_request(raw, conn.version if conn.joined else None)
            if not conn.joined:
                conn.version = req.v  # (before its hello succeeds, a request is answered in its own version)
            msg_id, conn.op = req.id, req.op
            result = await self._dispatch(conn, req)
        except ProtocolError as exc:
            await self._error(conn, exc.msg_id if exc.msg_id is not None else msg_id, exc.code, exc.message)
            return
        except FypError as exc:
            await self._error(conn, msg_id, "failed", str(exc).splitlines()[0] if str(exc) else "failed")
            return
        except Exception as exc:  # a bug must cost one reply, never the host
            log.exception("request failed")
            await self._error(conn, msg_id, "internal", f"{type(exc).__name__}: {exc}")
            return
        assert msg_id is not None
        try:
            text = protocol.reply(msg_id, result, conn.version)
        except (TypeError, ValueError) as exc:
            await self._error(conn, msg_id, "internal", f"reply could not be encoded: {exc}")
            return
        await conn.send(text)

    async def _dispatch(self, conn: Connection, req: protocol.Request) -> Any:
        op, args = req.op, req.args
        if op == "hello":
            return await self._hello(conn, args, req.v)
        if not conn.joined:
            raise ProtocolError("need_hello", "say hello first")
        spec = OPS[op]
        if spec.teacher and not conn.teacher:
            raise ProtocolError("not_teacher", "only the teacher can change the clock")
        shared = self.shared
        if op == "status":
            return await self._off_loop(shared.status)
        if op == "class":
            return await self._off_loop(shared.class_data)
        if op == "overview":
            return await self._off_loop(shared.overview.data)
        if op == "pause":
            shared.paused = args["paused"]
            return {"paused": shared.paused, "pace": shared.pace}
        if op == "pace":
            shared.pace = args["pace"]
            return {"paused": shared.paused, "pace": shared.pace}
        p = conn.person
        if p is None:
            raise ProtocolError("need_hello", f"{op} needs a profile (this connection only watches)")
        world = shared.world
        video = args.get("video")
        if video is not None and video >= world.n_videos:
            raise ProtocolError("bad_args", "no such video")
        leaving = args.get("leaving")
        if leaving is not None and leaving[0] >= world.n_videos:
            raise ProtocolError("bad_args", "no such video")
        if op == "begin":
            card = await self._on_queue(p, p.feed.begin)
            p.cards += card is not None
            return card
        if op == "next":
            card = p.feed.take_ahead()  # the preloaded card, as the app's swipe does
            if card is not None:
                # the card left is recorded and the next one preloaded after the reply;
                # their strip lines come as a push
                p.feed.submit(self._committed, p.feed.after_swap, leaving).add_done_callback(
                    partial(self._push_items, conn)
                )
                p.cards += 1
                conn.path = "ahead"
                return (card, [])
            conn.path = "queue"
            moved = await self._on_queue(p, p.feed.forward, leaving)
            p.cards += moved[0] is not None
            return moved
        if op == "back":
            moved = await self._on_queue(p, p.feed.back, leaving)
            p.cards += moved[0] is not None
            return moved
        if op == "watched":
            return await self._on_queue(p, p.feed.watched, video, args["seconds"], args["loops"])
        if op == "react":
            reacted = await self._on_queue(p, p.feed.react, video, args["kind"], args.get("text"))
            p.reactions += 1  # committed by the journal before the queue returned
            return reacted
        if op == "counters":
            return p.feed.counters(args["video"])
        if op == "panel":
            return await self._on_queue(p, p.feed.panel, video)
        if op == "profile":
            return await self._on_queue(p, p.profile.data)
        if op == "onboard":
            topics = args["topics"]
            if any(t >= world.n_topics for t in topics):
                raise ProtocolError("bad_args", "no such topic")
            return await self._on_queue(p, p.profile.onboard, topics)
        if op == "knob":
            return await self._on_queue(p, p.profile.set_knob, args["value"])
        if op == "refresh":
            return await self._on_queue(p, p.profile.refresh_interests)
        if op == "topics":
            return list(world.topic_names)
        if op == "post":
            if args.get("topic", 0) >= world.n_topics:
                raise ProtocolError("bad_args", "no such topic")
            if args["sound"] >= world.n_sounds:
                raise ProtocolError("bad_args", "no such sound")
            try:
                return await self._on_queue(p, _post, p, args)
            except UsageError as exc:  # the Studio's refusal (no topic, a bad hashtag): one line
                raise ProtocolError("bad_args", str(exc).splitlines()[0] if str(exc) else "bad post") from None
        if op == "sounds":
            return await self._on_queue(p, p.studio.sounds)
        if op == "hashtags":
            return await self._off_loop(_hashtags, world)
        if op == "account":
            return await self._on_queue(p, p.studio.account)
        if op == "my_videos":
            return await self._on_queue(p, _my_videos, p)
        raise ProtocolError("unknown_op", "unknown op")  # pragma: no cover - OPS and this list agree

    async def _hello(self, conn: Connection, args: dict, version: int) -> dict:
        if conn.joined:
            raise ProtocolError("bad_message", "hello was already said on this connection")
        if self.token is not None and not hmac.compare_digest(
            args.get("token", "").encode("utf-8"), self.token.encode("utf-8")
        ):
            raise ProtocolError("bad_token", "a valid join token is needed (--token)")
        teacher = self.teacher_token is not None and hmac.compare_digest(
            args.get("teacher_token", "").encode("utf-8"), self.teacher_token.encode("utf-8")
        )
        if "teacher_token" in args and not teacher:
            raise ProtocolError("bad_token", "that is not the teacher's token")
        shared = self.shared
        versions = list(protocol.VERSIONS)
        if args.get("watch"):
            conn.watcher, conn.teacher, conn.version = True, teacher, version
            return {"protocol": version, "versions": versions, "clock": float(shared.world.clock), "teacher": teacher}
        name = args.get("profile")
        if name is None:
            raise ProtocolError("bad_args", "hello needs a profile (or watch: true)")
        if name in self.holders:
            raise ProtocolError("profile_in_use", f"profile {name!r} is in use by another connection")
        if name not in shared.people and len(shared.people) >= MAX_PEOPLE:
            raise ProtocolError("class_full", f"this host serves at most {MAX_PEOPLE} profiles")
        self.holders[name] = conn  # held while it opens: a second hello waits its turn, refused
        try:
            person = await self._off_loop(shared.person, name)
        except BaseException:
            del self.holders[name]
            raise
        if conn.ws.closed:  # the client left while the profile opened
            del self.holders[name]
            raise ProtocolError("bad_message", "the connection closed")
        conn.person, conn.teacher, conn.version = person, teacher, version
        person.connected = True
        onboarded = await self._off_loop(_onboarded, person)  # (the world lock: never on the event loop)
        return {
            "protocol": version,
            "versions": versions,
            "profile": name,
            "clock": float(shared.world.clock),
            "needs_onboarding": not onboarded,
            "paused": shared.paused,
            "pace": shared.pace,
            "teacher": teacher,
            "topics": list(shared.world.topic_names),
        }

    async def _on_queue(self, person: PersonSession, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.wrap_future(person.feed.submit(self._committed, fn, *args))

    def _committed(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a feed call on the person's queue, then write what it journaled (the
        world lock let go: see :class:`~fyp_tui.host.world.ClassJournal`), before its
        reply: an acknowledged reaction is committed."""
        try:
            return fn(*args)
        finally:
            journal = self.shared.journal
            if journal is not None and journal.backlog:
                journal.flush()

    async def _off_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _reachable(bind: str) -> str:
    """The address to print for joining: a wildcard bind names this machine instead."""
    if bind not in ("0.0.0.0", "::", ""):
        return bind
    import ipaddress
    import socket

    try:  # the address of the interface a packet out would leave by (a UDP "connect" sends nothing)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            found = str(probe.getsockname()[0])
        if not ipaddress.ip_address(found).is_loopback:
            return found
    except (OSError, ValueError):
        pass
    return socket.gethostname()


def _post(person: PersonSession, args: dict) -> dict:
    """The ``post`` op on the person's queue: the Studio's post, committed before it returns."""
    video, items = person.studio.post_video(
        caption=args["caption"],
        hashtags=args.get("hashtags", []),
        sound=args["sound"],
        duration=args["duration"],
        topic=args.get("topic"),
    )
    w = person.world
    with person.lock:
        creator, tier = w.creator_handles[int(w.video_creator[video])], int(w.video_tier[video])
    return {"video_id": int(video), "creator": creator, "tier": tier, "items": items}


def _my_videos(person: PersonSession) -> list:
    """The person's newest posts as the Studio follows them; the class's clock does not
    slow for one person's post, so none is ``watched``."""
    from dataclasses import replace

    return [replace(v, watched=False) for v in person.studio.my_videos(protocol.MAX_MY_VIDEOS)]


def _hashtags(world: Any) -> dict:
    """The world's hashtags for the Studio's completion: the trendiest, with topic and trend."""
    import numpy as np

    n = int(world.n_hashtags)
    trend = np.asarray(world.hashtag_trend[:n], dtype=np.float64)
    keep = np.argsort(-trend, kind="stable")[: protocol.MAX_HASHTAGS_SENT]
    return {
        "names": [world.hashtag_names[int(i)] for i in keep],
        "topics": [int(world.hashtag_topic[int(i)]) for i in keep],
        "trends": [float(trend[int(i)]) for i in keep],
    }


def _onboarded(person: PersonSession) -> bool:
    with person.lock:
        return bool(person.feed_session.person.onboarded)


@contextmanager
def _no_span(name: str) -> Iterator[None]:
    yield


def _log_failed_checkpoint(future: Any) -> None:
    if future.exception() is not None:
        log.error("checkpoint failed: %s", future.exception())


async def serve_forever(host: Host, bind: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run ``host`` until cancelled (SIGINT/SIGTERM), then stop it cleanly."""
    url = await host.start(bind, port)
    on_ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        await stop.wait()
    finally:
        await host.stop()
