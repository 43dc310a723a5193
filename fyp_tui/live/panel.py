"""The feed's side panel: why this video was picked, and how it is spreading."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fyp_tui.engine.world import Signal
from fyp_tui.live.comments import comments
from fyp_tui.live.ladder import budget, status_name
from fyp_tui.live.views import Contribution, SpreadData, TierStep, WhyData

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

RATE_SIGNALS = (
    ("completion", Signal.FULL_WATCH),
    ("like", Signal.LIKE),
    ("share", Signal.SHARE),
    ("favourite", Signal.FAVOURITE),
    ("comment", Signal.COMMENT),
    ("follow", Signal.FOLLOW),
    ("skip", Signal.SKIP),
)


class Panel:
    """The Why and Spread tabs' data for one video."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live

    def why(self, video: int) -> WhyData:
        """The ranking score's named contributions, the candidate source and the tier."""
        with self.live.lock:
            e = self.live.feed_session.explain(video)
        tier_budget = e.budget or 0
        bar = e.bar if e.bar is not None and math.isfinite(e.bar) else 0.0
        lcb = e.tier_lcb if math.isfinite(e.tier_lcb) else 0.0
        # the panel shows the status on its own line: keep notes that add something
        notes = [n for n in e.notes if not n.startswith(("stalled", "site-wide"))]
        if e.explored:
            notes.insert(0, "picked by the exploration slot")
        return WhyData(
            video=video,
            score=float(e.score),
            contributions=tuple(Contribution(c.name, float(c.value)) for c in e.contributions),
            source=", ".join(e.sources) if e.sources else "an earlier pick",
            tier=int(e.tier),
            status=e.status,
            tier_views=int(e.impressions_in_tier),
            budget=int(tier_budget),
            tier_score=float(lcb),
            bar=float(bar),
            notes=tuple(notes),
            tier_ucb=float(e.tier_ucb) if math.isfinite(e.tier_ucb) else 0.0,
            next_look=e.next_look,
            outlook=e.outlook,
        )

    def spread(self, video: int) -> SpreadData:
        """The video's climb (past tiers and the one in progress), its rates, its views over time."""
        from fyp_tui.engine.pools import promotion_bar, tier_score

        live = self.live
        w, p = live.world, live.params
        steps = list(live.history.past_steps(video))
        tier = int(w.video_tier[video])
        status = status_name(w, video)
        with live.lock:
            _score, lcb, _ucb = tier_score(w, p, [video])
            tc = w.video_tier_counts[video].copy()
            views = int(w.video_counts[video, Signal.VIEW])
            bar = float(promotion_bar(p, [tier], w)[0])
            said = comments(w, live.feed_session.person, video, you=f"@{live.profile_name} (you)")
        if status != "stalled":
            steps.append(
                TierStep(
                    tier=tier,
                    outcome="site-wide" if status == "top" else "in progress",
                    impressions=int(tc[Signal.VIEW]),
                    budget=budget(p, tier),
                    score=float(lcb[0]) if math.isfinite(lcb[0]) else 0.0,
                    bar=bar if math.isfinite(bar) else 0.0,
                    time=float(w.clock),
                )
            )
        n = max(int(tc[Signal.VIEW]), 1)
        rates = tuple((name, float(tc[sig]) / n) for name, sig in RATE_SIGNALS) if tc[Signal.VIEW] else ()
        series = live.history.series(video)
        values = tuple(float(v) for _t, v in series) if series else ()
        span = (series[-1][0] - series[0][0]) if series and len(series) > 1 else 0.0
        return SpreadData(
            video=video,
            steps=tuple(steps),
            rates=rates,
            views_series=values,
            series_span=span,
            views=views,
            comments=said,
        )
