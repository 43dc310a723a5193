"""The session log: an observer of one person's session, for the quit summary and
``fyp-tui report``.

:class:`SessionLog` is fed by the live layer as the session runs and never changes
the world: :meth:`~SessionLog.start` when the world opens (the person as they came
in), :meth:`~SessionLog.note_card` each time a card is left (watch time, the topic,
the echo-chamber meter and the learned interests after it),
:meth:`~SessionLog.note_events` with every event the session hears (the tier
decisions the person tipped). :meth:`~SessionLog.data` turns it into plain JSON-safe
data, the one form the quit summary, the saved log and the report read.

The log of a person's last session on a world is kept in the data directory
(:func:`log_path`; a file per world and profile, written atomically when the app
ends), so ``fyp-tui report`` can draw it later. Nothing here imports Textual.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui import fmt
from fyp_tui.engine.events import Event, Promoted, Stalled
from fyp_tui.engine.world import Signal

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: cards kept with their interests; past this, every other sample is dropped (the
#: totals still count every card)
MAX_SAMPLES = 4000
#: found-early videos and tipped decisions kept
MAX_ITEMS = 200
#: the meter's words, as the Profile screen shows them
VARIED, NARROWING = 0.6, 0.35


def meter_verdict(diversity: float) -> str:
    """``echo chamber``, ``narrowing`` or ``varied`` for a topic diversity in 0..1."""
    if diversity < NARROWING:
        return "echo chamber"
    if diversity < VARIED:
        return "narrowing"
    return "varied"


def log_path(url: str, profile: str) -> Path:
    """Where the last session of ``profile`` on the world at ``url`` is kept."""
    from fyp_tui.config import data_dir

    key = hashlib.sha256(f"{url}\0{profile}".encode()).hexdigest()[:20]
    return data_dir() / "sessions" / f"{key}.json"


def read_log(path: Path) -> dict[str, Any] | None:
    """A saved session log, or None if there is none (ValueError if it is damaged)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("kind") != "fyp-tui session" or not isinstance(data.get("cards"), list):
        raise ValueError("not a fyp-tui session log")
    return data


