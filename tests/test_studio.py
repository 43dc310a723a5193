"""The creator studio (issue 11): a form that behaves, a creator account per profile,
new hashtags, and a post that is drawn and judged as any upload is."""

from __future__ import annotations

import numpy as np
import pytest
from pilot import FakeClock, drain, open_feed, until
from textual.widgets import Input, Select
from worlds import rows

from fyp_tui.engine.world import Status
from fyp_tui.errors import UsageError
from fyp_tui.live.session import LiveSession
from fyp_tui.tui import make_app

SIZE = (100, 32)


@pytest.fixture
def app(tiny_db):
    return make_app(tiny_db, "tester", frozen=True, clock=FakeClock(), seed=11)


async def open_studio(pilot, app):
    await open_feed(pilot)
    await pilot.press("3")
    await until(pilot, lambda: app.current_mode == "studio", "the studio")
    await drain(pilot)
    return app.screen


# -- the form ---------------------------------------------------------------------------------


async def test_typing_a_caption_that_begins_with_q_stays_in_the_studio(app):
    async with app.run_test(size=SIZE) as pilot:
        studio = await open_studio(pilot, app)
        caption = studio.query_one("#caption", Input)
        assert app.focused is caption, "the first field has focus when the studio opens"
        await pilot.press(*"quick 3 step pasta")
        await pilot.pause()
        assert not app._exit and app.current_mode == "studio"
        assert caption.value == "quick 3 step pasta"
        assert not app.world_paused, "p typed in a field does not pause the clock"


async def test_letters_on_a_select_do_not_fire_app_keys(app):
    async with app.run_test(size=SIZE) as pilot:
        studio = await open_studio(pilot, app)
        studio.query_one("#sound", Select).focus()
        await pilot.pause()
        theme = app.theme
        await pilot.press("q", "t", "4", "p")
        await pilot.pause()
        assert not app._exit and app.current_mode == "studio" and app.theme == theme and not app.world_paused


async def test_escape_leaves_the_field_and_app_keys_work_again(app):
    async with app.run_test(size=SIZE) as pilot:
        studio = await open_studio(pilot, app)
        await pilot.press("h", "i")
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is None
        assert studio.query_one("#caption", Input).value == "hi"
        await pilot.press("4")
        await until(pilot, lambda: app.current_mode == "world", "the World screen")


async def test_hashtags_complete_with_the_topics_own_first_and_set_the_topic(app):
    async with app.run_test(size=SIZE) as pilot:
        studio = await open_studio(pilot, app)
        w = app.live.world
        # a topical tag and a prefix several tags share
        tag = next(i for i in range(w.n_hashtags) if w.hashtag_topic[i] >= 0)
        topic = int(w.hashtag_topic[tag])
        name = w.hashtag_names[tag]
        field = studio.query_one("#hashtags", Input)
        field.focus()
        await pilot.press(*f"#{name[:2]}")
        await until(pilot, lambda: field._suggestion, "a suggestion")
        suggested = field._suggestion.lstrip("#")
        assert suggested.startswith(name[:2]) and suggested in w.hashtag_names
        await pilot.press("right")  # accept it
        assert field.value == field._suggestion or field.value.lstrip("#") in w.hashtag_names
        field.value = f"#{name}"
        await pilot.pause()
        assert studio.query_one("#topic", Select).value == topic, "the topic defaults from the hashtags"
    # the topic's own tags come first among those sharing a prefix
    other = next((t for t in range(w.n_topics) if t != topic), topic)
    live_studio = app.live.studio
    for prefix_len in (1, 2):
        prefix = name[:prefix_len]
        own = [n for i, n in enumerate(w.hashtag_names) if n.startswith(prefix) and w.hashtag_topic[i] == other]
        if own:
            done = live_studio.complete_hashtag(f"#{prefix}", other)
            assert done is not None and done.lstrip("#") in own
            break


