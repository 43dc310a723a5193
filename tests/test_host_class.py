"""The class sees itself (issue 16): whose reaction tipped a decision, in the strip, the
panel's saved history and the Class data."""

from __future__ import annotations

import sqlite3

from fyp_tui.engine.events import Promoted, Stalled
from fyp_tui.host.world import SharedWorld
from fyp_tui.live.session import LiveSession
from fyp_tui.live.strip import strip_items


def test_the_strip_names_whose_reaction_tipped_a_decision(tiny_world):
    from fyp_tui.engine.params import EngineParams

    params = EngineParams.from_world(tiny_world)
    pushed = Promoted(3.0, 7, 2, 3, 0.5, 0.4, 100, 5000, tipped_by="share", profile=2, instead="stalled")
    stalled = Stalled(3.0, 8, 1, 0.1, 0.4, 90, "below bar", tipped_by="skip", profile=2, instead="moved up")
    names = {1: "me", 2: "alex"}
    texts = [
        i.text
        for i in strip_items(
            [pushed, stalled], world=tiny_world, params=params, profile_id=1, current=None, people=names
        )
    ]
    assert any(t.startswith("@alex's share pushed") and "into tier 3" in t for t in texts), texts
    assert any(t.startswith("@alex's skip stalled") and "in tier 1" for t in texts), texts
    # alex's own strip says "your", and a single-person session names nobody
    mine = [i for i in strip_items([pushed], world=tiny_world, params=params, profile_id=2, current=None, people=names)]
    assert mine[0].mine and mine[0].text.startswith("your share pushed")
    alone = [i.text for i in strip_items([pushed], world=tiny_world, params=params, profile_id=1, current=None)]
    assert not any("@alex" in t for t in alone)


def test_a_saved_decision_another_profile_tipped_is_not_the_persons(tiny_db):
    con = sqlite3.connect(tiny_db)
    con.execute(
        "INSERT INTO profile (name, created_at, onboarded, knob, state_json) VALUES ('other', '2026-01-01', 1, 0.3, '{}')"
    )
    other = con.execute("SELECT id FROM profile WHERE name = 'other'").fetchone()[0]
    con.execute(
        "INSERT INTO tier_event (video_id, from_tier, to_tier, reason, sim_time, score, bar, impressions, tipped_by, profile_id)"
        " VALUES (3, 0, 1, 'promoted', 0.0, 0.5, 0.4, 123, 'share', ?)",
        (other,),
    )
    con.commit()
    con.close()
    for name, credited in (("me", None), ("other", "share")):
        live = LiveSession(tiny_db, name, seed=1)
        try:
            live.open()
            steps = live.history.past_steps(3)
        finally:
            live.close()
        assert [s.tipped_by for s in steps if s.impressions == 123] == [credited], name


def test_the_class_data_lists_everyone_with_their_meter(tiny_db):
    with SharedWorld(tiny_db, seed=2) as shared:
        a, b = shared.person("a"), shared.person("b")
        assert a.profile_id != b.profile_id and a.lock is b.lock is shared.lock
        card = a.feed.begin()
        a.feed.react(card.video, "like")
        b.feed.begin()
        a.connected = True
        data = shared.class_data()
        people = {p.profile: p for p in data.people}
        assert set(people) == {"a", "b"} and people["a"].connected and not people["b"].connected
        assert all(0.0 <= p.diversity <= 1.0 for p in data.people)
        # both feed sessions' ledgers go into the shared step
        shared.advance(1.0)
        assert shared.world.clock > shared.start_clock


def test_a_decision_one_person_tipped_reaches_the_others_strip(tiny_db):
    with SharedWorld(tiny_db, seed=3) as shared:
        alex, sam = shared.person("alex"), shared.person("sam")
        decided = Promoted(
            float(shared.world.clock), 4, 0, 1, 0.5, 0.4, 100, 3000, tipped_by="share", profile=alex.profile_id
        )
        mine = alex.strip_items([decided])  # alex's own feed call decided it
        assert any(i.text.startswith("your share pushed") for i in mine)
        told = shared.take_told()
        sam_sees = [i.text for i in sam.tick([], told)]
        assert any(t.startswith("@alex's share pushed") for t in sam_sees), sam_sees
        assert not alex.tick([], told)  # alex is not told twice
        assert [(p.profile, p.text) for p in shared.class_data().pushed][:1] == [
            (
                "alex",
                f"share pushed @{shared.world.creator_handles[int(shared.world.video_creator[4])]}'s video into tier 1",
            )
        ]
        assert shared.take_told() == []


def test_the_worlds_decisions_are_logged_once_for_the_class_and_credited_to_who_tipped_them(tiny_db):
    with SharedWorld(tiny_db, seed=4) as shared:
        alex, sam = shared.person("alex"), shared.person("sam")
        # a decision of the world's step: in everyone's panel history, credited to nobody
        events = shared.advance(24.0)
        decided = [e for e in events if isinstance(e, (Promoted, Stalled))]
        assert decided, "a day of the tiny world decides something"
        for e in decided[:3]:
            for p in (alex, sam):
                assert any(s.time == e.time for s in p.history.past_steps(e.video)), (p.profile_name, e)
        for p in (alex, sam):
            p.tick(events, [])
        assert alex.history.credited == [] and sam.history.credited == []
        # a decision alex's own feed call tipped: in sam's panel history too, alex's tip alone
        video = next(v for v in range(shared.world.n_videos) if not shared.tiers.tier_log.get(v))
        tipped = Promoted(
            float(shared.world.clock) + 0.5,
            video,
            0,
            1,
            0.5,
            0.4,
            100,
            3000,
            tipped_by="share",
            profile=alex.profile_id,
        )
        alex.history.log_tiers([tipped])
        assert alex.history.credited == [tipped] and sam.history.credited == []
        for p, mine in ((alex, "share"), (sam, None)):
            steps = [s for s in p.history.past_steps(video) if s.time == tipped.time]
            assert [s.tipped_by for s in steps] == [mine], p.profile_name
        # one log for the class: its lists are not copied per person
        assert alex.history.tier_log is sam.history.tier_log is shared.tiers.tier_log
