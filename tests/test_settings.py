"""Settings that persist (issue 14): the config file, its keymap, the app writing a
changed theme or pace back, a bad file falling back to the defaults, ``fyp-tui config``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pilot import FakeClock, drain, open_feed, until

from fyp_tui.settings import (
    DEFAULT_PACE,
    DEFAULT_THEME,
    Settings,
    SettingsError,
    SettingsWriter,
    load_settings,
    settings_path,
    updated_text,
    write_settings,
)
from fyp_tui.tui import make_app

SIZE = (100, 32)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


# -- the file --------------------------------------------------------------------------
def test_defaults_agree_with_the_app():
    from fyp_tui.live.clock import DEFAULT_PACE as CLOCK_PACE
    from fyp_tui.tui.app import DARK

    assert DEFAULT_PACE == CLOCK_PACE
    assert DEFAULT_THEME == DARK


def test_no_file_means_the_defaults(tmp_path):
    assert load_settings(tmp_path / "missing.toml") == Settings()


def test_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FYP_TUI_CONFIG", str(tmp_path / "mine.toml"))
    assert settings_path() == tmp_path / "mine.toml"
    monkeypatch.delenv("FYP_TUI_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert settings_path() == tmp_path / "xdg" / "fyp-tui" / "config.toml"


def test_a_full_file_is_read(tmp_path):
    path = _config(
        tmp_path,
        'theme = "nord"\npace = 30\nanimation = false\n[knob]\ndefault = 0.6\nstep = 0.05\n'
        '[keymap]\n"feed.like" = "h"\n"feed.next" = "j, down"\n',
    )
    s = load_settings(path, themes={"nord", "textual-dark"}, binding_ids={"feed.like", "feed.next"})
    assert s == Settings(
        theme="nord",
        pace=30.0,
        animation=False,
        knob=0.6,
        knob_step=0.05,
        keymap={"feed.like": "h", "feed.next": "j,down"},
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("pace = [\n", "not valid TOML"),
        ("colour = 'red'\n", "colour: unknown setting"),
        ("pace = 0\n", "pace: 0 is out of range"),
        ("pace = 'fast'\n", "pace: must be a number"),
        ("pace = true\n", "pace: must be a number"),
        ("animation = 1\n", "animation: must be true or false"),
        ("theme = 'no-such-theme'\n", "theme: no theme called 'no-such-theme'"),
        ("[knob]\ndefault = 1.5\n", "knob.default: 1.5 is out of range"),
        ("[knob]\nturn = 1\n", "knob.turn: unknown setting"),
        ("knob = 0.5\n", "knob: must be a table"),
        ('[keymap]\n"feed.lik" = "h"\n', "keymap.feed.lik: no binding with this id"),
        ('[keymap]\nfeed.like = "h"\n', 'keymap.feed: quote the binding id: "feed.like"'),
        ('[keymap]\n"feed.like" = ""\n', "keymap.feed.like: must be a string of keys"),
        ('[keymap]\n"feed.like" = "ctrl + h"\n', "keymap.feed.like: 'ctrl + h' is not a comma-separated list"),
        ('[keymap]\n"feed.like" = 3\n', "keymap.feed.like: must be a string of keys"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_key(tmp_path, text, key):
    path = _config(tmp_path, text)
    with pytest.raises(SettingsError) as err:
        load_settings(path, themes={"textual-dark"}, binding_ids={"feed.like"})
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"config {path}: ")
    assert key in message
    assert err.value.exit_code == 2


def test_a_file_that_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(SettingsError, match="is a directory"):
        load_settings(tmp_path / "dir.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe theme")
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings(tmp_path / "bin.toml")


def test_write_back_keeps_comments_and_other_keys(tmp_path):
    text = '# my settings\ntheme = "nord"  # cold\n\n[keymap]\n# likes on h\n"feed.like" = "h"\n'
    new = updated_text(text, {"theme": "textual-light", "pace": 60.0})
    assert "# my settings" in new and "# likes on h" in new
    data = tomllib.loads(new)
    assert data == {"theme": "textual-light", "pace": 60.0, "keymap": {"feed.like": "h"}}
    # the new key went above the table, not into it
    assert new.index("pace = 60.0") < new.index("[keymap]")


def test_write_settings_is_atomic_and_makes_the_file(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    write_settings(path, {"pace": 20.0})
    assert load_settings(path).pace == 20.0
    write_settings(path, {"theme": "textual-light"})
    s = load_settings(path)
    assert (s.pace, s.theme) == (20.0, "textual-light")
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_write_settings_follows_a_symlink(tmp_path):
    real = _config(tmp_path, "pace = 5.0\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    write_settings(link, {"pace": 60.0})
    assert link.is_symlink()
    assert load_settings(real).pace == 60.0


def test_write_settings_leaves_a_bad_file_alone(tmp_path):
    path = _config(tmp_path, "pace = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        write_settings(path, {"pace": 20.0})
    assert path.read_text() == "pace = [\n"


def test_the_writer_ends_with_the_last_value(tmp_path):
    path = tmp_path / "config.toml"
    writer = SettingsWriter(path)
    for pace in (1.0, 2.0, 5.0, 10.0, 20.0, 30.0):
        writer.save(pace=pace)
    writer.save(theme="textual-light")
    writer.flush()
    assert writer.error is None
    s = load_settings(path)
    assert (s.pace, s.theme) == (30.0, "textual-light")


# -- the app ---------------------------------------------------------------------------
@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_keymap_moving_feed_like_to_h_makes_h_like(tiny_db, tmp_path, clock):
    path = _config(tmp_path, '[keymap]\n"feed.like" = "h"\n')
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    assert app.settings_note is None
    async with app.run_test(size=SIZE) as pilot:
        feed = await open_feed(pilot)
        assert feed.card is not None and not feed.card.liked
        await pilot.press("l")  # l is no longer like
        await drain(pilot)
        assert not feed.card.liked
        await pilot.press("h")
        await drain(pilot)
        await until(pilot, lambda: feed.card is not None and feed.card.liked, "h to like the card")
        # help shows the moved key
        rows = {what: keys for keys, what, _ in app.help_rows()}
        assert rows[next(w for w in rows if w.startswith("Like or unlike"))] == "h"


async def test_the_app_writes_a_changed_theme_and_pace_back(tiny_db, tmp_path, clock):
    path = _config(tmp_path, '# mine\npace = 5.0\n[keymap]\n"feed.like" = "h"\n')
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    async with app.run_test(size=SIZE) as pilot:
        await open_feed(pilot)
        assert app.pace == 5.0
        await pilot.press("plus", "plus")
        await pilot.press("t")
        await pilot.pause()
    assert app.settings_writer is not None
    app.settings_writer.flush()
    assert app.settings_writer.error is None
    s = load_settings(path)
    assert (s.pace, s.theme) == (app.pace, "textual-light")
    assert app.pace == 20.0
    assert s.keymap == {"feed.like": "h"}
    assert path.read_text().startswith("# mine\n")
    # and the next app starts where this one left off
    again = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    assert (again.pace, again.theme) == (20.0, "textual-light")
    again.live.close()


async def test_a_bad_config_file_gets_one_line_and_the_defaults(tiny_db, tmp_path, clock):
    path = _config(tmp_path, 'pace = 30.0\n[keymap]\n"feed.lik" = "h"\n')
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    assert app.settings_note is not None and "keymap.feed.lik" in app.settings_note
    assert "using the defaults" in app.settings_note
    assert app.pace == DEFAULT_PACE  # not the file's 30: the whole file is set aside
    async with app.run_test(size=SIZE) as pilot:
        feed = await open_feed(pilot)
        await pilot.press("plus")  # a change is not written over the bad file
        await pilot.press("l")
        await drain(pilot)
        assert feed.card is not None and feed.card.liked  # the default keys work
    assert app.settings_writer is None
    assert path.read_text() == 'pace = 30.0\n[keymap]\n"feed.lik" = "h"\n'


async def test_animation_off_draws_no_frames_and_the_knob_default_starts_a_new_profile(tiny_db, tmp_path):
    clock = FakeClock()
    path = _config(tmp_path, "animation = false\n[knob]\ndefault = 0.7\nstep = 0.2\n")
    app = make_app(tiny_db, "newcomer", clock=clock, seed=11, config=path)  # not frozen: timers run
    async with app.run_test(size=SIZE) as pilot:
        feed = await open_feed(pilot)
        assert feed._anim is not None and not feed._anim._active.is_set()  # the animation timer waits
        data = app.live.profile.data()
        assert data.knob == pytest.approx(0.7)
        await pilot.press("2")
        await until(pilot, lambda: app.screen.MODE == "profile" and app.screen.data is not None, "profile")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: abs(app.live.profile.data().knob - 0.9) < 1e-6, "the knob turned by 0.2")
        app.animation = True
        await pilot.press("1")
        await until(pilot, lambda: feed._anim._active.is_set(), "the animation to run")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "quit", timeout=30)
    assert app.settings_writer is not None
    app.settings_writer.flush()
    assert load_settings(path).animation is True


# -- fyp-tui config ----------------------------------------------------------------------
def test_config_path_and_show(run_cli, tmp_path, monkeypatch):
    path = tmp_path / "c" / "config.toml"
    monkeypatch.setenv("FYP_TUI_CONFIG", str(path))
    code, out, err = run_cli("config", "path")
    assert (code, out.strip(), err) == (0, str(path), "")
    code, out, _ = run_cli("config", "show")
    assert code == 0
    assert "no file yet" in out and "feed.like" in out
    path.parent.mkdir()
    path.write_text('theme = "nord"\n[keymap]\n"feed.like" = "h"\n')
    code, out, _ = run_cli("config", "show", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["exists"] and shown["settings"]["theme"] == "nord"
    assert shown["bindings"]["feed.like"] == "h" and shown["bindings"]["feed.next"] == "j,down"
    path.write_text('[keymap]\n"feed.lik" = "h"\n')
    code, out, err = run_cli("config", "show")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "keymap.feed.lik" in err


async def test_no_config_is_written_without_a_change(tiny_db, tmp_path, clock):
    path = tmp_path / "config.toml"
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    async with app.run_test(size=SIZE) as pilot:
        await open_feed(pilot)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "quit", timeout=30)
    assert app.settings_writer is not None
    app.settings_writer.flush()
    assert not path.exists() and app.settings_writer.writes == 0


def test_keymap_clashes_are_found_per_screen():
    from fyp_tui.tui.app import keymap_clashes

    assert keymap_clashes({"feed.like": "h"}) == []
    assert keymap_clashes({"feed.like": "r"}) == []  # r is the profile screen's, not the feed's
    assert keymap_clashes({"profile.refresh": "q"}) == [
        "keymap: q is profile.refresh's and app.quit's key on the profile screen (profile.refresh wins)"
    ]
    # moving both keys of a swap clashes with nothing
    assert keymap_clashes({"feed.like": "s", "feed.share": "l"}) == []


async def test_a_keymap_clash_is_said(tiny_db, tmp_path, clock):
    path = _config(tmp_path, '[keymap]\n"feed.like" = "j"\n')  # j is also feed.next's
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11, config=path)
    async with app.run_test(size=SIZE) as pilot:
        feed = await open_feed(pilot)
        first = feed.card
        await pilot.press("j")
        await drain(pilot)
        clashes = [n.message for n in app._notifications if n.title == "Keymap clash"]
        assert clashes == ["keymap: j is feed.like's and feed.next's key on the feed screen (feed.like wins)"]
        assert feed.card is not None and first is not None
        assert feed.card.video == first.video and feed.card.liked  # the keymap's binding won: a like, no swipe
