"""A client of the classroom protocol: async (:class:`HostClient`) and from a thread (:class:`BlockingClient`).

:class:`HostClient` speaks :mod:`fyp_tui.host.protocol` over one aiohttp
websocket: :meth:`HostClient.call` sends a request and waits for its reply
(replies come in request order; pushes go to ``on_push``). The benchmark's bots
use it directly; :class:`BlockingClient` runs one on an event loop of its own
thread, for code that is not async (the app's remote session, ``fyp-tui host
status``). A lost connection raises :class:`HostLost`; the caller decides whether
to connect again.

Versions: a client says ``hello`` in the newest version (:data:`protocol.VERSION`);
a host of an older version refuses it with ``bad_version``, and the client says it
again in version 1 (:attr:`HostClient.version` tells which the connection speaks:
posting needs 2).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import aiohttp

from fyp_tui.errors import FypError
from fyp_tui.host import protocol

#: seconds to wait for the host to answer a request
CALL_TIMEOUT = 30.0


class HostLost(FypError):
    """The host cannot be reached, or the connection dropped."""


class HostRefused(FypError):
    """The host answered a request with an error reply (``code`` says which)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class HostClient:
    """One websocket connection to a host (see the module doc)."""

    def __init__(self, url: str, *, on_push: Callable[[str, Any], None] | None = None) -> None:
        self.url = protocol.join_url(url)
        self.on_push = on_push
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self.hello: dict[str, Any] = {}
        #: the protocol version this connection speaks (its hello's)
        self.version = protocol.VERSION

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self, **hello: Any) -> dict[str, Any]:
        """Open the websocket and say ``hello`` (profile, token, teacher_token, watch)."""
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self.url, max_msg_size=protocol.MAX_MESSAGE_BYTES * 16, heartbeat=30.0
            )
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            await self._session.close()
            self._session = None
            raise HostLost(f"cannot reach the host at {self.url}: {exc or type(exc).__name__}") from None
        self._reader = asyncio.ensure_future(self._read())
        args = {k: v for k, v in hello.items() if v is not None}
        try:
            try:
                self.hello = await self.call("hello", **args)
            except HostRefused as exc:
                if exc.code != "bad_version" or self.version == 1:
                    raise
                self.version = 1  # a host of version 1 (from before posting): its version
                self.hello = await self.call("hello", **args)
        except BaseException:
            await self.close()
            raise
        return self.hello

    async def send_raw(self, text: str) -> None:
        """Send a frame as it is (the fuzz test's hostile messages)."""
        if self._ws is None or self._ws.closed:
            raise HostLost("not connected to the host")
        await self._ws.send_str(text)

    async def call(self, op: str, **args: Any) -> Any:
        """Send request ``op`` and wait for its result (decoded view data)."""
        if self._ws is None or self._ws.closed:
            raise HostLost("not connected to the host")
        msg_id = next(self._ids)
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = fut
        try:
            await self._ws.send_str(protocol.request(msg_id, op, version=self.version, **args))
            return await asyncio.wait_for(fut, CALL_TIMEOUT)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise HostLost(f"lost the host: {exc or type(exc).__name__}") from None
        except TimeoutError:
            raise HostLost(f"the host did not answer {op} in {CALL_TIMEOUT:g} s") from None
        finally:
            self._waiting.pop(msg_id, None)

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if not isinstance(data, dict):
                    continue
                if "push" in data:
                    if self.on_push is not None:
                        try:
                            self.on_push(str(data["push"]), protocol.decode(data.get("data")))
                        except Exception:
                            pass  # a push the client cannot read is dropped, not fatal
                    continue
                msg_id = data.get("id")
                fut = self._waiting.get(msg_id) if isinstance(msg_id, int) else None
                if fut is None or fut.done():
                    continue
                if data.get("ok"):
                    try:
                        fut.set_result(protocol.decode(data.get("result")))
                    except protocol.ProtocolError as exc:
                        fut.set_exception(HostRefused(exc.code, exc.message))
                else:
                    err = data.get("error") or {}
                    fut.set_exception(HostRefused(str(err.get("code", "?")), str(err.get("message", "refused"))))
        finally:
            for fut in list(self._waiting.values()):
                if not fut.done():
                    fut.set_exception(HostLost("lost the host"))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await self._reader
            except Exception:
                pass
        if self._session is not None:
            await self._session.close()
        self._ws = self._session = self._reader = None


class BlockingClient:
    """A :class:`HostClient` on an event loop in its own thread; calls block the caller."""

    def __init__(self, url: str, *, on_push: Callable[[str, Any], None] | None = None) -> None:
        self.url = url
        self.on_push = on_push
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fyp-host-client", daemon=True)
        self._thread.start()
        self.client: HostClient | None = None

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        fut: Future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    def connect(self, **hello: Any) -> dict[str, Any]:
        """(Re)connect and say hello; the host's hello result."""
        if self.client is not None:
            self._run(self.client.close())
        self.client = HostClient(self.url, on_push=self.on_push)
        return self._run(self.client.connect(**hello))

    def call(self, op: str, **args: Any) -> Any:
        if self.client is None:
            raise HostLost("not connected to the host")
        return self._run(self.client.call(op, **args))

    def close(self) -> None:
        if self.client is not None:
            try:
                self._run(self.client.close(), timeout=5)
            except Exception:
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
