"""A class host on PostgreSQL (issue 16), against a real server (``.ci/run`` starts one and
sets ``FYP_TUI_TEST_PG``; without it these are skipped, saying why): two people, a and b,
appear in ``host status --json`` with their cards and reactions, and after SIGKILL of the
host both people's likes, and a's post, are in the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from processes import start_host

from fyp_tui.host.client import HostClient

PG = os.environ.get("FYP_TUI_TEST_PG")
REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not PG, reason="no PostgreSQL server: .ci/run starts one and sets FYP_TUI_TEST_PG")


@pytest.fixture
def pg_db():
    """A fresh database on the test server; dropped afterwards."""
    import psycopg

    assert PG is not None
    base = PG.replace("postgresql+psycopg://", "postgresql://")
    name = f"fyp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield PG.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_two_people_on_a_postgres_host_and_their_likes_after_kill_9(run_cli, pg_db):
    code, _, err = run_cli("seed", "-q", "--scenario", "tiny", "--seed", "5", "--db", pg_db)
    assert code == 0, err
    proc, url = start_host(pg_db, 1)
    liked: set[tuple[str, int]] = set()
    try:
        people = {name: HostClient(url) for name in ("a", "b")}
        for name, c in people.items():
            await c.connect(profile=name)
            card = await c.call("begin")
            for _ in range(3):
                await c.call("react", video=card.video, kind="like")
                liked.add((name, card.video))
                card, _items = await c.call("next", leaving=[card.video, 1.0, 0])
        # a post (protocol version 2), with a hashtag new to the world: acknowledged, so kept
        posted = await people["a"].call(
            "post", caption="posted on postgres", hashtags=["comedy", "pgnewtag"], duration=20, sound=0
        )
        assert posted["creator"] == "a" and posted["tier"] == 0
        status = subprocess.run(
            [sys.executable, "-m", "fyp_tui", "host", "status", "--connect", url, "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        got = json.loads(status.stdout)
        assert set(got) >= {"clock", "live_videos", "people"}
        rows = {p["profile"]: p for p in got["people"]}
        assert set(rows) == {"a", "b"}
        for p in rows.values():
            assert set(p) == {"profile", "connected", "cards", "reactions", "tips"}
            assert p["connected"] and p["cards"] == 4 and p["reactions"] == 3
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for c in people.values():
            await c.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    import psycopg

    with psycopg.connect(pg_db.replace("postgresql+psycopg://", "postgresql://")) as con:
        saved = set(
            con.execute(
                "SELECT p.name, i.video_id FROM interaction i JOIN profile p ON p.id = i.profile_id WHERE i.kind = 'like'"
            ).fetchall()
        )
        post = con.execute(
            "SELECT v.caption, c.handle FROM video v JOIN creator c ON c.id = v.creator_id WHERE v.id = %s",
            (posted["video_id"],),
        ).fetchall()
        new_tag = con.execute("SELECT count(*) FROM hashtag WHERE name = 'pgnewtag'").fetchone()
    assert len(liked) == 6 and liked <= saved
    assert post == [("posted on postgres", "a")] and new_tag == (1,)
