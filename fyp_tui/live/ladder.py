"""Where a video stands on the tier ladder, in words and numbers the views show."""

from __future__ import annotations

from typing import Any

from fyp_tui.engine.events import Event, Promoted, Reignited, Stalled
from fyp_tui.engine.world import Status, World
from fyp_tui.live.views import TierStep

STATUS_NAMES = {int(Status.ACTIVE): "active", int(Status.STALLED): "stalled", int(Status.TOP): "top"}


def status_name(world: World, video: int) -> str:
    """``active``, ``stalled`` or ``top``."""
    return STATUS_NAMES.get(int(world.video_status[video]), "active")


def budget(params: Any, tier: int) -> int:
    """The impression budget of ``tier`` (0: the top tier, unbounded)."""
    return 0 if tier >= params.top_tier else int(params.ladder[tier])


def step_of(params: Any, e: Event, profile_id: int | None = None) -> TierStep:
    """One tier decision of this session as a rung of the climb; its credit, if it is
    ``profile_id``'s (the decision would have gone the other way without them)."""
    tip, instead = None, None
    if (
        isinstance(e, (Promoted, Stalled))
        and e.tipped_by is not None
        and (profile_id is None or e.profile == profile_id)
    ):
        tip, instead = e.tipped_by, e.instead
    if isinstance(e, Promoted):
        return TierStep(
            e.from_tier, "promoted", e.impressions, budget(params, e.from_tier), e.score, e.bar, e.time, tip, instead
        )
    if isinstance(e, Stalled):
        return TierStep(
            e.tier, f"stalled: {e.reason}", e.impressions, budget(params, e.tier), e.score, e.bar, e.time, tip, instead
        )
    assert isinstance(e, Reignited)
    return TierStep(e.tier, f"re-ignited: {e.reason}", 0, budget(params, e.tier), 0.0, 0.0, e.time)
