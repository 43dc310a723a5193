"""The quit summary and ``fyp-tui report`` (issue 14, item 3): the session log observes
the session, the summary says what it saw, the report draws it (text, json, html), and
the html opens in headless Chromium with its charts drawn and nothing fetched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import chromium_page, needs_chromium
from pilot import FakeClock, drain, open_feed, until

from fyp_tui.cli.report import summary_lines
from fyp_tui.tui import make_app

SIZE = (100, 32)


def _session(db: str, name: str, cards: int = 12, keep: dict | None = None) -> dict:
    """``name`` watches ``cards`` cards headless (10 s each, a like on every third), the
    world runs an hour between cards; the log is saved as the app saves it. Its data."""
    from fyp_tui.live.session import LiveSession

    live = LiveSession(db, name, seed=5)
    try:
        live.open()
        live.profile.onboard([0])
        card = live.feed.begin()
        for i in range(cards):
            assert card is not None
            if i % 3 == 0:
                live.feed.react(card.video, "like")
            card, _ = live.feed.forward((card.video, 10.0, 0))
            live.clock.advance(1.0)
        live.checkpoints.final_save()
    finally:
        live.close()
    assert live.log.save() is not None
    if keep is not None:
        keep["live"] = live
    return live.log.data()


def test_the_log_observes_the_session(tiny_db):
    keep: dict = {}
    data = _session(tiny_db, "ann", cards=12, keep=keep)
    assert data["cards_watched"] == 12 and len(data["cards"]) == 12
    assert data["watch_seconds"] == pytest.approx(120.0)
    assert [c["card"] for c in data["cards"]] == list(range(1, 13))
    assert data["clock_end"] == pytest.approx(data["clock_start"] + 12.0, abs=0.01)
    assert data["meter_start"] is None  # a new profile: nothing to measure at the start
    # the meter at the end reads the cards shown, not the next one preloaded (issue 12's
    # summary): the last card's sample, and the person's meter over the cards shown
    assert data["meter_end"] == data["cards"][-1]["diversity"]
    assert 0.0 <= data["cards"][-1]["diversity"] <= 1.0
    # what the feed learned moved, and the log's last sample holds it
    assert data["interests_end"] != data["interests_start"]
    assert data["cards"][-1]["interests"] == data["interests_end"]
    json.dumps(data, allow_nan=False)  # plain data
    # every found-early video was among the cards watched
    watched = {c["video"] for c in data["cards"]}
    assert {f["video"] for f in data["found_early"]} <= watched


def test_summary_lines_say_what_happened():
    data = {
        "profile": "ann",
        "cards_watched": 42,
        "cards_finished": 30,
        "watch_seconds": 372.0,
        "clock_start": 24.0,
        "clock_end": 30.5,
        "topics": ["cooking", "travel", "gaming"],
        "interests_start": [0.5, 0.0, 0.4],
        "interests_end": [0.8, 0.5, -0.2],
        "meter_start": 0.71,
        "meter_end": 0.3,
        "knob": 0.3,
        "decisions": [
            {
                "outcome": "promoted",
                "tipped_by": "like",
                "handle": "chef",
                "caption": "pasta",
                "tier": 1,
                "to_tier": 2,
            }
        ],
    }
    text = "\n".join(summary_lines(data))
    assert "ann watched 42 cards (30 to the end) in 6 min 12 s" in text
    assert "day 2 00:00 → day 2 06:30" in text
    assert "cooking +0.80 (+0.30), travel +0.50 (+0.50)" in text and "gaming" not in text
    assert "71% varied → 30% echo chamber" in text
    assert "1 decision:" in text and "your like pushed @chef “pasta” into tier 2" in text
    assert "fyp-tui report --profile ann" in text


async def test_quitting_the_app_prints_the_summary_and_keeps_the_log(tiny_db, capsys, run_cli):
    from fyp_tui.cli.app import quit_summary

    clock = FakeClock()
    app = make_app(tiny_db, "tester", frozen=True, clock=clock, seed=11)
    async with app.run_test(size=SIZE) as pilot:
        feed = await open_feed(pilot, topics=True)
        for _ in range(4):
            clock.advance(7.0)  # 7 s on each card
            await pilot.press("j")
            await drain(pilot)
        clock.advance(3.0)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to quit", timeout=30)
    assert feed.card is not None
    quit_summary(app.live)
    out = capsys.readouterr().out
    assert "tester watched 5 cards (0 to the end) in 31 s" in out  # the card on screen at q counts too
    assert "echo chamber" in out and "you tipped" in out
    # the same session, from the saved log
    code, text, err = run_cli("report", "--db", tiny_db, "--profile", "tester")
    assert code == 0, err
    assert "tester watched 5 cards" in text and "interest drift" in text
    code, raw, _ = run_cli("--db", tiny_db, "--profile", "tester", "report", "--format", "json")
    data = json.loads(raw)
    assert data["kind"] == "fyp-tui session" and data["cards_watched"] == 5
    assert [c["seconds"] for c in data["cards"]] == [7.0, 7.0, 7.0, 7.0, 3.0]


def test_report_without_a_session_is_one_line(run_cli, tiny_db):
    code, out, err = run_cli("report", "--db", tiny_db, "--profile", "nobody")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no session of profile 'nobody'" in err


def test_report_of_a_damaged_log_is_one_line(run_cli, tiny_db):
    from fyp_tui.live.summary import log_path
    from fyp_tui.store.db import resolve_url

    path = log_path(resolve_url(tiny_db), "ann")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    code, _, err = run_cli("report", "--db", tiny_db, "--profile", "ann")
    assert code == 1 and err.count("\n") == 1 and "cannot be read" in err


def test_the_html_report_escapes_world_strings(tiny_db, run_cli, tmp_path):
    name = "<script>alert(1)</script>"
    _session(tiny_db, name, cards=4)
    out = tmp_path / "r.html"
    code, _, err = run_cli("report", "--db", tiny_db, "--profile", name, "--format", "html", "-o", str(out))
    assert code == 0, err
    page = out.read_text()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


@needs_chromium
def test_the_html_report_opens_in_chromium_with_its_charts_drawn(tiny_db, run_cli, tmp_path):
    data = _session(tiny_db, "ann", cards=15)
    out = tmp_path / "report.html"
    code, _, err = run_cli("report", "--db", tiny_db, "--profile", "ann", "--format", "html", "-o", str(out))
    assert code == 0, err
    requested: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda r: requested.append(r.url))
        page.goto(Path(out).as_uri())
        assert page.title() == "fyp-tui session report: ann"
        charts = page.eval_on_selector_all(
            "svg.chart",
            """svgs => svgs.map(s => {
                const box = s.getBoundingClientRect();
                const lines = [...s.querySelectorAll('polyline')].map(p => p.points.numberOfItems);
                const bars = [...s.querySelectorAll('rect.now')].map(r => r.getBBox().width);
                return {id: s.id, width: box.width, height: box.height, lines, bars};
            })""",
        )
    assert requested == [Path(out).as_uri()]  # the page and nothing else
    assert len(charts) >= 2
    by_id = {c["id"]: c for c in charts}
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 50, chart
    # the drift chart: a line per topic that moved, through every card and the start and end
    assert by_id["chart-drift"]["lines"] and all(n == 15 + 2 for n in by_id["chart-drift"]["lines"])
    assert by_id["chart-meter"]["lines"] == [15]  # a new profile: the meter starts at its first card
    if data["found_early"]:
        assert len(by_id["chart-found"]["bars"]) == min(len(data["found_early"]), 12)
        assert all(w > 0 for w in by_id["chart-found"]["bars"])


async def test_a_checkpoint_keeps_the_session_log(tiny_db):
    from fyp_tui.live.summary import log_path, read_log

    clock = FakeClock()
    app = make_app(tiny_db, "keeper", frozen=True, clock=clock, seed=11)
    async with app.run_test(size=SIZE) as pilot:
        await open_feed(pilot)
        for _ in range(3):
            clock.advance(5.0)
            await pilot.press("j")
            await drain(pilot)
        app.checkpoint()
        path = log_path(app.live.url or "", "keeper")
        await until(pilot, lambda: path.exists(), "the log with the checkpoint")
        saved = read_log(path)
        assert saved is not None and saved["cards_watched"] == 3
