"""A person as one viewer: what of theirs sits in each video's counters, and credit.

The person is counted exactly like one simulated viewer: one impression per
video, and on it at most one full watch, skip, like, share, favourite, comment,
follow and "not interested". :class:`Ledger` keeps, per video, the signals of the
person's that the counters hold (:class:`Counted`, one bit per
:class:`~fyp_tui.engine.world.Signal`) and the tier they were counted in. A
reaction becomes a change of those bits, and only the change is counted
(:meth:`Ledger.change`): a second share adds nothing, an unlike takes the like
back, a revisit is the same impression watched again.

Credit (:func:`credit_all`) is counterfactual: a decision is the person's exactly
when taking their signals out of the counts it was taken on flips it. The
engine's decision code asks it at the moment of each decision, with the very
counts the decision used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fyp_tui.engine.world import N_SIGNALS, Signal, World

#: what a signal is called when it tipped a decision, in the order credit tries them
SIGNAL_NAMES: dict[int, str] = {
    int(Signal.SHARE): "share",
    int(Signal.FOLLOW): "follow",
    int(Signal.COMMENT): "comment",
    int(Signal.FAVOURITE): "favourite",
    int(Signal.LIKE): "like",
    int(Signal.FULL_WATCH): "full watch",
    int(Signal.NOT_INTERESTED): "not interested",
    int(Signal.SKIP): "skip",
}

#: entries kept per person (the oldest go first: their videos have long moved on)
LEDGER_KEPT = 400


def bit(signal: int) -> int:
    return 1 << int(signal)


@dataclass(slots=True)
class Counted:
    """The person's one impression of a video, as its counters hold it."""

    tier: int  # the tier it was counted in
    entered: float  # that tier's start (``video_tier_entered``): the tier epoch
    flags: int = 0  # one bit per Signal held in the counters
    seconds: float = 0.0  # watch time, over every visit
    loops: int = 0
    visits: int = 0  # cards left (the first one decides full watch or skip)

    def vector(self) -> np.ndarray:
        return np.array([(self.flags >> s) & 1 for s in range(N_SIGNALS)], np.int64)


class Ledger:
    """One person's :class:`Counted` impressions, by video (see the module doc)."""

    def __init__(self, profile: int = -1, entries: dict[int, Counted] | None = None) -> None:
        self.profile = int(profile)
        self.entries: OrderedDict[int, Counted] = OrderedDict(entries or {})

    def get(self, video: int) -> Counted | None:
        return self.entries.get(int(video))

    def in_tier(self, world: World, video: int) -> Counted | None:
        """The entry, if it was counted in the tier ``video`` stands in now (same epoch)."""
        e = self.entries.get(int(video))
        if e is None or e.tier != int(world.video_tier[video]) or e.entered != float(world.video_tier_entered[video]):
            return None
        return e

    def change(
        self,
        world: World,
        video: int,
        *,
        on: int = 0,
        off: int = 0,
        seconds: float = 0.0,
        loops: int = 0,
        visit: bool = False,
    ) -> tuple[np.ndarray, bool]:
        """Set bits ``on`` and clear bits ``off`` of the person's impression of ``video``
        (opening it if this is the first signal: VIEW is always on).

        Returns ``(delta, in_tier)``: the counter change (-1, 0 or 1 per signal) and
        whether it goes into the current tier's counters (the impression was counted
        in this tier), or into lifetime counters only (the video has moved on since).
        """
        v = int(video)
        e = self.entries.get(v)
        if e is None:
            e = Counted(tier=int(world.video_tier[v]), entered=float(world.video_tier_entered[v]))
            self.entries[v] = e
            while len(self.entries) > LEDGER_KEPT:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(v)
        old = e.flags
        e.flags = ((old | on | bit(Signal.VIEW)) & ~off) | bit(Signal.VIEW)
        e.seconds += max(float(seconds), 0.0)
        e.loops += max(int(loops), 0)
        e.visits += int(visit)
        delta = np.array([((e.flags >> s) & 1) - ((old >> s) & 1) for s in range(N_SIGNALS)], np.int64)
        return delta, self.in_tier(world, v) is e

    def followed_on(self, world: World, creator: int, *, prefer: int) -> int | None:
        """The video whose impression holds the person's follow of ``creator`` (``prefer``
        first), if any is still in the ledger."""
        e = self.entries.get(int(prefer))
        if e is not None and e.flags & bit(Signal.FOLLOW):
            return int(prefer)
        for v, e in reversed(self.entries.items()):
            if e.flags & bit(Signal.FOLLOW) and int(world.video_creator[v]) == int(creator):
                return v
        return None

    # -- persistence --------------------------------------------------------------------
    def to_list(self) -> list[list]:
        return [
            [v, e.tier, e.entered, e.flags, round(e.seconds, 3), e.loops, e.visits] for v, e in self.entries.items()
        ]

    @classmethod
    def from_list(cls, profile: int, rows: Sequence[Sequence]) -> Ledger:
        entries = {}
        for row in rows or ():
            try:
                v, tier, entered, flags, seconds, loops, visits = row
                entries[int(v)] = Counted(
                    int(tier), float(entered), int(flags), float(seconds), int(loops), int(visits)
                )
            except (TypeError, ValueError):
                continue  # a damaged entry is forgotten, not fatal
        return cls(profile, entries)