async def test_a_new_hashtag_is_created_in_the_world(app, tiny_db):
    async with app.run_test(size=SIZE) as pilot:
        studio = await open_studio(pilot, app)
        studio.query_one("#caption", Input).value = "quick 3 step pasta"
        studio.query_one("#hashtags", Input).value = "#pastanight"
        studio.query_one("#sound", Select).value = 0
        studio.query_one("#topic", Select).value = 1
        await pilot.press("ctrl+r")
        w = app.live.world
        await until(pilot, lambda: "pastanight" in w.hashtag_names, "the new hashtag")
        h = w.hashtag_names.index("pastanight")
        assert int(w.hashtag_topic[h]) == 1
        mine = np.flatnonzero(w.video_profile[: w.n_videos] >= 0)
        assert len(mine) == 1 and h in w.video_tags[mine[0]].tolist()
        # committed with the post, before any checkpoint
        assert rows(tiny_db, "SELECT topic_id FROM hashtag WHERE name = 'pastanight'") == [(1,)]
        await app.action_quit()
        await until(pilot, lambda: app._exit, "exit")


# -- the creator account ------------------------------------------------------------------------


def test_each_profile_posts_as_its_own_new_creator(tiny_db):
    made = []
    for name in ("Ana Lima", "bo"):
        live = LiveSession(tiny_db, name, seed=3)
        live.open()
        try:
            w = live.world
            median = float(np.median(w.creator_skill))
            n0 = w.n_creators
            assert live.studio.creator() is None and not live.studio.account().made
            video, _items = live.studio.post_video(caption="hello world", hashtags=[], sound=0, duration=18.0, topic=0)
            c = int(w.video_creator[video])
            assert c == n0 and live.studio.creator() == c
            assert w.creator_followers[c] == 0 and w.creator_skill[c] == pytest.approx(median)
            person = live.feed_session.person
            assert w.creator_country[c] == person.country and w.creator_language[c] == person.language
            # a second post comes from the same account
            again, _ = live.studio.post_video(caption="again", hashtags=[], sound=1, duration=30.0, topic=0)
            assert int(w.video_creator[again]) == c
            made.append((c, w.creator_handles[c]))
            live.checkpoints.final_save()
        finally:
            live.close()
    assert made[0][1] == "ana_lima" and made[1][1] == "bo"
    assert made[0][0] != made[1][0]
    # both accounts are rows of the world, and open again as the same creators
    assert rows(tiny_db, "SELECT handle, follower_count FROM creator WHERE id >= ? ORDER BY id", made[0][0]) == [
        ("ana_lima", 0),
        ("bo", 0),
    ]
    live = LiveSession(tiny_db, "Ana Lima", seed=4)
    live.open()
    try:
        assert live.studio.creator() == made[0][0]
        assert live.studio.account().handle == "ana_lima"
    finally:
        live.close()


def test_the_audience_and_other_people_follow_a_person_and_the_count_is_saved(tiny_db):
    from fyp_tui.engine.world import Signal

    live = LiveSession(tiny_db, "poster", seed=5)
    live.open()
    try:
        w = live.world
        tags = [w.hashtag_names[h] for h in np.flatnonzero(w.hashtag_topic == 0)[:3]]  # in-topic: targeted
        ids: list[int] = []
        for batch in range(4):  # a follow is rare (a few per thousand views): batches of 20 until one comes
            ids += [
                live.studio.post_video(
                    caption=f"clip {k}", hashtags=tags, sound=k % w.n_sounds, duration=12.0, topic=0
                )[0]
                for k in range(20 * batch, 20 * batch + 20)
            ]
            live.clock.advance(24.0)
            if w.video_counts[ids, Signal.FOLLOW].sum() > 0:
                break
        c = live.studio.creator()
        followers = int(w.creator_followers[c])
        # every follow its videos drew is a follower of the account
        assert followers == int(w.video_counts[ids, Signal.FOLLOW].sum()) > 0
        live.checkpoints.final_save()
    finally:
        live.close()
    assert rows(tiny_db, "SELECT follower_count FROM creator WHERE id = ?", c) == [(followers,)]
    # another person follows it from their feed
    other = LiveSession(tiny_db, "fan", seed=6)
    other.open()
    try:
        with other.lock:
            other.feed_session.react(ids[0], "follow")
        assert int(other.world.creator_followers[c]) == followers + 1
        other.checkpoints.final_save()
    finally:
        other.close()
    assert rows(tiny_db, "SELECT follower_count FROM creator WHERE id = ?", c) == [(followers + 1,)]


