"""`fyp-tui play` on the tiny world: a bot scrolls the live session headless, its
reactions are journaled like a person's, the world moves on and is saved; bad input
is one line. (The app's ``--autoplay`` is tested with the other pilot tests, in
test_tui.py.)"""

from __future__ import annotations

import json
import math

import pytest
from worlds import rows, world_held_elsewhere

KEYS = (
    "cards",
    "first_viewer_cards",
    "live_share_by_window",
    "live_videos_by_window",
    "tips",
    "clock_start",
    "clock_end",
)


def clock_of(db: str) -> float:
    return rows(db, "SELECT clock FROM world_meta")[0][0]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("fyp-tui: error: "), lines[0]
    return lines[0]


def test_play_json_changes_the_world_and_journals_the_bot(run_cli, tiny_db):
    code, out, err = run_cli(
        "play", "--db", tiny_db, "--bot", "two-likes-one-share", "--cards", "30", "--seed", "1", "--json"
    )
    assert code == 0, err
    d = json.loads(out)
    assert all(k in d for k in KEYS)
    assert d["cards"] == 30 and d["bot"] == d["profile"] == "two-likes-one-share" and not d["ran_out"]
    assert len(d["live_share_by_window"]) == len(d["live_videos_by_window"]) == math.ceil(30 / 25)
    assert all(0.0 <= s <= 1.0 for s in d["live_share_by_window"])
    assert all(isinstance(n, int) and n >= 0 for n in d["live_videos_by_window"])
    assert 0 <= d["first_viewer_cards"] <= d["cards"]
    # the clock ran at the pace: 30 cards x 3 s (the bot's watch_seconds) x 10 simulated min/s
    assert d["seconds_per_card"] == 3.0 and d["pace"] == 10.0
    assert d["clock_end"] - d["clock_start"] == pytest.approx(30 * 3 * 10 / 60)
    assert clock_of(tiny_db) == pytest.approx(d["clock_end"])  # checkpointed at the end
    # every reaction and every card left is in the journal, as a person's would be
    (pid,) = rows(tiny_db, "SELECT id FROM profile WHERE name = ?", d["profile"])[0]
    kinds = dict(rows(tiny_db, "SELECT kind, COUNT(*) FROM interaction WHERE profile_id = ? GROUP BY kind", pid))
    assert kinds.pop("impression") == 30
    assert kinds == d["reactions"] and sum(kinds.values()) > 0
    # tips: this bot's credited decisions, each saved with its signal
    assert d["tips"], (
        "seed 1 tips decisions on the tiny world (3 in 30 cards; 5 of seeds 1-8 tip any: which do depends on the feed and the audience mechanics)"
    )
    for t in d["tips"]:
        assert t["decision"] in ("promoted", "stalled") and isinstance(t["tier"], int) and t["reaction"]
        assert d["clock_start"] <= t["time"] <= d["clock_end"] and 1 <= t["card"] <= d["cards"]
        saved = rows(
            tiny_db,
            "SELECT tipped_by, from_tier FROM tier_event WHERE video_id = ? AND profile_id = ?",
            t["video_id"],
            pid,
        )
        assert (t["reaction"], t["tier"]) in saved


def test_play_text_summary_and_a_second_run_goes_on(run_cli, tiny_db):
    code, out, err = run_cli(
        "play", "--db", tiny_db, "--bot", "control", "--cards", "5", "--pace", "60", "--seconds-per-card", "2"
    )
    assert code == 0, err
    assert (
        out.startswith("control scrolled 5 cards as 'control'")
        and "first-viewer cards" in out
        and "cards live, per 25" in out
    )
    assert clock_of(tiny_db) == pytest.approx(5 * 2 * 60 / 60)
    # the same profile again: it resumes from the world saved (no card twice)
    code, out, err = run_cli("play", "--db", tiny_db, "--bot", "control", "--cards", "5", "--json", "--seed", "2")
    assert code == 0, err
    assert json.loads(out)["clock_start"] == pytest.approx(10.0)
    shown = rows(tiny_db, "SELECT video_id FROM interaction WHERE kind = 'impression'")
    assert len(shown) == len(set(shown)) == 10


def test_play_a_bot_file_and_the_root_profile(run_cli, tiny_db, tmp_path):
    bots = tmp_path / "bots.toml"
    bots.write_text(
        '[[bot]]\nname = "a"\nlike = ["dance"]\n[[bot]]\nname = "b"\nshare = ["comedy"]\nwatch_seconds = 1.5\n'
    )
    code, out, err = run_cli(
        "--profile", "ann", "play", "--db", tiny_db, "--bot", f"{bots}:b", "--cards", "3", "--json"
    )
    assert code == 0, err
    d = json.loads(out)
    assert (d["bot"], d["profile"], d["seconds_per_card"]) == ("b", "ann", 1.5)
    assert rows(tiny_db, "SELECT name FROM profile") == [("ann",)]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("--bot", "nobody"), 2, "no bot named 'nobody'"),
        (("--bot", ""), 2, "--bot is empty"),
        (("--bot", "/nonexistent/bots.toml"), 2, "no bot file"),
        (("--bot", "control", "--cards", "0"), 2, "--cards"),
        (("--bot", "control", "--pace", "0"), 2, "--pace"),
        (("--bot", "control", "--pace", "nan"), 2, "--pace"),
        (("--bot", "control", "--seconds-per-card", "-1"), 2, "--seconds-per-card"),
        (("--bot", "control", "--seconds-per-card", "inf"), 2, "--seconds-per-card"),
        (("--bot", "control", "--seed", "x"), 2, "--seed"),
        (("--cards", "3"), 2, "--bot"),
    ],
)
def test_play_bad_input_is_one_line_and_the_world_unchanged(run_cli, tiny_db, args, code, needle):
    before = rows(tiny_db, "SELECT clock, checkpointed_at FROM world_meta")
    got, out, err = run_cli("play", "--db", tiny_db, *args)
    assert got == code and out == ""
    assert needle in one_line(err)
    assert rows(tiny_db, "SELECT clock, checkpointed_at FROM world_meta") == before
    assert rows(tiny_db, "SELECT COUNT(*) FROM interaction") == [(0,)]


