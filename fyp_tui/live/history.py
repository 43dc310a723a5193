"""What the session remembers about videos for the charts: views over time, tier decisions.

A few videos are tracked (the person's own, and the last cards shown): their view
count is sampled at each tick, for the "views over time" chart. Tier decisions
made while the session runs are kept per video; those made before it are read from
the store once per video. The decisions credited to the person (their signals
flipped them) are also kept in order, for ``fyp-tui play``'s tips.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import TYPE_CHECKING

from fyp_tui.engine.events import TIER_EVENTS, Event, Promoted, Stalled
from fyp_tui.engine.world import Signal
from fyp_tui.live.ladder import budget, step_of
from fyp_tui.live.views import TierStep

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: Samples kept per video for the "views over time" chart.
SERIES_MAX = 120
#: Tier decisions kept per video (this session).
TIER_LOG_MAX = 20
#: Videos tracked at most before the oldest (not the person's own) are dropped.
TRACKED_MAX = 64
#: Videos whose decisions this session (and saved rows) are kept in memory, the
#: most recently decided or asked about; the rest are read back from the store
#: (memory stays bounded however long and fast the world runs).
VIDEOS_KEPT = 4096


class VideoHistory:
    """View series and tier decisions of the videos the person has met."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self.tracked: dict[int, deque[tuple[float, int]]] = {}
        self.tier_log: OrderedDict[int, list[Event]] = OrderedDict()
        #: decisions credited to the person this session, in order (a handful per hundred cards)
        self.credited: list[Promoted | Stalled] = []
        self._db_tier_rows: OrderedDict[int, list[TierStep]] = OrderedDict()
        #: a byte per video, 1 if its log was dropped: its saved rows are read up to now, not
        #: to the start (a byte, not a set of Python ints: 60 bytes each, and a long run at
        #: the fastest pace drops the logs of a hundred thousand videos)
        self._dropped = bytearray()

    def track(self, video: int) -> None:
        """Sample ``video``'s views from now on (caller holds the lock or is the opener)."""
        world = self.live.world
        if video not in self.tracked:
            self.tracked[video] = deque(maxlen=SERIES_MAX)
            self.tracked[video].append((float(world.clock), int(world.video_counts[video, Signal.VIEW])))
        # keep the set small: own videos + the few most recent cards
        if len(self.tracked) > TRACKED_MAX:
            mine = world.video_profile
            for v in list(self.tracked)[:16]:
                if int(mine[v]) != self.live.profile_id and v != video:
                    del self.tracked[v]

    def sample(self) -> None:
        """One sample of every tracked video's views at the current clock."""
        w = self.live.world
        now = float(w.clock)
        for v, series in self.tracked.items():
            if series and series[-1][0] == now:
                continue
            series.append((now, int(w.video_counts[v, Signal.VIEW])))

    def series(self, video: int) -> deque[tuple[float, int]] | None:
        """(simulated hours, views) samples of ``video``, if it is tracked."""
        return self.tracked.get(video)

    def log_tiers(self, events: list[Event]) -> None:
        """Keep the tier decisions among ``events`` (and those credited to the person)."""
        profile_id = self.live.profile_id
        for e in events:
            if isinstance(e, TIER_EVENTS):
                log = self.tier_log.get(e.video)
                if log is None:
                    log = self.tier_log[e.video] = []
                    if len(self.tier_log) > VIDEOS_KEPT:
                        old, _ = self.tier_log.popitem(last=False)
                        self._mark_dropped(old)
                        self._db_tier_rows.pop(old, None)
                else:
                    self.tier_log.move_to_end(e.video)
                log.append(e)
                if len(log) > TIER_LOG_MAX:
                    del log[0]
                if isinstance(e, (Promoted, Stalled)) and e.tipped_by is not None and e.profile == profile_id:
                    self.credited.append(e)

    def _mark_dropped(self, video: int) -> None:
        if video >= len(self._dropped):  # (grown in place: a class's people share it)
            self._dropped.extend(bytes(max(video + 1 - len(self._dropped), len(self._dropped) // 2)))
        self._dropped[video] = 1

    def was_dropped(self, video: int) -> bool:
        """Whether ``video``'s decisions of this session were dropped from memory (read back from the store)."""
        return 0 <= video < len(self._dropped) and self._dropped[video] == 1

    def past_steps(self, video: int) -> list[TierStep]:
        """Every tier decision about ``video``: saved ones first, then this session's."""
        steps = list(self._db_steps(video))
        for e in self.tier_log.get(video, []):
            steps.append(step_of(self.live.params, e, self.live.profile_id))
        return steps

    def _db_steps(self, video: int) -> list[TierStep]:
        """Tier decisions saved before this session (read once per video); a row's
        ``tipped_by`` counts as the person's only when the row is their profile's."""
        got = self._db_tier_rows.get(video)
        if got is not None:
            self._db_tier_rows.move_to_end(video)
            return got
        live = self.live
        steps: list[TierStep] = []
        # a video whose session log was dropped: every saved row (the log's were checkpointed)
        until = float("inf") if self.was_dropped(video) and video not in self.tier_log else live.start_clock
        try:
            rows = live.store.tier_history(video, until, with_profile=True)
            for from_tier, to_tier, reason, impressions, score, bar, sim_time, tipped_by, instead, who in rows:
                # a decision another profile tipped (a classroom's world) is not this person's
                if who is None or int(who) != live.profile_id:
                    tipped_by = instead = None
                outcome = (
                    "promoted"
                    if to_tier is not None and reason == "promoted"
                    else (f"stalled: {reason}" if to_tier is None else reason)
                )
                steps.append(
                    TierStep(
                        from_tier,
                        outcome,
                        impressions,
                        budget(live.params, from_tier),
                        score,
                        bar,
                        sim_time,
                        tipped_by,
                        instead,
                    )
                )
        except Exception as exc:
            steps = []  # the panel is informative; a read failure must not break the feed
            live.damage(exc)  # (but a damaged world file is noted: the shells stop on it)
        self._db_tier_rows[video] = steps
        while len(self._db_tier_rows) > VIDEOS_KEPT:
            self._db_tier_rows.popitem(last=False)
        return steps
