"""Profiles and the SqlJournal: a person's reactions are durable before the call returns."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from fyp_tui.engine.events import Promoted
from fyp_tui.engine.feed import FeedSession
from fyp_tui.engine.params import EngineParams
from fyp_tui.engine.world import Signal
from fyp_tui.errors import StoreError, UsageError
from fyp_tui.store.db import make_engine
from fyp_tui.store.io import WorldStore
from fyp_tui.store.profiles import SqlJournal, get_or_create_profile, load_person


def fresh_count(url: str, sql: str, **params) -> int:
    """Count through a brand-new engine: what another process would see."""
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            return int(c.execute(text(sql), params).scalar())
    finally:
        eng.dispose()


@pytest.fixture
def opened(tiny_db):
    store = WorldStore.open(tiny_db)
    world = store.load()
    with store.session() as s:
        prof = get_or_create_profile(session=s, name="me")
        person = load_person(session=s, profile=prof, world=world)
        pid = prof.id
    yield store, world, person, pid
    store.close()


def test_get_or_create_profile_is_idempotent(opened):
    store, _world, _person, pid = opened
    with store.session() as s:
        again = get_or_create_profile(session=s, name="me")
        other = get_or_create_profile(session=s, name="you")
        assert again.id == pid and other.id != pid and again.knob == pytest.approx(0.3)
        with pytest.raises(UsageError):
            get_or_create_profile(session=s, name="  ")


def test_a_reaction_is_committed_before_record_returns(opened):
    store, world, _person, pid = opened
    url = str(store.engine.url)
    j = SqlJournal(store.engine, world)
    ev = Promoted(
        time=1.0,
        video=3,
        from_tier=0,
        to_tier=1,
        score=0.5,
        bar=0.4,
        impressions=20,
        budget=146,
        tipped_by="share",
        profile=pid,
    )
    j.record(pid, "share", 3, 0.0, 0, 1.0, {"interests": [0.5], "knob": 0.4, "country": 0, "language": 0}, [ev])
    assert fresh_count(url, "SELECT COUNT(*) FROM interaction WHERE profile_id = :p AND kind = 'share'", p=pid) == 1
    assert fresh_count(url, "SELECT COUNT(*) FROM tier_event WHERE video_id = 3 AND tipped_by = 'share'") == 1
    assert fresh_count(url, "SELECT COUNT(*) FROM profile WHERE id = :p AND knob = 0.4", p=pid) == 1


def test_a_failed_reaction_writes_nothing(opened):
    store, world, _person, pid = opened
    url = str(store.engine.url)
    j = SqlJournal(store.engine, world)
    # a tier event on a video with no row breaks the foreign key: the whole transaction rolls back
    bad = Promoted(time=1.0, video=10**7, from_tier=0, to_tier=1, score=0.5, bar=0.4, impressions=1, budget=1)
    with pytest.raises(StoreError, match="could not save your like"):
        j.record(pid, "like", 3, 0.0, 0, 1.0, {"knob": 0.9}, [bad])
    assert fresh_count(url, "SELECT COUNT(*) FROM interaction") == 0
    assert fresh_count(url, "SELECT COUNT(*) FROM profile WHERE knob = 0.9") == 0


def test_session_state_survives_a_restart(tiny_db):
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        params = EngineParams.from_world(world)
        with store.session() as s:
            prof = get_or_create_profile(session=s, name="me")
            person = load_person(session=s, profile=prof, world=world)
        fs = FeedSession(world, params, person, prof.id, np.random.default_rng(0), SqlJournal(store.engine, world))
        fs.onboard([0, 1])
        shown = []
        for i in range(15):
            v = fs.next()
            shown.append(v)
            fs.watched(v, 4.0, 0)
            if i == 3:
                fs.react(v, "follow")
            if i == 5:
                fs.react(v, "not_interested_creator")
        fs.set_knob(0.7)
        expect = fs.person.to_dict()
    # a new process: no checkpoint was taken, yet nothing the person did is lost
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        with store.session() as s:
            prof = get_or_create_profile(session=s, name="me")
            back = load_person(session=s, profile=prof, world=world)
            rows = s.execute(text("SELECT COUNT(*) FROM interaction WHERE kind = 'impression'")).scalar()
    assert rows == 15
    assert back.to_dict() == expect
    assert set(shown) <= back.seen and back.knob == 0.7 and back.onboarded


def test_a_reaction_to_a_video_newer_than_the_checkpoint(opened):
    from fyp_tui.engine import simulate

    store, world, person, pid = opened
    params = EngineParams.from_world(world)
    simulate.step(world, params, np.random.default_rng(1), 2.0)  # uploads new videos (not in the db yet)
    assert world.n_videos > world.saved_videos
    new = world.n_videos - 1
    fs = FeedSession(world, params, person, pid, np.random.default_rng(0), SqlJournal(store.engine, world))
    fs.watched(new, 3.0)
    fs.react(new, "like")
    url = str(store.engine.url)
    assert fresh_count(url, "SELECT COUNT(*) FROM interaction WHERE video_id = :v", v=new) == 2
    assert world.saved_videos == world.n_videos
    # the next checkpoint still works and writes the video's counters
    store.checkpoint(world)
    likes = int(world.video_counts[new, Signal.LIKE])
    assert likes >= 1
    assert fresh_count(url, "SELECT likes FROM video WHERE id = :v", v=new) == likes
    n_tags = int((world.video_tags[new] >= 0).sum())
    assert fresh_count(url, "SELECT COUNT(*) FROM video_hashtag WHERE video_id = :v", v=new) == n_tags


def test_the_journal_checkpoints_the_wal_in_the_background(opened):
    import time

    store, world, _person, pid = opened
    url = str(store.engine.url)
    j = SqlJournal(store.engine, world)
    j.checkpoint_every = 4
    for i in range(9):
        j.record(pid, "impression", i, 3.0, 0, 1.0, {"knob": 0.3}, [])
    cp = j._checkpointer
    assert cp is not None
    deadline = time.monotonic() + 10.0
    while cp.runs < 1 and time.monotonic() < deadline:  # the thread was poked at commits 4 and 8
        time.sleep(0.01)
    assert cp.runs >= 1
    # the commit path never checkpoints below the safety limit; the pool's connections keep SQLite's default
    assert j._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SqlJournal.safety_autocheckpoint
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    assert fresh_count(url, "SELECT COUNT(*) FROM interaction WHERE profile_id = :p", p=pid) == 9
    j.close()
    assert not cp._thread.is_alive() and j._conn is None