def test_bad_posts_are_refused_and_change_nothing(tiny_db):
    live = LiveSession(tiny_db, "poster", seed=5)
    live.open()
    try:
        w = live.world
        n, c, h = w.n_videos, w.n_creators, w.n_hashtags
        for kwargs, words in (
            ({"caption": "  "}, "caption"),
            ({"duration": 2.0}, "between"),
            ({"duration": 999.0}, "between"),
            ({"hashtags": "#a #b #c #d #e"}, "at most"),
            ({"hashtags": "#no-dash"}, "not a hashtag"),
            ({"topic": None, "hashtags": "#brandnewtag"}, "topic"),
        ):
            args = {"caption": "fine", "hashtags": "", "sound": 0, "duration": 20.0, "topic": 0, **kwargs}
            with pytest.raises(UsageError, match=words):
                live.studio.post_video(**args)
        assert (w.n_videos, w.n_creators, w.n_hashtags) == (n, c, h)
    finally:
        live.close()


def test_the_caption_language_is_the_videos(tiny_world):
    from fyp_tui.engine import uploads

    w = tiny_world
    vocab = w.extra["caption_words_by_language"]
    codes = [c for c in vocab if c in w.language_codes]
    assert len(codes) >= 2
    a, b = codes[0], codes[1]
    words_b = " ".join(x for x in vocab[b][:40] if x.casefold() not in {y.casefold() for y in vocab[a]})[:80]
    lang_a, lang_b = w.language_codes.index(a), w.language_codes.index(b)
    assert uploads.caption_language(w, words_b, lang_a) == lang_b
    assert uploads.caption_language(w, "zzqx blorp", lang_a) == lang_a


def test_a_post_is_drawn_as_any_upload(tiny_world):
    """Its quality varies around its creator's skill as uploads' does; nothing else is special."""
    from fyp_tui.engine import uploads
    from fyp_tui.engine.params import EngineParams

    w = tiny_world
    p = EngineParams.from_world(w)
    c = uploads.add_person_creator(w, name="x", country=0, language=0, topic=0)
    rng = np.random.default_rng(0)
    q = []
    for _ in range(200):
        v = uploads.post_video(
            w, p, rng, profile=1, creator=c, sound=0, duration=18.0, topic=0, hashtags=[], caption="x", now=w.clock
        )
        q.append(float(w.video_quality[v]))
        assert w.video_status[v] == Status.ACTIVE and w.video_tier[v] == 0
    q = np.array(q)
    assert np.std(q) > 0.02, "a post's quality is drawn, not fixed"
    assert abs(np.mean(q) - float(w.creator_skill[c])) < 0.05


# -- choices act through the audience's and the ladder's own mechanics ---------------------------


def _cohorts(w, rank: int = 0, **kinds):
    """Post videos of each kind (same creator, quality and topic: the ``rank``-th most
    viewed), run the world; counts per kind."""
    from fyp_tui.engine import simulate, uploads
    from fyp_tui.engine.params import EngineParams

    p = EngineParams.from_world(w)
    views = np.bincount(w.video_topics[: w.n_videos, 0], minlength=w.n_topics)
    topic = int(np.argsort(-views, kind="stable")[rank])
    c = uploads.add_person_creator(w, name="cohort", country=0, language=0, topic=topic)
    rng = np.random.default_rng(3)
    ids = {}
    for kind, (tags, duration) in kinds.items():
        tag_ids = [int(h) for h in np.flatnonzero(w.hashtag_topic == topic)[:tags]]
        ids[kind] = [
            uploads.post_video(
                w,
                p,
                rng,
                profile=1,
                creator=c,
                sound=0,
                duration=duration,
                topic=topic,
                hashtags=tag_ids,
                caption="x",
                now=w.clock,
            )
            for _ in range(40)
        ]
        w.video_quality[ids[kind]] = 0.4  # the same hidden quality: only the choice differs
    simulate.run(w, p, 5, 6.0)
    return {kind: w.video_counts[v].sum(axis=0) for kind, v in ids.items()}


