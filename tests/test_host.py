"""The classroom host (issue 16): one world, many people, over the protocol.

In-process hosts on the tiny world for the protocol's rules (token, one
connection per profile, the teacher's clock, status, hostile messages); a real
``fyp-tui host`` subprocess for durability after SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from processes import start_host

from fyp_tui.host import protocol
from fyp_tui.host.client import HostClient, HostRefused
from fyp_tui.host.server import Host
from fyp_tui.host.world import SharedWorld

REPO = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def running_host(db: str, **kw):
    shared = SharedWorld(db, seed=5)
    shared.open()
    host = Host(shared, tick_seconds=kw.pop("tick_seconds", 0.05), **kw)
    await host.start("127.0.0.1", 0)
    try:
        yield host
    finally:
        await host.stop()


async def joined(host: Host, profile: str, **hello) -> HostClient:
    client = HostClient(host.url)
    await client.connect(profile=profile, **hello)
    return client


# -- the protocol's rules ---------------------------------------------------------------------
async def test_the_address_can_be_typed_without_its_websocket_path(tiny_db):
    async with running_host(tiny_db) as host:
        assert host.url.endswith("/ws")
        bare = host.url.removesuffix("/ws")  # ws://127.0.0.1:PORT, as people type it
        for url in (bare, bare.replace("ws://", "http://"), bare.removeprefix("ws://")):
            c = HostClient(url)
            await c.connect(profile="alex")
            assert (await c.call("begin")).video >= 0
            await c.close()


async def test_a_person_scrolls_and_reacts_through_the_host(tiny_db):
    async with running_host(tiny_db) as host:
        c = await joined(host, "alex")
        card = await c.call("begin")
        seen = {card.video}
        for _ in range(5):
            card, _items = await c.call("next", leaving=[card.video, 2.0, 0])
            assert card.video not in seen  # a new card each time
            seen.add(card.video)
        liked, _items = await c.call("react", video=card.video, kind="like")
        assert liked.video == card.video and liked.liked
        counters = await c.call("counters", video=card.video)
        assert counters.likes >= 1
        why, spread = await c.call("panel", video=card.video)
        assert why.video == spread.video == card.video
        await c.close()


async def test_a_join_token_is_required_when_the_host_has_one(tiny_db):
    async with running_host(tiny_db, token="s3cret") as host:
        for hello in ({}, {"token": "wrong"}):
            c = HostClient(host.url)
            with pytest.raises(HostRefused) as err:
                await c.connect(profile="alex", **hello)
            assert err.value.code == "bad_token"
        c = await joined(host, "alex", token="s3cret")
        assert (await c.call("begin")).video >= 0
        await c.close()


def test_a_bind_beyond_loopback_needs_a_token(run_cli):
    code, _out, err = run_cli("host", "--bind", "0.0.0.0", "--port", "0")
    assert code == 2 and "--token" in err


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_host_that_cannot_be_reached_or_a_bad_name_is_one_line(run_cli):
    nowhere = f"ws://127.0.0.1:{free_port()}/ws"
    for argv, code in (
        (("--connect", nowhere, "--profile", "alex"), 1),
        (("--connect", nowhere, "--profile", "a b"), 2),
        (("host", "status", "--connect", nowhere), 1),
        (("host", "pause", "--connect", nowhere, "--teacher-token", "x"), 1),
    ):
        got, _out, err = run_cli(*argv)
        lines = [line for line in err.splitlines() if line.startswith("fyp-tui: error")]
        assert got == code and len(lines) == 1 and "Traceback" not in err, (argv, err)


def test_a_second_host_on_the_same_world_is_refused(tiny_db, run_cli):
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(tiny_db):  # the world is open elsewhere
        code, _out, err = run_cli("host", "--db", tiny_db, "--port", "0")
    assert code == 1 and "in use" in err


async def test_a_profile_is_held_by_one_connection_at_a_time(tiny_db):
    async with running_host(tiny_db) as host:
        first = await joined(host, "alex")
        second = HostClient(host.url)
        with pytest.raises(HostRefused) as err:
            await second.connect(profile="alex")
        assert err.value.code == "profile_in_use"
        other = await joined(host, "sam")  # another profile is fine
        await first.close()
        for _ in range(100):  # the host sees the close
            if "alex" not in host.holders:
                break
            await asyncio.sleep(0.02)
        again = await joined(host, "alex")
        assert (await again.call("begin")).video >= 0
        await again.close()
        await other.close()


async def test_a_host_opens_a_bounded_number_of_profiles(tiny_db, monkeypatch):
    from fyp_tui.host import server

    monkeypatch.setattr(server, "MAX_PEOPLE", 2)
    async with running_host(tiny_db) as host:
        a, b = await joined(host, "a"), await joined(host, "b")
        third = HostClient(host.url)
        with pytest.raises(HostRefused) as err:
            await third.connect(profile="c")
        assert err.value.code == "class_full"
        await a.close()
        for _ in range(100):
            if "a" not in host.holders:
                break
            await asyncio.sleep(0.02)
        again = await joined(host, "a")  # a profile already open comes back
        await again.close()
        await b.close()


async def test_status_lists_the_people_with_their_cards_and_reactions(tiny_db):
    async with running_host(tiny_db) as host:
        a, b = await joined(host, "a"), await joined(host, "b")
        card = await a.call("begin")
        await a.call("react", video=card.video, kind="like")
        card_b = await b.call("begin")
        await b.call("next", leaving=[card_b.video, 1.0, 0])
        await b.close()
        watcher = HostClient(host.url)
        await watcher.connect(watch=True)
        status = await watcher.call("status")
        people = {p["profile"]: p for p in status["people"]}
        assert set(people) == {"a", "b"}
        assert (people["a"]["cards"], people["a"]["reactions"], people["a"]["connected"]) == (1, 1, True)
        assert (people["b"]["cards"], people["b"]["reactions"]) == (2, 0)
        assert status["live_videos"] > 0 and status["clock"] >= 0
        with pytest.raises(HostRefused) as err:  # a watcher holds no profile
            await watcher.call("begin")
        assert err.value.code == "need_hello"
        await watcher.close()
        await a.close()


async def test_only_the_teacher_pauses_the_clock_for_everyone(tiny_db):
    async with running_host(tiny_db, teacher_token="teach") as host:
        student = await joined(host, "alex")
        with pytest.raises(HostRefused) as err:
            await student.call("pause", paused=True)
        assert err.value.code == "not_teacher"
        teacher = HostClient(host.url)
        await teacher.connect(watch=True, teacher_token="teach")
        assert (await teacher.call("pace", pace=120.0))["pace"] == 120.0
        await teacher.call("pause", paused=True)
        await asyncio.sleep(0.2)  # a tick in flight ends
        clock = (await teacher.call("status"))["clock"]
        await asyncio.sleep(0.3)  # several ticks
        assert (await teacher.call("status"))["clock"] == clock
        await teacher.call("pause", paused=False)
        for _ in range(100):
            if (await teacher.call("status"))["clock"] > clock:
                break
            await asyncio.sleep(0.05)
        assert (await teacher.call("status"))["clock"] > clock
        await teacher.close()
        await student.close()


async def test_the_host_checkpoints_as_it_runs_and_when_it_stops(tiny_db):
    from fyp_tui.store.io import WorldStore

    async with running_host(tiny_db, checkpoint_seconds=0.2) as host:
        c = await joined(host, "alex")
        await c.call("begin")
        for _ in range(200):  # a periodic checkpoint lands while the host runs
            with WorldStore.open(tiny_db, lock=False) as store:
                saved = float(store.meta["clock"])
            if saved > 0:
                break
            await asyncio.sleep(0.05)
        assert saved > 0
        await c.close()
    clock = host.shared.world.clock
    with WorldStore.open(tiny_db, lock=False) as store:
        assert float(store.meta["clock"]) == pytest.approx(clock)  # the final save: where the world stopped


# -- hostile messages -------------------------------------------------------------------------
def hostile_messages(rng: random.Random, n: int) -> list[str | bytes]:
    """``n`` messages the host must refuse, each a different way to be wrong (on a
    connection of the newest protocol version: posts among them)."""
    v = protocol.VERSION
    good = {"v": v, "id": 1, "op": "react", "args": {"video": 0, "kind": "like"}}
    post = {"caption": "quick 3 step pasta", "hashtags": ["pasta"], "duration": 20, "sound": 0}

    def bad_post() -> dict:
        """A post with one thing wrong: a field's type, size, range or characters, one
        missing or unknown, a topic or sound the world has not."""
        args: dict = dict(post)
        k = rng.randrange(12)
        if k == 0:
            args["caption"] = rng.choice(["", None, 7, ["x"], "x" * rng.randrange(151, 2000)])
        elif k == 1:
            args["caption"] = "ok " + rng.choice(["\x1b[2J", "\n", "\x00", "\u202e", "\r"]) + " then"
        elif k == 2:
            args["hashtags"] = rng.choice(["pasta", 3, None, {"a": 1}, ["a"] * 5, [1, 2], ["#"], ["a b"], ["x" * 40]])
        elif k == 3:
            args["hashtags"] = [rng.choice(["a;drop", "tag\n", "é-é", "#" * 3, "💥"])]
        elif k == 4:
            args["duration"] = rng.choice([0, 4.9, 181, -1, None, "20", True, 1e308])
        elif k == 5:
            args["sound"] = rng.choice([-1, 2**40, 10**6, None, "0", 1.5])  # (10**6: no such sound)
        elif k == 6:
            args["topic"] = rng.choice([-1, 10**4, 9_999, "0", None, 2.5])  # (9999: no such topic)
        elif k == 7:
            del args[rng.choice(["caption", "duration", "sound"])]
        elif k == 8:
            args[rng.choice(["video", "profile", "creator", "quality"])] = 1  # not a post's field
        elif k == 9:
            args = {"hashtags": [], "caption": "no topic named", "duration": 20, "sound": 0}  # no topic at all
        elif k == 10:
            return {"v": 1, "id": 8, "op": "post", "args": post}  # not this connection's version
        else:
            args["caption"] = "x" * 100 + "\u00a0" * 60  # whitespace only past 150: one caption, too long
            args["hashtags"] = ["pad" * 10] * 4
            args["pad"] = "y" * rng.randrange(4_000, 9_000)  # oversized
        return {"v": v, "id": 7, "op": "post", "args": args}

    def variant() -> str | bytes:
        k = rng.randrange(18)
        if k == 0:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))  # a binary frame
        if k == 1:
            return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 300)))  # not JSON
        if k == 2:
            return "{" * rng.randrange(1, 3000)  # unbalanced / deep nesting
        if k == 3:
            return "[" * 2000 + "]" * 2000  # deep, valid JSON, not an object
        if k == 4:
            return json.dumps({**good, "pad": "x" * rng.randrange(5_000, 200_000)})  # oversized
        if k == 5:
            return json.dumps({**good, "v": rng.choice([0, 1, 3, str(v), None, 1.5, True])})
        if k == 6:
            return json.dumps({**good, "id": rng.choice([-1, 2**40, "7", None, 1.5, True])})
        if k == 7:
            return json.dumps({**good, "op": rng.choice(["", "drop_tables", "__init__", 3, None, "x" * 500])})
        if k == 8:
            return json.dumps({**good, "args": {"video": rng.choice([-5, 2**40, "3", None, 1.5, [], {}])}})
        if k == 9:
            return json.dumps({**good, "args": {"video": 0, "kind": rng.choice(["", "hack", 7, None, "like" * 20])}})
        if k == 10:
            return json.dumps({**good, "args": {"video": 0, "kind": "like", "extra": 1}})
        if k == 11:
            return (
                f'{{"v": {v}, "id": 3, "op": "knob", "args": {{"value": '
                + rng.choice(["NaN", "Infinity", "2", "-1"])
                + "}}"
            )
        if k == 12:
            return json.dumps({"v": v, "id": 4, "op": "next", "args": {"leaving": rng.choice([[1], "x", [0, -1, 0]])}})
        if k == 13:
            return json.dumps({"v": v, "id": 5, "op": "hello", "args": {"profile": "alex"}})  # hello twice
        if k == 14:
            return json.dumps(
                {"v": v, "id": 6, "op": "react", "args": {"video": 10**9, "kind": "like"}}
            )  # no such video
        if k in (15, 16):
            return json.dumps(bad_post())
        return json.dumps(rng.choice([[], "str", 42, None, {"v": v}]))

    return [variant() for _ in range(n)]


async def next_reply(ws) -> dict | None:
    """The next reply on ``ws`` (pushes skipped), or None if the connection ended."""
    while True:
        got = await ws.receive(timeout=10)
        if got.type != aiohttp.WSMsgType.TEXT:
            return None
        msg = json.loads(got.data)
        if "push" not in msg:
            return msg


async def test_a_thousand_hostile_messages_each_get_an_error_and_crash_nothing(tiny_db):
    async with running_host(tiny_db) as host:
        async with aiohttp.ClientSession() as http, http.ws_connect(host.url, max_msg_size=0) as ws:
            await ws.send_str(protocol.request(0, "hello", profile="alex"))
            assert (await next_reply(ws) or {}).get("ok") is True
            w = host.shared.world
            host.shared.paused = True  # (no simulated upload: the world's sizes stay as they are)
            sizes = (w.n_videos, w.n_creators, w.n_hashtags)
            messages = hostile_messages(random.Random(16), 1200)
            assert sum(isinstance(m, str) and '"op": "post"' in m for m in messages) >= 100
            for msg in messages:
                if isinstance(msg, bytes):
                    await ws.send_bytes(msg)
                else:
                    await ws.send_str(msg)
                reply = await next_reply(ws)
                assert reply is not None, f"no error reply to {str(msg)[:80]!r}"
                assert reply["ok"] is False and reply["error"]["code"], f"{str(msg)[:80]!r} was accepted"
            # the connection and the host still work
            await ws.send_str(protocol.request(9, "begin"))
            reply = await next_reply(ws)
            assert reply is not None
            assert reply["ok"] is True and reply["id"] == 9
        assert host.errors >= 1200
        # not one malformed post made a video, an account or a hashtag
        assert (w.n_videos, w.n_creators, w.n_hashtags) == sizes
        # a new connection before hello: every op is refused until hello
        c = HostClient(host.url)
        c._session = aiohttp.ClientSession()
        c._ws = await c._session.ws_connect(host.url)
        c._reader = asyncio.ensure_future(c._read())
        with pytest.raises(HostRefused) as err:
            await c.call("begin")
        assert err.value.code == "need_hello"
        await c.close()


async def test_a_frame_past_the_hard_limit_closes_only_that_connection(tiny_db):
    async with running_host(tiny_db) as host:
        async with aiohttp.ClientSession() as http, http.ws_connect(host.url, max_msg_size=0) as ws:
            await ws.send_str("x" * (2 * 1024 * 1024))
            got = await ws.receive(timeout=10)
            assert got.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        c = await joined(host, "after")  # the host goes on
        assert (await c.call("begin")).video >= 0
        await c.close()


# -- durability: a real host, killed --------------------------------------------------------
async def test_acknowledged_likes_survive_kill_9_of_the_host(tiny_db):
    proc, url = start_host(tiny_db, 3)
    liked: set[tuple[str, int]] = set()
    try:
        clients = {name: HostClient(url) for name in ("a", "b")}
        for name, c in clients.items():
            await c.connect(profile=name)
            card = await c.call("begin")
            for _ in range(4):
                reacted, _items = await c.call("react", video=card.video, kind="like")
                assert reacted.liked
                liked.add((name, card.video))  # acknowledged
                card, _items = await c.call("next", leaving=[card.video, 1.0, 0])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for c in clients.values():
            await c.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    con = sqlite3.connect(tiny_db)
    try:
        rows = set(
            con.execute(
                "SELECT p.name, i.video_id FROM interaction i JOIN profile p ON p.id = i.profile_id WHERE i.kind = 'like'"
            ).fetchall()
        )
    finally:
        con.close()
    assert len(liked) == 8 and liked <= rows


def test_a_reaction_waiting_for_the_database_does_not_hold_the_world(tiny_db):
    """A reaction's commit waits for the database (here another writer holds SQLite's
    write lock, as a checkpoint does) with the world lock let go: the clock and everyone
    else's feed go on; the reaction is acknowledged only once it is committed."""
    import threading
    import time

    shared = SharedWorld(tiny_db, seed=6)
    shared.open()
    host = Host(shared)
    writer = sqlite3.connect(tiny_db, isolation_level=None)
    try:
        alex = shared.person("alex")
        card = alex.feed.begin()
        writer.execute("BEGIN IMMEDIATE")  # the database's write lock, held
        acked = alex.feed.submit(host._committed, alex.feed.react, card.video, "like")
        deadline = time.monotonic() + 20
        while not shared.journal.backlog:  # the like is made and waits to be written
            assert time.monotonic() < deadline, "the like was never journaled"
            time.sleep(0.01)
        # (the feed thread lets go of the lock just after queueing the record; the
        # database holds the commit for up to 10 s, so a lock held through it times out)
        got = shared.lock.acquire(timeout=3)
        if got:
            shared.lock.release()
        assert got, "a commit waiting for the database holds the world lock"
        events: list = []
        stepping = threading.Thread(target=lambda: events.append(shared.advance(0.5)))
        stepping.start()
        stepping.join(timeout=8)  # (the database waits up to 10 s: the step must not)
        assert not stepping.is_alive() and events, "the clock waited for the reaction's commit"
        assert not acked.done(), "acknowledged before it was committed"
        writer.execute("ROLLBACK")
        acked.result(timeout=20)
        rows = writer.execute(
            "SELECT count(*) FROM interaction WHERE kind = 'like' AND video_id = ? AND profile_id = ?",
            (card.video, alex.profile_id),
        ).fetchone()[0]
        assert rows == 1
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()
        shared.close()
