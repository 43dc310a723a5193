"""``fyp-tui profiles``: list, delete, reset (issue 14, item 2)."""

from __future__ import annotations

import json

import pytest
from test_postgres import PG, pg_db  # noqa: F401  (the fixture: a fresh database on the test server)
from worlds import world_held_elsewhere


def _use(db: str, name: str, *, cards: int = 4, like: int = 2, post: bool = False) -> None:
    """``name`` watches ``cards`` cards and likes the first ``like`` of them (and posts a video)."""
    from fyp_tui.live.session import LiveSession

    live = LiveSession(db, name, seed=5)
    try:
        live.open()
        live.profile.onboard([0, 1])
        card = live.feed.begin()
        for i in range(cards):
            assert card is not None
            if i < like:
                live.feed.react(card.video, "like")
            card, _ = live.feed.forward((card.video, 10.0, 0))
        if post:
            live.studio.post_video(caption="mine", hashtags=[0], sound=0, duration=15.0, topic=0)
        live.checkpoints.final_save()
    finally:
        live.close()


def _rows(run_cli, db: str) -> dict[str, dict]:
    code, out, err = run_cli("profiles", "--db", db, "--json")
    assert code == 0, err
    return {r["name"]: r for r in json.loads(out)}


def test_profiles_lists_each_one(run_cli, tiny_db):
    code, out, _ = run_cli("profiles", "--db", tiny_db)
    assert code == 0 and "no profiles yet" in out
    _use(tiny_db, "ann", cards=5, like=2)
    _use(tiny_db, "bob", cards=3, like=0)
    rows = _rows(run_cli, tiny_db)
    assert set(rows) == {"ann", "bob"}
    assert (rows["ann"]["cards_watched"], rows["ann"]["reactions"]) == (5, 2)
    assert (rows["bob"]["cards_watched"], rows["bob"]["reactions"]) == (3, 0)
    assert rows["ann"]["knob"] == pytest.approx(0.3)
    assert set(rows["ann"]) == {"name", "created", "cards_watched", "reactions", "knob", "device"}
    # the person's device (issue 12) is their saved state's: the world's most common at first
    from fyp_tui.engine.viewer import PersonState
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(tiny_db) as store:
        world = store.load()
    assert rows["ann"]["device"] == world.device_names[PersonState.new(world).device]
    assert rows["ann"]["created"].startswith("20")
    code, out, _ = run_cli("--db", tiny_db, "profiles")  # fyp-tui's own --db works too
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["name", "created", "cards", "reactions", "knob"]
    assert [line.split()[0] for line in lines[1:]] == ["ann", "bob"]


def test_delete_asks_first_and_takes_yes(run_cli, tiny_db):
    _use(tiny_db, "ann", post=True)
    _use(tiny_db, "bob")
    from fyp_tui.store.io import WorldStore

    with WorldStore.open(tiny_db, lock=False) as store:
        ann = store.find_profile("ann")
        assert ann is not None
        assert (store.load().video_profile == ann.id).sum() == 1  # the video ann posted
    code, _, err = run_cli("profiles", "delete", "ann", "--db", tiny_db)  # no terminal to ask on
    assert code == 2 and "--yes" in err and err.count("\n") == 1
    assert "ann" in _rows(run_cli, tiny_db)
    code, out, err = run_cli("profiles", "delete", "ann", "--db", tiny_db, "--yes")
    assert code == 0, err
    assert "deleted profile 'ann'" in out and "the 1 video it posted stays in the world" in out
    assert set(_rows(run_cli, tiny_db)) == {"bob"}
    # the world still opens, its videos all there, none marked as the deleted profile's
    with WorldStore.open(tiny_db) as store:
        world = store.load()
        assert store.loaded_from["video"] == "rows"  # the mirror held the old mark: set aside
        assert not (world.video_profile[: world.n_videos] == ann.id).any()
        assert world.video_captions[world.n_videos - 1] == "mine"
    code, _, err = run_cli("profiles", "delete", "ann", "--db", tiny_db, "--yes")
    assert code == 2 and "no profile called 'ann'" in err and "bob" in err