# -- credit ---------------------------------------------------------------------------------


def credit_all(
    params,
    world: World,
    videos: np.ndarray,
    tiers: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    looks: np.ndarray,
    people: Sequence[Ledger],
    watch: tuple[np.ndarray, float] | None = None,
) -> dict[int, tuple[int, str, str]]:
    """For decisions about to be applied: ``{row: (profile, reaction, instead)}`` for each
    one a person tipped (the first such person; see :func:`flip`). ``counts`` are the
    tier counts each decision was taken on; ``looks`` < 0 marks a fade (never credited)."""
    if not people or len(videos) == 0:
        return {}
    out: dict[int, tuple[int, str, str]] = {}
    for ledger in people:
        if not ledger.entries:
            continue
        mine = np.fromiter(ledger.entries.keys(), np.int64, len(ledger.entries))
        rows = np.flatnonzero(np.isin(videos, mine) & (looks >= 0))
        for i in rows.tolist():
            if i in out:
                continue
            v = int(videos[i])
            e = ledger.in_tier(world, v)
            if e is None or e.tier != int(tiers[i]):
                continue
            extra = None if watch is None else (float(watch[0][i]), watch[1])
            got = flip(params, world, int(tiers[i]), int(codes[i]), counts[i], e.vector(), watch=extra)
            if got is not None:
                out[i] = (ledger.profile, *got)
    return out


def flip(
    params,
    world: World | None,
    tier: int,
    code: int,
    counts: np.ndarray,
    mine: np.ndarray,
    watch: tuple[float, float] | None = None,
) -> tuple[str, str] | None:
    """``(reaction, instead)`` if the decision ``code`` taken on ``counts`` would not have
    been taken without the person's signals ``mine``; else None.

    The same look is judged again on ``counts - mine``. ``reaction`` names the one
    signal whose removal alone flips it (the strongest, by the score's weights) or
    "reactions" when only all of them together do. ``instead``: what the video
    would have done: "stalled", "moved up", "waited" (no decision yet at that look).
    """
    from fyp_tui.engine import ladder

    mine = np.asarray(mine, np.int64)
    if not mine.any():
        return None
    views = np.array([int(counts[Signal.VIEW])])

    def code_without(sub: np.ndarray) -> int:
        c = np.maximum(np.asarray(counts, np.int64) - sub, 0)
        # (the watch term as taken: one person's watch time barely moves a tier's mean)
        _s, lcb, ucb = ladder.score_counts(c, params.weight_vector(), params.z, watch)
        st = np.array([ladder.ACTIVE])
        return int(ladder.decide_codes(np.array([tier]), st, views, lcb, ucb, np.ones(1), params, world)[0])

    promoted = code == ladder.PROMOTE

    def flipped(alt: int) -> bool:
        return (alt != ladder.PROMOTE) if promoted else (alt not in (ladder.STALL_BAR, ladder.STALL_SETTLED))

    alt_all = code_without(mine)
    if not flipped(alt_all):
        return None
    reaction = "reactions" if mine[Signal.VIEW] and mine.sum() > 1 else "view"
    for s, name in SIGNAL_NAMES.items():
        if mine[s]:
            one = np.zeros(N_SIGNALS, np.int64)
            one[s] = 1
            if flipped(code_without(one)):
                reaction = name
                alt_all = code_without(one)
                break
    if alt_all == ladder.PROMOTE:
        instead = "moved up"
    elif alt_all in (ladder.STALL_BAR, ladder.STALL_SETTLED):
        instead = "stalled"
    else:
        instead = "waited"
    return reaction, instead
