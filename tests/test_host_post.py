"""Posting on a class host (issue 16 with issue 11's Studio): protocol version 2's ``post``.

A person of the class posts under their profile in the shared world (their creator
account made at their first post, as locally); the host commits the post before it
acknowledges it (a real host killed with SIGKILL keeps it); the rest of the class
meets it as any video; a malformed post is refused; a client of version 1 is still
served as before; and the app's Studio posts over a connection.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest
from pilot import drain, open_feed, until
from processes import start_host
from test_host import joined, next_reply, running_host
from test_host_remote import HostThread, wait_for
from worlds import rows

from fyp_tui.errors import FypError, UsageError
from fyp_tui.host import protocol
from fyp_tui.host.client import HostClient, HostRefused
from fyp_tui.host.remote import RemoteSession

REPO = Path(__file__).resolve().parents[1]
SIZE = (100, 32)


async def a_post(client: HostClient, caption: str = "quick 3 step pasta", **kw) -> dict:
    """Post with the first topical hashtag the host offers (its topic named by it)."""
    tags = await client.call("hashtags")
    tag = next(n for n, t in zip(tags["names"], tags["topics"], strict=True) if t >= 0)
    sounds = await client.call("sounds")
    args = {"caption": caption, "hashtags": [tag], "duration": 18, "sound": sounds[0].sound, **kw}
    return await client.call("post", **args)


# -- the protocol ------------------------------------------------------------------------------
async def test_a_person_posts_through_the_host_and_the_class_meets_it_as_any_video(tiny_db):
    async with running_host(tiny_db) as host:
        shared = host.shared
        shared.paused = True  # the post stays in tier 0 while sam scrolls to it
        alex = await joined(host, "alex")
        assert alex.version == 2 and alex.hello["protocol"] == 2
        before = await alex.call("account")
        assert not before.made and before.posts == 0
        got = await a_post(alex, hashtags=["Pastanight", "#comedy"])
        video = got["video_id"]
        w = shared.world
        # the reply carries what the local post returns
        assert got["tier"] == 0 and got["creator"] == before.handle == "alex"
        assert any(i.text == "your video is live in tier 0" and i.mine for i in got["items"])
        # in the shared world, under alex's profile, as alex's own creator account
        person = shared.people["alex"]
        assert int(w.video_profile[video]) == person.profile_id
        creator = int(w.video_creator[video])
        assert w.creator_handles[creator] == "alex" and int(w.creator_followers[creator]) == 0
        assert w.video_captions[video] == "quick 3 step pasta"
        assert "pastanight" in w.hashtag_names  # a new hashtag, created in the world
        # committed before the reply: rows in the database, no checkpoint taken since
        assert rows(tiny_db, "SELECT caption, creator_id FROM video WHERE id = ?", video) == [
            ("quick 3 step pasta", creator)
        ]
        assert rows(tiny_db, "SELECT count(*) FROM hashtag WHERE name = 'pastanight'") == [(1,)]
        account = await alex.call("account")
        assert account.made and account.posts == 1 and account.creator == creator
        mine = await alex.call("my_videos")
        assert [v.video for v in mine] == [video]
        assert mine[0].tier == 0 and mine[0].status == "active" and not mine[0].watched
        # a second post: the same account
        again = await a_post(alex, caption="pasta part two")
        assert int(w.video_creator[again["video_id"]]) == creator
        assert [v.video for v in await alex.call("my_videos")] == [again["video_id"], video]

        # the rest of the class: the video is one of the world's, in sam's feed as any other
        sam = await joined(host, "sam")
        counters = await sam.call("counters", video=video)
        assert counters.tier == 0
        posts = (await sam.call("class")).posts
        assert [(p.profile, p.video) for p in posts] == [("alex", again["video_id"]), ("alex", video)]
        card = await sam.call("begin")
        for _ in range(600):
            if card is None or card.video == video:
                break
            card, _items = await sam.call("next", leaving=[card.video, 2.0, 0])
        assert card is not None and card.video == video, "the post never reached sam's feed"
        assert card.handle == "alex" and not card.mine  # (it is alex's, not sam's)
        reacted, _items = await sam.call("react", video=video, kind="like")
        assert reacted.liked
        assert (await alex.call("counters", video=video)).likes >= 1  # alex sees sam's like
        await alex.close()
        await sam.close()


async def test_a_post_the_studio_refuses_is_a_bad_args_reply_that_changes_nothing(tiny_db):
    async with running_host(tiny_db) as host:
        w = host.shared.world
        alex = await joined(host, "alex")
        n_tags = w.n_hashtags
        cases = [
            ({"hashtags": []}, "pick a topic"),  # no topic, and no hashtag names one
            ({"hashtags": ["brandnewtag"]}, "pick a topic"),  # an unknown tag names no topic
            ({"topic": w.n_topics}, "no such topic"),
            ({"sound": w.n_sounds}, "no such sound"),
            ({"duration": 4}, "duration"),
            ({"caption": "x" * 151}, "caption"),
            ({"caption": "bell\x07"}, "caption"),
            ({"hashtags": ["a"] * 5}, "hashtags"),
        ]
        for change, words in cases:
            args = {"caption": "quick 3 step pasta", "hashtags": ["comedy"], "duration": 18, "sound": 0, **change}
            with pytest.raises(HostRefused) as err:
                await alex.call("post", **args)
            assert err.value.code == "bad_args" and words in str(err.value), (change, str(err.value))
        person = host.shared.people["alex"]
        assert not (w.video_profile[: w.n_videos] == person.profile_id).any()
        assert w.n_hashtags == n_tags and "brandnewtag" not in w.hashtag_names
        assert not (await alex.call("account")).made
        assert (await alex.call("begin")) is not None  # the connection goes on
        await alex.close()


async def test_a_version_1_client_is_served_as_before_and_has_no_posting(tiny_db):
    async with running_host(tiny_db) as host:
        async with aiohttp.ClientSession() as http, http.ws_connect(host.url) as ws:
            await ws.send_str(protocol.request(0, "begin", version=1))  # before hello: refused, in version 1
            early = await next_reply(ws)
            assert early is not None and early["v"] == 1 and early["error"]["code"] == "need_hello"
            await ws.send_str(protocol.request(1, "hello", version=1, profile="old"))
            hello = await next_reply(ws)
            assert hello is not None and hello["ok"] and hello["v"] == 1 and hello["result"]["protocol"] == 1
            await ws.send_str(protocol.request(2, "post", version=1, caption="hi", duration=20, sound=0))
            refused = await next_reply(ws)
            assert refused is not None and refused["v"] == 1
            assert refused["error"]["code"] == "unknown_op" and "version 2" in refused["error"]["message"]
            await ws.send_str(protocol.request(3, "begin", version=2))  # not the version of its hello
            mixed = await next_reply(ws)
            assert mixed is not None and mixed["error"]["code"] == "bad_version"
            # the Class data of version 1: no field of version 2 (a v1 client refuses unknown fields)
            await ws.send_str(protocol.request(4, "class", version=1))
            data = await next_reply(ws)
            assert data is not None and data["ok"] and data["result"]["$t"] == "ClassData"
            assert "posts" not in data["result"]
            # its pushes are of version 1 too
            while True:
                got = json.loads((await ws.receive(timeout=10)).data)
                if "push" in got:
                    assert got["v"] == 1
                    break


async def test_a_client_falls_back_to_version_1_on_an_older_host_and_its_studio_says_so(tiny_db, monkeypatch):
    monkeypatch.setattr(protocol, "VERSIONS", (1,))  # the host of a build from before posting
    async with running_host(tiny_db) as host:
        c = await joined(host, "alex")
        assert c.version == 1 and c.hello["protocol"] == 1
        assert (await c.call("begin")) is not None
        await c.close()
        remote = RemoteSession(host.url, "sam")
        try:
            await asyncio.to_thread(remote.wait_open)
            assert remote.version == 1
            assert remote.studio.account() is None
            with pytest.raises(FypError, match="protocol version 1"):
                await asyncio.to_thread(remote.studio.sounds)
        finally:
            await asyncio.to_thread(remote.close)  # (off the loop: the host answers its goodbye)


# -- durability: a real host, killed, and opened again ---------------------------------------------
async def test_an_acknowledged_post_survives_kill_9_of_the_host(tiny_db):
    proc, url = start_host(tiny_db, 3)
    acked: list[dict] = []
    try:
        alex = HostClient(url)
        await alex.connect(profile="alex")
        acked.append(await a_post(alex, hashtags=["comedy", "killnine"]))
        acked.append(await a_post(alex, caption="and a second one"))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        await alex.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ids = [a["video_id"] for a in acked]
    saved = rows(
        tiny_db,
        "SELECT v.id, v.caption, c.handle FROM video v JOIN creator c ON c.id = v.creator_id "
        f"WHERE v.id IN ({', '.join('?' * len(ids))}) ORDER BY v.id",
        *ids,
    )
    assert saved == [(ids[0], "quick 3 step pasta", "alex"), (ids[1], "and a second one", "alex")]
    assert rows(tiny_db, "SELECT count(*) FROM hashtag WHERE name = 'killnine'") == [(1,)]
    # opened again: the posts are alex's, under the same account, and the world goes on with them
    proc, url = start_host(tiny_db, 4)
    try:
        alex = HostClient(url)
        await alex.connect(profile="alex")
        account = await alex.call("account")
        assert account.made and account.handle == "alex" and account.posts == 2
        assert [v.video for v in await alex.call("my_videos")] == ids[::-1]
        third = await a_post(alex, caption="after the crash")
        assert third["creator"] == "alex" and third["video_id"] > ids[1]
        await alex.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the client: RemoteSession's studio and the app's Studio over a connection -------------------------
def test_the_remote_studio_posts_follows_the_climb_and_hears_the_decision(tiny_db):
    with HostThread(tiny_db) as host:
        shared = host.host.shared
        remote = RemoteSession(host.url, "alex")
        try:
            remote.wait_open()
            studio = remote.studio
            sounds = studio.sounds()
            assert sounds and all(isinstance(s.sound, int) for s in sounds)
            w = shared.world
            tag = next(i for i in range(w.n_hashtags) if w.hashtag_topic[i] >= 0)
            name, topic = w.hashtag_names[tag], int(w.hashtag_topic[tag])
            # the form's helpers work from the host's hashtags, here
            assert studio.topic_for_hashtags(f"#{name}") == topic
            done = studio.complete_hashtag(f"#{name[:-1]}", topic)
            assert done is not None and done.lstrip("#") in w.hashtag_names
            # the local Studio's checks, with its words, before anything is sent
            with pytest.raises(UsageError, match="write a caption"):
                studio.post_video(caption="  ", hashtags=name, sound=0, duration=20)
            with pytest.raises(UsageError, match="not a hashtag"):
                studio.post_video(caption="hi", hashtags="#a-b", sound=0, duration=20)
            with pytest.raises(UsageError, match="seconds must be between"):
                studio.post_video(caption="hi", hashtags=name, sound=0, duration=500)
            # and the host's, shown the same way
            with pytest.raises(UsageError, match="pick a topic"):
                studio.post_video(caption="hi", hashtags="", sound=0, duration=20)
            video, items = studio.post_video(
                caption="  quick   3 step pasta ", hashtags=f"#{name}", sound=sounds[0].sound, duration=18
            )
            assert [i.text for i in items] == ["your video is live in tier 0"]
            assert w.video_captions[video] == "quick 3 step pasta"
            assert studio.account().posts == 1
            # the clock runs fast (the teacher's pace): views come in, then its tier 0 is decided
            shared.pace = 600.0
            wait_for(lambda: studio.my_videos()[0].views > 0, "views of the post")
            heard: list[str] = []

            def decided() -> bool:
                heard.extend(i.text for i in remote.clock.advance(0.0).items if i.mine)
                return any(t.startswith(("🎉 Your video moved up", "your video stalled")) for t in heard)

            wait_for(decided, "the strip line of the post's tier-0 decision", timeout=60)
            climb = studio.my_videos()[0]
            assert climb.video == video and climb.steps  # its climb, decision by decision
            assert (climb.tier >= 1) or climb.status == "stalled"
        finally:
            remote.close()


async def test_the_studio_posts_over_a_connection_and_follows_the_post(tiny_db):
    from textual.widgets import Input, Select

    from fyp_tui.tui.classroom import ClassroomApp
    from fyp_tui.tui.screens.studio import StudioScreen

    with HostThread(tiny_db) as host:
        shared = host.host.shared
        remote = RemoteSession(host.url, "alex")
        remote.preload()
        app = ClassroomApp(remote)  # (not frozen: the app's ticks hand over the host's and reload the Studio)
        async with app.run_test(size=SIZE) as pilot:
            await open_feed(pilot)
            await pilot.press("3")
            await until(pilot, lambda: isinstance(app.screen, StudioScreen), "the studio")
            studio = app.screen
            assert isinstance(studio, StudioScreen)
            await until(pilot, lambda: len(studio.query_one("#sound", Select)._options) > 1, "the sounds")
            await pilot.press(*"quick pasta")  # the caption has focus
            assert app.current_mode == "studio" and studio.query_one("#caption", Input).value == "quick pasta"
            w = shared.world
            tag = next(i for i in range(w.n_hashtags) if w.hashtag_topic[i] >= 0)
            studio.query_one("#hashtags", Input).value = f"#{w.hashtag_names[tag]}"
            topic = int(w.hashtag_topic[tag])
            await until(pilot, lambda: studio.query_one("#topic", Select).value == topic, "the topic from the hashtags")
            studio.query_one("#sound", Select).value = 0
            await pilot.press("ctrl+r")
            person = shared.people["alex"]
            await until(
                pilot,
                lambda: (w.video_profile[: w.n_videos] == person.profile_id).any(),
                "the post in the host's world",
            )
            video = int((w.video_profile[: w.n_videos] == person.profile_id).nonzero()[0][0])
            await until(pilot, lambda: [v.video for v in studio.videos] == [video], "the post in the Studio")
            account = str(studio.query_one("#studio-account").content)
            assert "@alex" in account and "1 post" in account
            # followed live as the host's clock runs: views, the budget bar
            shared.pace = 300.0
            await until(pilot, lambda: studio.videos and studio.videos[0].views > 0, "its first views")
            await drain(pilot)
            detail = str(studio.query_one("#studio-detail").content)
            assert "quick pasta" in detail and "views" in detail
            assert "clock runs slow" not in detail  # the class's clock is the teacher's
            await pilot.press("escape", "5")
            await until(pilot, lambda: app.current_mode == "class", "the Class screen")
            await until(
                pilot,
                lambda: getattr(app.screen, "data", None) is not None and app.screen.data.posts,
                "the class's posts",
            )
            assert [(p.profile, p.video) for p in app.screen.data.posts] == [("alex", video)]


def test_while_the_host_is_away_the_studio_shows_what_it_had_and_a_post_is_refused_not_lost(tiny_db):
    with HostThread(tiny_db) as host:
        remote = RemoteSession(host.url, "alex")
        remote.wait_open()
        remote.studio.sounds()
        video, _items = remote.studio.post_video(caption="before the break", hashtags="#comedy", sound=0, duration=20)
        account = remote.studio.account()
        assert [v.video for v in remote.studio.my_videos()] == [video]
        port = host.port
    try:
        # the host is gone: the Studio's reloads show what it had, with no error each tick
        assert [v.video for v in remote.studio.my_videos()] == [video]
        assert remote.lost and remote.studio.account() == account
        assert [v.video for v in remote.studio.my_videos()] == [video]
        # a post is refused now (the form keeps it), never half-sent
        with pytest.raises(FypError, match="lost the class host"):
            remote.studio.post_video(caption="during the break", hashtags="#comedy", sound=0, duration=20)
        with HostThread(tiny_db, port):
            wait_for(lambda: not remote.lost, "the client to reconnect")
            again, _items = remote.studio.post_video(
                caption="after the break", hashtags="#comedy", sound=0, duration=20
            )
            assert [v.video for v in remote.studio.my_videos()] == [again, video]
        assert rows(tiny_db, "SELECT caption FROM video WHERE caption LIKE '%the break' ORDER BY id") == [
            ("before the break",),
            ("after the break",),
        ]
    finally:
        remote.close()


def test_a_final_newline_does_not_slip_past_a_name_check():
    """(``$`` matches before a final newline; the checks use ``\\Z``.)"""
    for op, args in (
        ("hello", {"profile": "alex\n"}),
        ("post", {"caption": "hi", "hashtags": ["tag\n"], "duration": 20, "sound": 0}),
        ("post", {"caption": "hi\n", "duration": 20, "sound": 0}),
    ):
        with pytest.raises(protocol.ProtocolError) as err:
            protocol.parse_request(protocol.request(1, op, **args))
        assert err.value.code == "bad_args", (op, args)
    ok = protocol.parse_request(protocol.request(1, "post", caption="hi", hashtags=["#tag"], duration=20, sound=0))
    assert ok.args["hashtags"] == ["#tag"] and ok.v == protocol.VERSION


async def test_my_videos_sends_the_newest_posts_only(tiny_db):
    async with running_host(tiny_db) as host:
        alex = await joined(host, "alex")
        ids = [
            (await alex.call("post", caption=f"post {i}", hashtags=["comedy"], duration=20, sound=0))["video_id"]
            for i in range(protocol.MAX_MY_VIDEOS + 2)
        ]
        assert [v.video for v in await alex.call("my_videos")] == ids[::-1][: protocol.MAX_MY_VIDEOS]
        assert (await alex.call("account")).posts == len(ids)
        await alex.close()


def test_a_strip_lines_tip_flag_travels_in_version_2_only():
    """``StripItem.tipped`` (version 2) is left out for a version 1 connection, whose
    client would refuse an unknown field; both decode."""
    from fyp_tui.live.views import StripItem

    item = StripItem(3.0, "your like pushed this video into tier 1", True, "promoted", tipped=True)
    old, new = protocol.encode(item, 1), protocol.encode(item, 2)
    assert "tipped" not in old and new["tipped"] is True
    assert protocol.decode(new) == item
    assert protocol.decode(old) == StripItem(3.0, item.text, True, "promoted")