def test_reset_forgets_interests_and_keeps_the_rest(run_cli, tiny_db):
    from fyp_tui.store.io import WorldStore

    _use(tiny_db, "ann", cards=6, like=3)

    def state() -> dict:
        with WorldStore.open(tiny_db, lock=False) as store:
            row = store.find_profile("ann")
            assert row is not None
            return json.loads(row.state_json)

    before = state()
    assert any(abs(v) > 0 for v in before["interests"])
    code, out, err = run_cli("profiles", "reset", "ann", "--db", tiny_db, "--yes")
    assert code == 0, err
    assert "reset profile 'ann'" in out
    after = state()
    assert all(v == 0 for v in after["interests"])
    for key in ("liked", "history", "follows", "onboarded", "found_early"):
        assert after[key] == before[key], key
    rows = _rows(run_cli, tiny_db)
    assert (rows["ann"]["cards_watched"], rows["ann"]["reactions"]) == (6, 3)


def test_delete_and_reset_refuse_a_world_held_elsewhere(run_cli, tiny_db):
    _use(tiny_db, "ann")
    with world_held_elsewhere(tiny_db):
        for command in ("delete", "reset"):
            code, out, err = run_cli("profiles", command, "ann", "--db", tiny_db, "--yes")
            assert code == 1 and out == ""
            assert err.count("\n") == 1 and "in use by another fyp-tui process" in err
        assert _rows(run_cli, tiny_db)["ann"]["cards_watched"] == 4  # listing only reads: fine
    assert "ann" in _rows(run_cli, tiny_db)


async def test_the_profile_screen_switches_profile(tiny_db):
    from pilot import FakeClock, open_feed, until

    from fyp_tui.tui import make_app
    from fyp_tui.tui.screens.profile import SwitchProfileScreen

    _use(tiny_db, "ann")
    app = make_app(tiny_db, "tester", frozen=True, clock=FakeClock(), seed=11)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_feed(pilot)
        await pilot.press("2")
        await until(pilot, lambda: app.screen.MODE == "profile" and app.screen.data is not None, "the profile")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SwitchProfileScreen), "the switch dialog")
        assert [name for name, _ in app.screen.profiles] == ["ann", "tester"]
        await pilot.press("escape")  # stay
        await until(pilot, lambda: app.screen.MODE == "profile", "the profile again")
        assert app.is_running and app.switch_to is None
        await pilot.click("#switch")
        await until(pilot, lambda: isinstance(app.screen, SwitchProfileScreen), "the switch dialog")
        await pilot.press("tab", *"newbie", "enter")
        await until(pilot, lambda: not app.is_running, "the app to end for the switch", timeout=30)
    assert app.switch_to == "newbie"
    # the world was saved and released: the next app opens as the new profile
    again = make_app(tiny_db, app.switch_to, frozen=True, clock=FakeClock(), seed=11)
    async with again.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: again.ready or again.failed, "the world")
        assert not again.failed and again.live.profile_name == "newbie"
        await pilot.press("escape")  # a new profile: onboarding
        await pilot.press("2")
        await until(pilot, lambda: again.screen.MODE == "profile" and again.screen.data is not None, "the profile")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(again.screen, SwitchProfileScreen), "the switch dialog")
        await pilot.press("enter")  # the first in the list: ann
        await until(pilot, lambda: not again.is_running, "the app to end for the switch", timeout=30)
    assert again.switch_to == "ann"


@pytest.mark.skipif(not PG, reason="no PostgreSQL server: .ci/run starts one and sets FYP_TUI_TEST_PG")
def test_profiles_list_reset_and_delete_on_postgres(run_cli, request):
    db = request.getfixturevalue("pg_db")
    code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--db", db)
    assert code == 0, err
    _use(db, "ann", cards=5, like=2, post=True)
    _use(db, "bob", cards=3, like=0)
    rows = _rows(run_cli, db)
    assert {n: (r["cards_watched"], r["reactions"]) for n, r in rows.items()} == {"ann": (5, 2), "bob": (3, 0)}
    code, _, err = run_cli("profiles", "reset", "ann", "--db", db, "--yes")
    assert code == 0, err
    code, out, err = run_cli("profiles", "delete", "ann", "--db", db, "--yes")
    assert code == 0, err
    assert "the 1 video it posted stays" in out
    assert set(_rows(run_cli, db)) == {"bob"}
