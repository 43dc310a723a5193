"""Bot files and audit runs (tiny world)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fyp_tui.audit import BotSpec, load_bots, parse_bots, run_audit, summarize
from fyp_tui.errors import UsageError

BOT_FILE = """
[[bot]]
name = "cooking-lurker"
videos = 300
country = "US"
language = "en"
linger = ["cooking"]
like = []
share = []
follow = []
not_interested = []
watch_seconds = 2.0
"""


def test_the_issue_example_parses(tmp_path):
    p = tmp_path / "bots.toml"
    p.write_text(BOT_FILE)
    (b,) = load_bots(p)
    assert b == BotSpec(name="cooking-lurker", videos=300, country="US", language="en", linger=("cooking",))
    assert b.targets == ("cooking",)


def test_default_bots_are_the_published_audits():
    bots = load_bots()
    names = [b.name for b in bots]
    assert len(names) == len(set(names)) >= 5
    kinds = {
        "lurker": [b for b in bots if b.linger and not (b.like or b.share or b.follow)],
        "liker": [b for b in bots if b.like],
        "follower": [b for b in bots if b.follow],
        "foreign": [b for b in bots if b.country and b.language],
        "control": [b for b in bots if not b.targets and not b.country and not b.not_interested],
    }
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[bot]]\nname = "a"\nspeed = 3\n', "unknown key 'speed'"),
        ('[[bot]]\nname = "a"\nvideos = 0\n', "videos must be an integer >= 1"),
        ('[[bot]]\nname = "a"\nlinger = "cooking"\n', "linger must be a list"),
        ('[[bot]]\nname = "a"\nwatch_seconds = -1\n', "watch_seconds must be a number"),
        ('[[bot]]\nname = "a"\n[[bot]]\nname = "a"\n', "name used twice"),
        ('[[bot]]\nvideos = 3\n', "name must be a non-empty string"),
        ("bots = 1\n", "unknown key 'bots'"),
        ("", "no [[bot]] table"),
        ("[[bot]\n", "not valid TOML"),
    ],
)
def test_bad_bot_files_name_the_problem(tmp_path, text, needle):
    p = tmp_path / "bots.toml"
    p.write_text(text)
    with pytest.raises(UsageError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        load_bots(p)


def test_a_missing_bot_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no bot file"):
        load_bots(tmp_path / "nope.toml")


def test_unknown_topic_or_country_is_named(tiny_world):
    for spec, needle in (
        (BotSpec(name="x", videos=3, linger=("knitting",)), "unknown topic 'knitting'"),
        (BotSpec(name="x", videos=3, country="ZZ"), "unknown country 'ZZ'"),
        (BotSpec(name="x", videos=3, language="xx"), "unknown language 'xx'"),
    ):
        with pytest.raises(UsageError, match=needle):
            run_audit(tiny_world, [spec])


def test_audit_reports_the_issue_shape_and_leaves_the_world_alone(tiny_world):
    before = tiny_world.copy()
    bots = parse_bots(
        {"bot": [{"name": "liker", "videos": 60, "like": ["dance"]}, {"name": "control", "videos": 60}]}
    )
    report = run_audit(tiny_world, bots, seed=3)
    d = json.loads(json.dumps(report.to_dict()))
    assert list(d) == ["bots"] and [b["name"] for b in d["bots"]] == ["liker", "control"]
    keys = ["name", "videos", "target_share_by_window", "videos_to_50", "videos_to_80",
            "entropy_last_50", "topics_last_50", "countries_last_50"]  # fmt: skip
    for b in d["bots"]:
        assert list(b) == keys
        assert b["videos"] == 60 and len(b["target_share_by_window"]) == 3
        assert sum(b["topics_last_50"].values()) == 50 == sum(b["countries_last_50"].values())
        assert set(b["topics_last_50"]) <= set(tiny_world.topic_names)
        assert set(b["countries_last_50"]) <= set(tiny_world.country_codes)
    assert d["bots"][1]["videos_to_50"] is None and d["bots"][1]["target_share_by_window"] == [0.0, 0.0, 0.0]
    # the real world did not change
    n = before.n_videos
    assert tiny_world.n_videos == n and tiny_world.clock == before.clock
    for name in ("video_counts", "video_tier_counts", "video_tier", "video_status", "sound_trend", "creator_followers"):
        a, b = getattr(tiny_world, name), getattr(before, name)
        assert np.array_equal(a[: len(b)], b), name


def test_same_seed_same_audit(tiny_world):
    bots = parse_bots({"bot": [{"name": "a", "videos": 40, "linger": ["dance"]}]})
    assert run_audit(tiny_world, bots, seed=9).to_dict() == run_audit(tiny_world, bots, seed=9).to_dict()


def test_videos_override_each_bots_count(tiny_world):
    bots = parse_bots({"bot": [{"name": "a", "videos": 300}]})
    assert run_audit(tiny_world, bots, videos=30).bots[0].videos == 30


def test_summary_figures(tiny_world):
    w = tiny_world
    t0 = w.video_topics[: w.n_videos, 0]
    target = 1
    on = np.flatnonzero(t0 == target)[:40].tolist()
    off = np.flatnonzero(t0 != target)[:60].tolist()
    # 25 off-target, then 40 on-target, then 35 off
    shown = off[:25] + on + off[25:60]
    r = summarize(w, "x", shown, {target})
    assert r.target_share_by_window == [0.0, 1.0, 0.6, 0.0]
    # rolling window of 25 first reaches 50% at video 25 + 13 = 38, 80% at 25 + 20 = 45
    assert r.videos_to_50 == 38 and r.videos_to_80 == 45
    last = np.asarray(shown[-50:])
    counts = np.bincount(w.video_topics[last, 0], minlength=w.n_topics)
    p = counts[counts > 0] / 50
    assert r.entropy_last_50 == pytest.approx(-(p * np.log2(p)).sum(), abs=1e-4)
    assert r.topics_last_50[w.topic_names[target]] == 15