def test_play_a_bot_the_world_does_not_fit(run_cli, tiny_db, tmp_path):
    bots = tmp_path / "two.toml"
    bots.write_text('[[bot]]\nname = "a"\n[[bot]]\nname = "b"\n')
    code, _, err = run_cli("play", "--db", tiny_db, "--bot", str(bots))
    assert code == 2 and "two.toml holds 2 bots (a, b): pick one with --bot" in one_line(err)
    bots.write_text('[[bot]]\nname = "k"\nfollow = ["knitting"]\n')
    code, _, err = run_cli("play", "--db", tiny_db, "--bot", str(bots))
    assert code == 2 and "two.toml: bot 'k': unknown topic 'knitting'" in one_line(err)
    assert rows(tiny_db, "SELECT COUNT(*) FROM interaction") == [(0,)]


def test_play_missing_world_is_one_line(run_cli, tmp_path):
    code, _, err = run_cli("play", "--db", str(tmp_path / "none.db"), "--bot", "control")
    assert code == 1 and "no world at" in one_line(err)


def test_play_on_a_world_in_use(run_cli, tiny_db):
    with world_held_elsewhere(tiny_db):
        code, _, err = run_cli("play", "--db", tiny_db, "--bot", "control", "--cards", "3")
        assert code == 1 and "in use by another fyp-tui process" in one_line(err)


def test_play_checkpoints_while_it_runs_as_the_app_does(tiny_db):
    """Every CHECKPOINT_SECONDS of wall time (here a clock that jumps 61 s a look), the
    world is written in the background: stopped without a final save, it is where the
    last card left it."""
    from fyp_tui.audit import read_bot_ref
    from fyp_tui.live.autoplay import BotPlayer, play
    from fyp_tui.live.session import LiveSession

    live = LiveSession(tiny_db, "cp", seed=1)
    try:
        live.open()
        player = BotPlayer.for_session(live, read_bot_ref("control"))
        writes = []
        submit = live.checkpoints.submit_write
        live.checkpoints.submit_write = lambda snap: writes.append(snap) or submit(snap)
        ticks = iter(range(0, 10_000, 61))
        r = play(live, player, cards=4, clock=lambda: float(next(ticks)))
    finally:
        live.close()
    assert len(writes) == 4 and r.clock_end == pytest.approx(4 * 5 * 10 / 60)
    assert clock_of(tiny_db) == pytest.approx(r.clock_end)


def test_cli_default_pace_is_the_live_layers():
    from fyp_tui.cli.play import DEFAULT_PACE
    from fyp_tui.live.clock import DEFAULT_PACE as LIVE

    assert DEFAULT_PACE == LIVE


# -- the bot's plan for a card ----------------------------------------------------------------


def test_a_bots_plan_steady_for_play_and_as_watched_in_the_app(tiny_world):
    from fyp_tui.audit import BotSpec, resolve_bots
    from fyp_tui.live.autoplay import REACT_LEAD, BotPlayer
    from fyp_tui.live.views import CardData

    spec = BotSpec(name="b", like=("dance",), linger=("comedy",), not_interested=("cooking",), watch_seconds=2.0)
    (bot,) = resolve_bots(tiny_world, [spec])
    player = BotPlayer(bot, seconds_per_card=3.0)
    topic = {name: i for i, name in enumerate(tiny_world.topic_names)}

    def card(name: str, duration: float) -> CardData:
        return CardData(7, 0, "h", "", "", (), 0, "", "", False, topic[name], name, duration)

    liked = player.plan(card("dance", 20.0))
    assert (liked.reactions, liked.seconds, liked.watch, liked.react_at) == (("like",), 20.0, 20.0, 20.0 - REACT_LEAD)
    steady = player.plan(card("dance", 20.0), steady=True)  # play: 3 s a card, the watch as the rules say
    assert (steady.seconds, steady.watch, steady.react_at) == (3.0, 20.0, 2.0)
    linger = player.plan(card("comedy", 10.0))
    assert (linger.reactions, linger.watch, linger.loops) == ((), 20.0, 1)
    skip = player.plan(card("cooking", 10.0))
    assert skip.reactions == ("not_interested_video",) and skip.watch == 3.0
    short = player.plan(card("fitness", 1.0))  # a skim of a shorter video: to its end
    assert (short.reactions, short.seconds, short.watch) == ((), 1.0, 1.0)
