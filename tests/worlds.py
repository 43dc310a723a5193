"""Worlds and situations several test modules build the same way."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing, contextmanager

#: a mid-size world: big enough for a feed session of a few hundred cards, built in a second or two
MID_WORLD = {
    "n_topics": 12,
    "n_creators": 400,
    "n_videos": 5000,
    "n_viewers": 8000,
    "n_sounds": 150,
    "hashtags_per_topic": 8,
    "countries": ["US", "DE", "BR"],
    "topic_skew": 0.3,
    "history_days": 2.0,
}


def rows(db: str, sql: str, *args) -> list[tuple]:
    """The rows ``sql`` (with ``?`` parameters ``args``) reads from the SQLite world file ``db``."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, args).fetchall()


class Mid(tuple):
    """``(world, params)`` with a short repr (pytest prints fixtures' values on failure)."""

    def __repr__(self) -> str:
        return "<mid world>"


def mid_world(hours: float, seed: int = 3) -> Mid:
    """The mid-size world, seeded with ``seed`` and run ``hours`` simulated hours."""
    from fyp_tui.engine import simulate
    from fyp_tui.engine.params import EngineParams
    from fyp_tui.seeding.generate import build_world
    from fyp_tui.seeding.scenario import parse_scenario

    world = build_world(parse_scenario({"world": MID_WORLD}, label="mid"), seed)
    params = EngineParams.from_world(world)
    simulate.run(world, params, seed, hours)
    return Mid((world, params))


@contextmanager
def world_held_elsewhere(db: str) -> Iterator[None]:
    """Another process holds ``db``'s world lock for the duration."""
    code = textwrap.dedent("""
        import sys
        from fyp_tui.store.io import WorldStore
        s = WorldStore.open(sys.argv[1]); print("locked", flush=True); sys.stdin.read(); s.close()
    """)
    holder = subprocess.Popen(
        [sys.executable, "-c", code, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate("", timeout=30)


#: decisions credited to the person, by video: (their reaction, what the video would have done without it)
CREDITS = {3: ("share", "stalled"), 4: ("skip", "moved up"), 5: ("like", "waited")}


def credits_after_reopen(db: str) -> dict[int, list[tuple[str | None, str | None]]]:
    """Open ``db`` as "me", save the decisions of :data:`CREDITS` credited to me (videos 3
    and 4 by a checkpoint, video 5 by the journal, as a reaction's own decision), close,
    reopen: ``{video: [(tipped_by, instead), ...]}`` of the saved decisions the panel shows."""
    from fyp_tui.engine.events import Promoted, Stalled
    from fyp_tui.live.session import LiveSession

    live = LiveSession(db, "me", seed=1)
    try:
        live.open()
        pid, now = live.profile_id, float(live.world.clock)
        (by3, instead3), (by4, instead4), (by5, instead5) = CREDITS[3], CREDITS[4], CREDITS[5]
        live.checkpoints.pending += [
            Promoted(now, 3, 0, 1, 0.5, 0.4, 100, 1000, tipped_by=by3, profile=pid, instead=instead3),
            Stalled(now, 4, 0, 0.1, 0.4, 90, "below bar", tipped_by=by4, profile=pid, instead=instead4),
        ]
        live.checkpoints.final_save()
        journaled = Promoted(now, 5, 0, 1, 0.5, 0.4, 100, 1000, tipped_by=by5, profile=pid, instead=instead5)
        person = live.feed_session.person.to_dict(seen=False)
        live.journal.record(pid, by5, 5, 1.0, 0, now, person, [journaled])
    finally:
        live.close()
    again = LiveSession(db, "me", seed=1)
    try:
        again.open()
        return {v: [(s.tipped_by, s.instead) for s in again.history.past_steps(v)] for v in CREDITS}
    finally:
        again.close()


def damage_pages(db: str, *tables: str) -> int:
    """Overwrite every page of ``tables`` and their indexes (their b-trees, as SQLite's
    ``dbstat`` lists them) in the world file at ``db`` with garbage, as a failing disk would, while a
    session may hold it open. The write-ahead log is checkpointed into the file first,
    so no newer copy of those pages hides the damage. Returns the pages damaged."""
    import sqlite3

    con = sqlite3.connect(db, timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        size = int(con.execute("PRAGMA page_size").fetchone()[0])
        marks = ",".join("?" * len(tables))
        names = [n for (n,) in con.execute(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({marks})", tables)]
        marks = ",".join("?" * len(names))
        pages = [int(p) for (p,) in con.execute(f"SELECT pageno FROM dbstat WHERE name IN ({marks})", names)]
    finally:
        con.close()
    with open(db, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * size)
            f.write(bytes([0xA5, 0x17, 0xFF, 0x00]) * (size // 4))
        f.flush()
    return len(pages)