class SessionLog:
    """Observes one person's session (see the module doc)."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self.started = False
        self.started_at = ""
        self._t0 = 0.0
        self.clock0 = 0.0
        self.interests0: list[float] = []
        self.diversity0: float | None = None
        self.found_before: set[int] = set()
        self.cards: list[dict[str, Any]] = []
        self.n_cards = 0
        self.watch_seconds = 0.0
        self.finished = 0
        self.stride = 1  # a sample kept every `stride` cards (grows when MAX_SAMPLES is reached)
        self.found: dict[int, dict[str, Any]] = {}
        self.decisions: list[dict[str, Any]] = []

    # -- fed by the live layer ---------------------------------------------------------
    def start(self) -> None:
        """The person as they came in (caller holds the world lock)."""
        live = self.live
        person = live.feed_session.person
        self.started = True
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        self.clock0 = float(live.world.clock)
        self.interests0 = _rounded(person.interests)
        # the meter measures the last videos seen: none yet, no reading
        self.diversity0 = float(live.profile.diversity()) if len(person.history) >= 2 else None
        self.found_before = set(person.found_early)

    def note_card(self, video: int, seconds: float, loops: int) -> None:
        """A card was left after ``seconds`` (caller holds the world lock, after the
        feed session recorded the watch)."""
        if not self.started:
            return
        live = self.live
        w, person = live.world, live.feed_session.person
        self.n_cards += 1
        self.watch_seconds += float(seconds)
        done = loops > 0 or seconds >= 0.98 * float(w.video_duration[video])
        self.finished += int(done)
        if (self.n_cards - 1) % self.stride == 0:
            self.cards.append(
                {
                    "card": self.n_cards,
                    "clock": round(float(w.clock), 4),
                    "video": int(video),
                    "topic": int(w.video_topics[video][0]),
                    "seconds": round(float(seconds), 2),
                    "finished": bool(done),
                    "diversity": round(float(live.profile.diversity()), 4),
                    "interests": _rounded(person.interests),
                }
            )
            if len(self.cards) > MAX_SAMPLES:
                self.cards = self.cards[::2]
                self.stride *= 2
        if video in self.found or video in self.found_before or len(self.found) >= MAX_ITEMS:
            return
        if int(video) in person.found_early[-3:]:  # among its first viewers, this session
            self.found[int(video)] = {
                "video": int(video),
                "clock": float(w.clock),
                "tier": int(w.video_tier[video]),
                "views": int(w.video_counts[video, Signal.VIEW]),
            }

    def note_events(self, events: list[Event]) -> None:
        """Every event the session hears: keeps the tier decisions the person tipped."""
        if not self.started:
            return
        pid = self.live.profile_id
        for e in events:
            if not isinstance(e, (Promoted, Stalled)) or e.tipped_by is None or e.profile != pid:
                continue
            if len(self.decisions) >= MAX_ITEMS:
                return
            promoted = isinstance(e, Promoted)
            self.decisions.append(
                {
                    "video": int(e.video),
                    "outcome": "promoted" if promoted else "stalled",
                    "tier": int(e.from_tier if isinstance(e, Promoted) else e.tier),
                    "to_tier": int(e.to_tier) if isinstance(e, Promoted) else None,
                    "tipped_by": str(e.tipped_by),
                    "instead": e.instead,
                    "clock": float(e.time),
                }
            )

    # -- read out -----------------------------------------------------------------------
    def data(self) -> dict[str, Any]:
        """The session as plain data (JSON-safe): what the quit summary and the report read."""
        live = self.live
        w = live.world
        with live.lock:
            person = live.feed_session.person
            interests = _rounded(person.interests)
            diversity = float(live.profile.diversity(shown_only=True))  # (not the preloaded next card)
            knob = float(person.knob)
            clock = float(w.clock)

            def video(v: int) -> dict[str, Any]:
                c = int(w.video_creator[v])
                return {
                    "handle": w.creator_handles[c],
                    "caption": fmt.short(w.video_captions[v], 60),
                    "tier_now": int(w.video_tier[v]),
                    "views_now": int(w.video_counts[v, Signal.VIEW]),
                }

            found = [{**f, **video(v)} for v, f in self.found.items()]
            decisions = [{**d, **video(d["video"])} for d in list(self.decisions)]
            cards = list(self.cards)
            n_cards, finished, watched, stride = self.n_cards, self.finished, self.watch_seconds, self.stride
        return {
            "kind": "fyp-tui session",
            "profile": live.profile_name,
            "world": {
                "where": live.store.where if live.store is not None else "",
                "scenario": w.scenario,
                "seed": int(w.seed),
            },
            "started_at": self.started_at,
            "real_seconds": round(time.monotonic() - self._t0, 1) if self.started else 0.0,
            "clock_start": self.clock0,
            "clock_end": clock,
            "topics": list(w.topic_names),
            "cards_watched": n_cards,
            "cards_finished": finished,
            "watch_seconds": round(watched, 1),
            "knob": knob,
            "interests_start": self.interests0,
            "interests_end": interests,
            "meter_start": None if self.diversity0 is None else round(self.diversity0, 4),
            "meter_end": round(diversity, 4),
            "sample_every": stride,
            "cards": cards,
            "found_early": found,
            "decisions": decisions,
        }

    def save(self, path: Path | None = None) -> Path | None:
        """Write the log (atomically) if the session watched a card; its path, or None."""
        if not self.started or not self.n_cards or self.live.url is None:
            return None
        path = path or log_path(self.live.url, self.live.profile_name)
        write_json(path, self.data())
        return path


def write_json(path: Path, data: object) -> None:
    """``data`` as JSON at ``path``, atomically, readable by its owner only (a viewing history)."""
    write_text(path, json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False), private=True)


def write_text(path: Path, text: str, *, private: bool = False) -> None:
    """``text`` at ``path`` atomically (a temp file in the same directory, fsync, rename);
    ``private``: readable by its owner only, else as the umask allows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _rounded(a: np.ndarray) -> list[float]:
    return [round(float(x), 4) if math.isfinite(float(x)) else 0.0 for x in a]
