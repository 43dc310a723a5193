""" "Why this video": a score broken into named contributions, plus where the video
stands on the tier ladder (its tier, how far through the tier's budget, how far
from the promotion bar).

The contributions are the very terms :func:`fyp_tui.engine.ranking.score` adds
up, so they sum to the score (plus the exploration slot's lift when the slot
picked the video). A video the test-pool slot picked says so in a note.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from fyp_tui.engine.candidates import PICKED_BY_TEST_SLOT, source_names
from fyp_tui.engine.ranking import Scored
from fyp_tui.engine.world import Signal, Status, World


@dataclass(frozen=True)
class Contribution:
    name: str  # e.g. "interest: cooking", "followed creator", "trending sound"
    value: float  # in score units; negative pulls the video down
    kind: str  # engagement, interest, locality, follow, trend, local, test_pool, exploration, diversity


@dataclass
class Explanation:
    video: int
    score: float
    contributions: list[Contribution]
    predicted: dict[str, float]  # like, comment, share, follow, finish, watch_fraction, skip
    sources: list[str]  # candidate sources that proposed it (empty if not a candidate now)
    explored: bool  # picked by the exploration slot
    topics: list[str]  # the video's topic mix, main topic first
    tier: int
    status: str  # "active", "stalled", "top"
    budget: int | None  # the tier's impression budget; None for the site-wide tier
    impressions_in_tier: int
    budget_progress: float | None  # impressions_in_tier / budget
    views: int
    tier_score: float  # engagement score in the current tier (point estimate)
    tier_lcb: float  # its lower confidence bound, compared with the bar
    bar: float | None  # the promotion bar in force for the tier; None for the site-wide tier
    distance_to_bar: float | None  # bar - lcb: > 0 still to go, <= 0 above the bar
    first_viewer: bool  # the person is among the video's test audience
    test_pool_slot: bool = False  # picked by the re-rank's test-pool slot
    notes: list[str] = field(default_factory=list)
    tier_ucb: float = math.inf  # the score's upper confidence bound
    next_look: int | None = None  # impressions in the tier at which its decision is next looked at
    #: what the next look would decide on these numbers (:func:`outlook`)
    outlook: str = "no views"

    def to_dict(self) -> dict:
        """JSON-safe: a bound that is not finite yet (no views in the tier) becomes None."""
        d = asdict(self)
        d["contributions"] = [asdict(c) for c in self.contributions]
        for key in ("tier_score", "tier_lcb", "tier_ucb", "bar", "distance_to_bar"):
            v = d[key]
            if v is not None and not math.isfinite(v):
                d[key] = None
        return d


_KIND = {
    "observed engagement": "engagement",
    "same country / language": "locality",
    "followed creator": "follow",
    "trending sound": "trend",
    "trending hashtag": "trend",
    "local popularity": "local",
    "test pool": "test_pool",
    "diversity adjustment": "diversity",
}


def build_explanation(
    world: World,
    params,
    scored: Scored,
    row: int,
    *,
    flags: int = 0,
    explore_boost: float | None = None,
    first_viewer: bool = False,
    broad: bool = False,
) -> Explanation:
    """The explanation of ``scored.ids[row]`` (``params``: the engine's EngineParams)."""
    from fyp_tui.engine import ladder

    video = int(scored.ids[row])
    contributions: list[Contribution] = []
    for name, values in scored.parts.items():
        if name == "interest":
            for slot, topic in enumerate(world.video_topics[video]):
                v = float(scored.interest_by_slot[row, slot])
                if world.video_topic_w[video, slot] > 0:
                    contributions.append(Contribution(f"interest: {world.topic_names[int(topic)]}", v, "interest"))
            continue
        contributions.append(Contribution(name, float(values[row]), _KIND[name]))
    total = float(scored.total[row])
    if explore_boost is not None:
        contributions.append(Contribution("exploration slot", float(explore_boost), "exploration"))
        total += float(explore_boost)

    tier = int(world.video_tier[video])
    status = Status(int(world.video_status[video]))
    budgets = params.budgets()
    bounded = tier < params.n_bounded
    budget = int(budgets[tier]) if bounded else None
    in_tier = int(world.video_tier_counts[video, Signal.VIEW])
    sc, lcb, ucb = ladder.tier_score(world, params, np.array([video]))
    bar_arr = np.atleast_1d(ladder.promotion_bar(params, np.array([tier]), world))
    bar = float(bar_arr[0]) if bounded and np.isfinite(bar_arr[0]) else None
    looks = ladder.look_views(params)[min(tier, params.top_tier)]
    ahead = looks[looks > in_tier]
    next_look = int(ahead.min()) if bounded and len(ahead) else None
    notes = []
    test_slot = bool(int(flags) & PICKED_BY_TEST_SLOT)
    if test_slot:
        notes.append("picked for the test-pool slot: a share of your feed goes to new videos still in their test pool")
    if broad:
        notes.append(
            "picked by a broad slot: ranked without your learned interests"
            " (more of your feed is personalised as the feed learns you)"
        )
    if status == Status.STALLED:
        notes.append("stalled: out of the pools")
    elif status == Status.TOP:
        notes.append("site-wide: passed every budgeted tier")
    return Explanation(
        video=video,
        score=total,
        contributions=contributions,
        predicted={k: float(v[row]) for k, v in scored.predicted.items()},
        sources=source_names(int(flags)),
        explored=explore_boost is not None,
        topics=[
            world.topic_names[int(t)] for t, w in zip(world.video_topics[video], world.video_topic_w[video]) if w > 0
        ],
        tier=tier,
        status=status.name.lower(),
        budget=budget,
        impressions_in_tier=in_tier,
        budget_progress=(in_tier / budget) if budget else None,
        views=int(world.video_counts[video, Signal.VIEW]),
        tier_score=float(np.atleast_1d(sc)[0]),
        tier_lcb=float(np.atleast_1d(lcb)[0]),
        bar=bar,
        distance_to_bar=(bar - float(np.atleast_1d(lcb)[0])) if bar is not None else None,
        first_viewer=bool(first_viewer),
        test_pool_slot=test_slot,
        notes=notes,
        tier_ucb=float(np.atleast_1d(ucb)[0]),
        next_look=next_look,
        outlook=outlook(
            status.name.lower(),
            in_tier,
            float(np.atleast_1d(lcb)[0]),
            float(np.atleast_1d(ucb)[0]),
            bar,
            next_look,
            budget,
        ),
    )


#: what :func:`outlook` says, in words (the app and ``explain`` show the same)
OUTLOOK_WORDS = {
    "moving up": "on course to move up at the next look",
    "stalling": "on course to stall at the next look",
    "undecided": "too close to call at the next look",
    "no views": "no views in this tier yet",
    "stalled": "stalled: out of the pools",
    "site-wide": "past the last tier: served site-wide",
}


def outlook(
    status: str, views: int, lcb: float, ucb: float, bar: float | None, next_look: int | None, budget: int | None
) -> str:
    """What the tier's next look would decide on the numbers now, by the ladder's own rule
    (:func:`fyp_tui.engine.ladder.decide_codes`): "moving up" (the lower bound clears the
    bar), "stalling" (the upper bound is below it, or the next look is the budget's and
    the lower bound misses it), else "undecided"; or the state of a video no look concerns."""
    if status == "stalled":
        return "stalled"
    if status == "top" or bar is None:
        return "site-wide"
    if views <= 0 or not math.isfinite(lcb):
        return "no views"
    if lcb >= bar:
        return "moving up"
    if ucb < bar or (next_look is not None and budget is not None and next_look >= budget):
        return "stalling"
    return "undecided"


def format_explanation(e: Explanation, *, title: str | None = None) -> str:
    """Plain-text form for ``fyp-tui explain``."""
    lines = [title or f"video {e.video}", f"  topics: {', '.join(e.topics)}"]
    lines.append(f"  score {e.score:+.3f}" + (f"  (sources: {', '.join(e.sources)})" if e.sources else ""))
    width = max((len(c.name) for c in e.contributions), default=10)
    for c in sorted(e.contributions, key=lambda c: -abs(c.value)):
        if abs(c.value) < 5e-4:
            continue
        bar = "#" * min(int(abs(c.value) * 20), 30)
        lines.append(f"    {c.name:<{width}}  {c.value:+.3f}  {'-' if c.value < 0 else '+'}{bar}")
    p = e.predicted
    lines.append(
        "  predicted: "
        + ", ".join(f"{k} {p[k]:.1%}" for k in ("like", "share", "follow", "finish", "skip"))
        + f", watch {p['watch_fraction']:.2f}x"
    )
    if e.budget is not None:
        lines.append(
            f"  tier {e.tier} ({e.status}): {e.impressions_in_tier:,} of {e.budget:,} impressions"
            f" ({e.budget_progress:.0%}), {e.views:,} views in all"
        )
    else:
        lines.append(f"  tier {e.tier} ({e.status}, site-wide): {e.views:,} views in all")
    if e.bar is not None and not math.isfinite(e.tier_lcb):
        lines.append(f"  no views in this tier yet; the bar in force is {e.bar:.3f}")
    elif e.bar is not None and e.distance_to_bar is not None:
        where = "above the bar" if e.distance_to_bar <= 0 else f"{e.distance_to_bar:.3f} below the bar"
        lines.append(
            f"  tier score {e.tier_score:.3f}, bounds {e.tier_lcb:.3f} .. {e.tier_ucb:.3f} vs the bar in force"
            f" {e.bar:.3f}: lower bound {where}"
        )
        look = f" ({e.next_look:,} impressions)" if e.next_look is not None else ""
        lines.append(f"  {OUTLOOK_WORDS[e.outlook]}{look}")
    if e.first_viewer:
        lines.append("  you are one of its first viewers (test pool)")
    lines.extend(f"  {n}" for n in e.notes)
    return "\n".join(lines)