def test_in_topic_hashtags_reach_interested_viewers(tiny_world):
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.pools import broad_share
    from fyp_tui.engine.world import Signal

    w = tiny_world
    p = EngineParams.from_world(w)
    n = w.n_videos
    n_in = [
        int(np.count_nonzero(w.hashtag_topic[[t for t in w.video_tags[v] if t >= 0]] == w.video_topics[v, 0]))
        for v in range(200)
    ]
    share = broad_share(w, p, np.arange(200))
    assert np.allclose(share, p.untagged_broad_share * np.maximum(1 - np.array(n_in) / p.tags_to_target, 0))
    assert n > 200 and share.max() <= p.untagged_broad_share
    counts = _cohorts(w, w.n_topics // 2, tagged=(3, 20.0), bare=(0, 20.0))
    like = {k: c[Signal.LIKE] / c[Signal.VIEW] for k, c in counts.items()}
    skip = {k: c[Signal.SKIP] / c[Signal.VIEW] for k, c in counts.items()}
    assert like["tagged"] > 1.2 * like["bare"] and skip["tagged"] < skip["bare"], (like, skip)


def test_catalogue_impressions_reach_interested_viewers_by_the_same_rule(tiny_world):
    """The hashtag mechanic holds for every impression matched by topic: a stalled
    video served from the back catalogue loses its targeting like a live one (else its
    lifetime counters, earned with full targeting, outrank live videos' in the feed)."""
    import dataclasses

    from fyp_tui.engine import simulate
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.engine.world import Signal

    base = EngineParams.from_world(tiny_world)
    rates = {}
    for label, share in (("targeted", 0.0), ("broad", 1.0)):
        w = tiny_world.copy()
        n = w.n_videos
        stalled = np.arange(n // 2)  # the older half, in the catalogue
        w.video_status[stalled] = Status.STALLED
        before = w.video_counts[stalled].copy()
        # tags_to_target above any video's in-topic tags: every video has a broad share
        p = dataclasses.replace(base, untagged_broad_share=share, tags_to_target=100)
        simulate.run(w, p, 4, 6.0)
        still = w.video_status[stalled] == Status.STALLED  # (a trend may re-ignite a few)
        got = (w.video_counts[stalled] - before)[still].sum(axis=0)
        assert got[Signal.VIEW] > 1000, "the catalogue was served"
        rates[label] = (got[Signal.SKIP] / got[Signal.VIEW], got[Signal.LIKE] / got[Signal.VIEW])
    assert rates["broad"][0] > 1.1 * rates["targeted"][0], rates
    assert rates["broad"][1] < rates["targeted"][1], rates


def test_a_long_video_is_watched_to_the_end_less_often(tiny_world):
    from fyp_tui.engine.world import Signal

    counts = _cohorts(tiny_world, short=(3, 15.0), long=(3, 150.0))
    done = {k: c[Signal.FULL_WATCH] / c[Signal.VIEW] for k, c in counts.items()}
    assert done["short"] > 1.5 * done["long"], done


# -- watching the climb --------------------------------------------------------------------------


def test_the_clock_slows_while_a_post_is_judged_early_then_the_pace_returns(tiny_db):
    from fyp_tui.engine.world import Signal
    from fyp_tui.live.ladder import budget
    from fyp_tui.live.studio import WATCH_TIER0_SECONDS

    live = LiveSession(tiny_db, "watcher", seed=8)
    live.open()
    try:
        w = live.world
        fast = 60.0  # simulated minutes per real second: the person's pace, a fast one
        assert live.studio.pace(fast) == fast, "nothing posted: the pace is the person's"
        video, _ = live.studio.post_video(caption="watch me", hashtags=[], sound=0, duration=15.0, topic=0)
        slow = live.studio.pace(fast)
        assert 0 < slow < fast
        # at the slowed pace, tier 0's budget takes at least WATCH_TIER0_SECONDS real seconds
        # at the rate its tier collects impressions (measured: run the world and count)
        seconds = 0.0
        while w.video_tier[video] == 0 and w.video_status[video] == Status.ACTIVE and seconds < 600:
            live.clock.advance(live.studio.pace(fast) / 60.0)  # one real second at the studio's pace
            seconds += 1
        views = int(w.video_counts[video, Signal.VIEW])
        assert views >= budget(live.params, 0) or w.video_status[video] != Status.ACTIVE
        assert seconds >= 0.6 * WATCH_TIER0_SECONDS, f"tier 0 decided after {seconds} real seconds"
        # decided: once it is out of tiers 0-1 the pace is the person's again
        live.clock.advance(48.0)
        assert not (int(w.video_tier[video]) <= 1 and w.video_status[video] == Status.ACTIVE)
        assert live.studio.pace(fast) == fast
    finally:
        live.close()


def test_the_strip_celebrates_the_persons_promotion_and_the_studio_explains_a_stall(tiny_db):
    from fyp_tui.engine.events import Promoted
    from fyp_tui.live.strip import strip_items

    live = LiveSession(tiny_db, "climber", seed=9)
    live.open()
    try:
        w = live.world
        tags = [w.hashtag_names[h] for h in np.flatnonzero(w.hashtag_topic == 0)[:3]]  # in-topic: targeted
        ids: list[int] = []
        up: list[int] = []
        stalled: list[int] = []
        for batch in range(4):  # a median creator's post seldom climbs on tiny: dozens until one does
            ids += [
                live.studio.post_video(caption=f"try {k}", hashtags=tags, sound=k % w.n_sounds, duration=15.0, topic=0)[
                    0
                ]
                for k in range(12 * batch, 12 * batch + 12)
            ]
            live.clock.advance(24.0)
            up = [v for v in ids if w.video_tier[v] > 0]
            stalled = [v for v in ids if w.video_status[v] == Status.STALLED and w.video_tier[v] == 0]
            if up and stalled:
                break
        assert up and stalled, "some of the posts climb, some stall"
        e = Promoted(float(w.clock), up[0], 0, 1, 0.5, 0.1, 30, 84)
        items = strip_items([e], world=w, params=live.params, profile_id=live.profile_id, current=None)
        assert items[0].mine and items[0].text.endswith("Your video moved up to tier 1: 84 viewers")
        assert not items[0].tipped  # news of the person's own video, not a decision they tipped
        tip = Promoted(float(w.clock), up[0], 0, 1, 0.5, 0.1, 30, 84, tipped_by="share", profile=live.profile_id)
        items = strip_items([tip], world=w, params=live.params, profile_id=live.profile_id, current=None)
        assert items[0].mine and items[0].tipped and items[0].text.startswith("your share pushed")
        posted = {p.video: p for p in live.studio.my_videos()}
        pm = posted[stalled[0]].post_mortem
        assert pm and pm[0].startswith("stalled in tier 0")
        assert any("typ." in line for line in pm) and "bar" in pm[1]
        assert any(line.startswith("it lost the most on ") for line in pm)
        assert all((p.status == "stalled") == bool(p.post_mortem) for p in posted.values())
    finally:
        live.close()


# -- fyp-tui post ----------------------------------------------------------------------------------


def test_post_from_the_command_line(run_cli, tiny_db):
    import json

    code, out, err = run_cli(
        "post", "--db", tiny_db, "--profile", "Cli Poster", "--caption", "hello from a script",
        "--hashtags", "#scripted,made_up", "--topic", "1", "--duration", "18", "--json",
    )  # fmt: skip
    assert code == 0, err
    r = json.loads(out)
    assert {"video_id", "creator", "tier"} <= set(r)
    assert r["creator"] == "cli_poster" and r["tier"] == 0 and r["hashtags"] == ["scripted", "made_up"]
    assert rows(
        tiny_db, "SELECT caption, creator_id, profile_id IS NOT NULL FROM video WHERE id = ?", r["video_id"]
    ) == [("hello from a script", r["creator_id"], 1)]
    assert rows(tiny_db, "SELECT handle, follower_count FROM creator WHERE id = ?", r["creator_id"]) == [
        ("cli_poster", 0)
    ]
    # a second post: the same account; an empty --hashtags is allowed
    code, out, err = run_cli(
        "post", "--db", tiny_db, "--profile", "Cli Poster", "--caption", "again", "--hashtags", "", "--topic", "1",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    again = json.loads(out)
    assert again["creator_id"] == r["creator_id"] and again["hashtags"] == []
    assert isinstance(r["seed"], int)
    # the world runs on from there, and explain and export show the account
    assert run_cli("simulate", "--db", tiny_db, "--hours", "6", "-q")[0] == 0
    code, out, _ = run_cli("explain", str(r["video_id"]), "--db", tiny_db)
    assert code == 0 and "@cli_poster" in out
    code, out, _ = run_cli("export", "videos", "--db", tiny_db)
    assert code == 0 and f"\n{r['video_id']},cli_poster," in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--caption", "", "--topic", "0"], "caption"),
        (["--caption", "x", "--topic", "no such topic"], "unknown topic"),
        (["--caption", "x", "--topic", "0", "--sound", "99999"], "no sound"),
        (["--caption", "x", "--topic", "0", "--sound", "loud"], "sound"),
        (["--caption", "x", "--topic", "0", "--duration", "181"], "between 5 and 180"),
        (["--caption", "x", "--topic", "0", "--duration", "nan"], "between 5 and 180"),
        (["--caption", "x", "--topic", "0", "--duration", "ten"], "duration"),
        (["--caption", "x"], "topic"),
        (["--caption", "x", "--topic", "0", "--hashtags", "a-b"], "not a hashtag"),
        (["--topic", "0"], "caption"),
    ],
)
def test_post_refuses_bad_input_in_one_line(run_cli, tiny_db, args, words):
    before = rows(tiny_db, "SELECT COUNT(*) FROM video")
    code, out, err = run_cli("post", "--db", tiny_db, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err
    # nothing written: no video, no new profile, no new creator or hashtag
    assert rows(tiny_db, "SELECT COUNT(*) FROM video") == before
    assert rows(tiny_db, "SELECT COUNT(*) FROM profile") == [(0,)]
    assert rows(tiny_db, "SELECT COUNT(*) FROM creator") == [(60,)]


def test_the_same_post_and_seed_give_the_same_video(run_cli, tiny_db, tmp_path):
    import json
    import shutil

    quality = []
    for k in range(2):
        db = str(tmp_path / f"w{k}.db")
        shutil.copyfile(tiny_db, db)
        code, out, err = run_cli("post", "--db", db, "--caption", "same", "--topic", "2", "--seed", "7", "--json")
        assert code == 0, err
        v = json.loads(out)["video_id"]
        quality.append(rows(db, "SELECT quality, topic2_id, topic_weight FROM video WHERE id = ?", v))
    assert quality[0] == quality[1]


def test_post_cli_duration_range_matches_the_studio():
    from fyp_tui.cli import post
    from fyp_tui.live import studio

    assert (post.DURATION_MIN, post.DURATION_MAX) == (studio.DURATION_MIN, studio.DURATION_MAX)


def test_the_engine_has_no_special_case_for_a_persons_video(tiny_world):
    """The step (serving, reactions, decisions, trends) never reads whose a video is."""
    import dataclasses

    from fyp_tui.engine import simulate, uploads
    from fyp_tui.engine.params import EngineParams

    w = tiny_world
    p = dataclasses.replace(EngineParams.from_world(w), upload_scale=0.0)  # (uploads write video_profile)
    c = uploads.add_person_creator(w, name="p", country=0, language=0, topic=0)
    rng = np.random.default_rng(2)
    v = uploads.post_video(
        w, p, rng, profile=1, creator=c, sound=0, duration=15.0, topic=0, hashtags=[], caption="x", now=w.clock
    )
    w.video_profile = None  # any read now raises
    for _ in range(12):
        simulate.step(w, p, rng, 0.5)
    assert w.video_counts[v].sum() > 0
