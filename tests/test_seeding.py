"""Seeding: determinism, what the generated world looks like, scenario validation."""

from __future__ import annotations

import json
import re
import sqlite3
import tomllib
from importlib import resources

import numpy as np
import pytest

from fyp_tui.engine.world import TAGS_PER_VIDEO, Status
from fyp_tui.errors import UsageError
from fyp_tui.seeding.generate import build_world
from fyp_tui.seeding.scenario import WORLD_KEYS, builtin_scenarios, load_scenario, parse_scenario
from fyp_tui.seeding.vocab import COUNTRIES, GENERIC_HASHTAGS
from fyp_tui.store.io import save_new_world

#: world_meta columns that record wall-clock time, not the world
WALL_CLOCK = {"created_at", "checkpointed_at"}


def _dump(path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {}
        for t in tables:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] not in WALL_CLOCK]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY rowid").fetchall()
        return out
    finally:
        con.close()


# -- determinism --------------------------------------------------------------------------
def test_same_seed_gives_the_same_database_row_for_row(tiny_scenario, tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    save_new_world(str(a), build_world(tiny_scenario, 123))
    save_new_world(str(b), build_world(tiny_scenario, 123))
    da, db = _dump(a), _dump(b)
    assert da.keys() == db.keys() and len(da["video"]) == tiny_scenario.n_videos
    for table in da:
        assert da[table] == db[table], f"table {table} differs"


def test_a_different_seed_gives_a_different_world(tiny_scenario):
    a, b = build_world(tiny_scenario, 1), build_world(tiny_scenario, 2)
    assert a.creator_handles != b.creator_handles
    assert a.video_captions != b.video_captions
    assert not np.array_equal(a.video_quality, b.video_quality)
    assert not np.array_equal(a.aud_topics, b.aud_topics)


def test_build_world_reports_progress(tiny_scenario):
    calls = []
    build_world(tiny_scenario, 5, progress=lambda label, done, total: calls.append((label, done, total)))
    assert calls[0][1] == 0 and calls[-1][1] == calls[-1][2]
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


# -- what the world looks like ------------------------------------------------------------
@pytest.fixture(scope="module")
def mid_world():
    """Tiny's shape with enough rows for distribution checks (no database: fast)."""
    sc = load_scenario("tiny")
    world = dict(sc.world, n_videos=8000, n_creators=1500, n_viewers=6000, n_sounds=200)
    sc = parse_scenario({"name": "mid", "seed": 3, "world": world})
    return sc, build_world(sc, 3)


def test_world_fields_have_engine_dtypes(tiny_world):
    w = tiny_world
    n = w.n_videos
    assert w.capacity >= n and len(w.video_captions) == n
    assert w.video_topics.dtype == np.int16 and w.video_tags.dtype == np.int32 and w.aud_pref.dtype == np.float16
    assert w.creator_followers.dtype == np.int64 and w.video_counts.shape == (n, 9)
    assert (w.video_status[:n] == Status.ACTIVE).all() and (w.video_tier[:n] == 0).all()
    assert (w.video_profile[:n] == -1).all()
    assert np.allclose(w.video_topic_w[:n].sum(1), 1, atol=1e-6)
    assert np.allclose(w.aud_topic_w.sum(1), 1, atol=1e-5)
    for ids, size in (
        (w.video_creator, w.n_creators),
        (w.video_sound, w.n_sounds),
        (w.video_topics, w.n_topics),
        (w.creator_country, len(w.country_codes)),
        (w.aud_language, len(w.language_codes)),
        (w.aud_device, len(w.device_names)),
        (w.aud_topics, w.n_topics),
    ):
        assert ids.min() >= 0 and ids.max() < size
    assert len(w.extra["creator_display_names"]) == w.n_creators and len(w.extra["sound_artists"]) == w.n_sounds


def test_followers_are_heavy_tailed(mid_world):
    _, w = mid_world
    f = np.sort(w.creator_followers)[::-1].astype(float)
    top1 = f[: len(f) // 100].sum() / f.sum()
    assert top1 > 0.15, f"top 1% of creators hold only {top1:.0%} of followers"
    assert f[0] > 50 * np.median(f)


def test_a_few_sounds_carry_many_videos(mid_world):
    _, w = mid_world
    uses = np.sort(np.bincount(w.video_sound[: w.n_videos], minlength=w.n_sounds))[::-1]
    top = uses[: max(1, w.n_sounds // 20)].sum() / uses.sum()
    assert top > 0.3, f"top 5% of sounds carry only {top:.0%} of videos"
    assert np.median(uses) < 0.5 * uses.mean()  # and a long tail of rarely used ones


def test_durations_mostly_7_to_60_seconds_with_a_tail(mid_world):
    _, w = mid_world
    d = w.video_duration[: w.n_videos]
    assert ((d >= 7) & (d <= 60)).mean() > 0.8
    assert (d > 60).mean() > 0.01 and d.max() <= 180 and d.min() >= 5


def test_quality_is_skewed(mid_world):
    _, w = mid_world
    q = w.video_quality[: w.n_videos]
    assert 0.15 < np.median(q) < 0.45
    assert (q > 0.7).mean() < 0.08 and (q > 0.7).mean() > 0  # few excellent, but some
    assert np.mean(q) > np.median(q)  # right-skewed


def test_uploads_spread_over_the_days_before_t0(mid_world):
    sc, w = mid_world
    t = w.video_upload_time[: w.n_videos]
    hours = sc.history_days * 24
    assert t.max() <= 0 and t.min() >= -hours
    per_day = np.histogram(t, bins=int(sc.history_days), range=(-hours, 0))[0]
    assert per_day.min() > 0.5 * per_day.mean()
    assert np.all(np.diff(t) >= 0)  # ids follow upload order
    # creators keep uploading at the same pace after t=0
    assert w.creator_upload_rate.sum() == pytest.approx(w.n_videos / hours * sc.upload_pace, rel=1e-3)


def test_viewer_interests_concentrate_on_few_topics(mid_world):
    _, w = mid_world
    top = w.aud_topic_w[:, 0]
    assert np.mean(top) > 0.55
    assert (np.diff(w.aud_topic_w, axis=1) <= 0).all()  # heaviest first
    t = w.aud_topics
    assert (t[:, 0] != t[:, 1]).all() and (t[:, 0] != t[:, 2]).all() and (t[:, 1] != t[:, 2]).all()
    # the platform's learned estimate is a noisy copy of the truth
    pref = w.aud_pref.astype(np.float32)
    assert (pref.argmax(axis=1) == t[:, 0]).mean() > 0.7
    assert np.allclose(pref.sum(axis=1), 1, atol=0.02)


def test_hashtags_per_topic_plus_generic(mid_world):
    sc, w = mid_world
    per = sc.hashtags_per_topic
    assert len(set(w.hashtag_names)) == w.n_hashtags == w.n_topics * per + len(GENERIC_HASHTAGS)
    assert {"fyp", "viral"} <= set(w.hashtag_names)
    assert all(w.hashtag_topic[w.hashtag_names.index(g)] == -1 for g in GENERIC_HASHTAGS)
    tags = w.video_tags[: w.n_videos]
    assert tags.shape[1] == TAGS_PER_VIDEO and (tags[:, 0] >= 0).all()
    for row in tags[:500]:
        live = row[row >= 0]
        assert len(set(live)) == len(live) and (row[len(live) :] == -1).all()
    # the first tag belongs to the video's main topic
    assert (w.hashtag_topic[tags[:, 0]] == w.video_topics[: w.n_videos, 0]).all()
    generic = np.isin(tags, np.flatnonzero(w.hashtag_topic == -1)).any(axis=1).mean()
    assert abs(generic - sc.generic_tag_share) < 0.05


def test_names_come_from_the_creators_locale(tiny_world):
    w = tiny_world
    assert len(set(w.creator_handles)) == w.n_creators
    assert all(re.fullmatch(r"[\w.]+", h) for h in w.creator_handles)
    de = w.language_codes.index("de")
    german = [w.video_captions[i] for i in np.flatnonzero(w.video_language[: w.n_videos] == de)]
    words = set(w.extra["caption_words_by_language"]["de"])
    assert german and all(c.split()[0].lower() in {x.lower() for x in words} for c in german)
    originals = [w.sound_titles[s] for s in np.flatnonzero(w.sound_original)]
    assert originals and all(t.startswith("original sound - ") for t in originals)


# -- scenarios ----------------------------------------------------------------------------
def test_builtin_scenarios_load_and_match_the_issue():
    assert {"tiny", "demo", "large"} <= set(builtin_scenarios())
    demo = load_scenario("demo")
    assert demo.n_videos == 20_000 and demo.n_creators == 2_000 and demo.n_viewers == 100_000
    assert demo.n_topics >= 25 and demo.n_sounds >= 300
    assert demo.n_topics * demo.hashtags_per_topic + len(GENERIC_HASHTAGS) >= 500
    assert len(demo.countries) >= 4
    large = load_scenario("large")
    assert large.n_videos == 200_000 and large.n_viewers == 1_000_000


def test_every_world_key_is_documented_in_the_scenario_files():
    text = (resources.files("fyp_tui") / "seeds" / "demo.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key, spec in WORLD_KEYS.items():
        assert spec.doc
        (i,) = [n for n, line in enumerate(lines) if line.startswith(f"{key} =")]
        assert lines[i - 1].startswith("#"), f"{key} has no comment in demo.toml"
    for name in builtin_scenarios():
        data = tomllib.loads((resources.files("fyp_tui") / "seeds" / f"{name}.toml").read_text(encoding="utf-8"))
        assert set(data["world"]) <= set(WORLD_KEYS)


def test_scenario_from_a_path_and_defaults(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text("seed = 9\n[world]\nn_videos = 10\n", encoding="utf-8")
    sc = load_scenario(str(p))
    assert sc.name == "mine" and sc.seed == 9 and sc.n_videos == 10
    assert sc.n_creators == WORLD_KEYS["n_creators"].default and sc.engine == {}


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ("[world]\nn_vidoes = 10\n", "world.n_vidoes"),
        ("[world]\nn_videos = -5\n", "world.n_videos"),
        ("[world]\nn_videos = 0\n", "world.n_videos"),
        ('[world]\nn_videos = "lots"\n', "world.n_videos"),
        ("[world]\nn_videos = 1.5\n", "world.n_videos"),
        ("[world]\nn_videos = true\n", "world.n_videos"),
        ("[world]\nfollower_alpha = nan\n", "world.follower_alpha"),
        ("[world]\nenglish_share = 1.5\n", "world.english_share"),
        ("[world]\nn_topics = 99\n", "world.n_topics"),
        ('[world]\ncountries = ["US", "XX"]\n', "world.countries"),
        ("[world]\ncountries = []\n", "world.countries"),
        ("[world]\ncountry_weights = [1, 2]\n", "world.country_weights"),
        ("[world]\ndevice_weights = [1, -1, 1]\n", "world.device_weights"),
        ("[world]\nduration_min = 90\nduration_max = 60\n", "world.duration_min"),
        ("colour = 1\n", "colour"),
        ("seed = -1\n", "seed"),
        ('world = "big"\n', "world"),
        ("[engine]\nno_such_engine_key = 1\n", "engine.no_such_engine_key"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path, toml, names):
    p = tmp_path / "bad.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(UsageError) as exc:
        load_scenario(str(p))
    msg = str(exc.value)
    assert names in msg and "bad.toml" in msg and "\n" not in msg


def test_unknown_scenario_and_bad_files(tmp_path):
    with pytest.raises(UsageError, match="unknown scenario 'nope'.*tiny"):
        load_scenario("nope")
    with pytest.raises(UsageError, match="not found"):
        load_scenario(str(tmp_path / "missing.toml"))
    p = tmp_path / "broken.toml"
    p.write_text("[world\nn_videos = ", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_scenario(str(p))


def test_engine_table_reaches_the_world(tmp_path):
    from fyp_tui.engine.params import EngineParams

    key = next(
        k for k, v in EngineParams().to_dict().items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    value = EngineParams().to_dict()[key]
    p = tmp_path / "eng.toml"
    p.write_text(f"[world]\nn_videos = 20\nn_creators = 5\nn_viewers = 50\nn_sounds = 5\n[engine]\n{key} = {value!r}\n")
    sc = load_scenario(str(p))
    w = build_world(sc, 1)
    assert w.extra["engine"] == {key: value}


def test_a_scenario_implying_a_flood_of_uploads_is_refused():
    from fyp_tui.errors import UsageError
    from fyp_tui.seeding.scenario import validate_world

    with pytest.raises(UsageError, match=r"world\.upload_pace .* uploads per simulated hour"):
        validate_world({"n_videos": 20_000, "history_days": 0.01, "upload_pace": 1000})
    # the built-in large world stays well inside the limit
    validate_world({"n_videos": 200_000, "history_days": 7.0, "upload_pace": 1.0})


# -- every listed country seeds (issue 13: `countries = ["RU"]` always failed) ---------------
SMALL = {
    "n_videos": 20,
    "n_viewers": 20,
    "n_creators": 5,
    "n_sounds": 5,
    "vocab_size": 10,
    "n_topics": 3,
    "hashtags_per_topic": 1,
}


@pytest.mark.parametrize("country", sorted(COUNTRIES))
@pytest.mark.parametrize("english_share", [0.0, 0.5])
def test_every_listed_country_builds_a_world(country, english_share):
    sc = parse_scenario({"world": {**SMALL, "countries": [country], "english_share": english_share}})
    world = build_world(sc, 3)
    assert world.country_codes == [country]
    assert COUNTRIES[country][0] in world.language_codes
    assert len(world.creator_handles) == 5 and all(world.creator_handles)
    # the 20 seeded videos and what the warm-up's creators uploaded, each captioned
    assert len(world.video_captions) == world.n_videos >= 20 and all(world.video_captions)


def test_a_world_of_every_listed_country_seeds_and_reads_back(run_cli, tmp_path):
    countries = ", ".join(f'"{c}"' for c in COUNTRIES)
    sc = tmp_path / "everywhere.toml"
    sc.write_text(
        "[world]\n"
        + "".join(f"{k} = {v}\n" for k, v in {**SMALL, "n_viewers": 200}.items())
        + f"countries = [{countries}]\n"
    )
    db = tmp_path / "w.db"
    code, _, err = run_cli("seed", "-q", "--scenario", str(sc), "--db", str(db))
    assert code == 0, err
    code, out, err = run_cli("info", "--json", "--db", str(db))
    assert code == 0, err
    assert json.loads(out)["countries"] == list(COUNTRIES)
