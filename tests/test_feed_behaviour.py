"""What the feed does to scripted bots: echo chambers form, the knob breaks them,
country counts a little.

The ``tiny`` world is too small for these (it has 2 cooking videos, and its pools
run dry within hours), so this module builds a mid-size world in memory: 5,000
videos, 8,000 viewers, 12 topics, 3 countries, warmed up by 6 simulated hours.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from worlds import mid_world

from fyp_tui.audit import BotSpec, run_bot


@pytest.fixture(scope="module")
def mid():
    return mid_world(6.0)


def bot(mid, spec: BotSpec, seed: int = 1):
    world, params = mid
    return run_bot(world.copy(), params, spec, np.random.default_rng(seed))


def test_a_lingering_bot_falls_into_its_niche_while_the_control_does_not(mid):
    world, _ = mid
    lurker = bot(mid, BotSpec(name="lurker", videos=300, linger=("cooking",)))
    control = bot(mid, BotSpec(name="control", videos=300, watch_seconds=5.0))
    # a majority of the niche well within 300 videos, and it stays there
    assert lurker.videos_to_50 is not None and lurker.videos_to_50 <= 150
    assert np.mean(lurker.target_share_by_window[-4:]) >= 0.6
    cooking_share_control = control.topics_last_50.get("cooking", 0) / 50
    assert cooking_share_control < 0.25
    # the control's feed stays diverse: most of the entropy possible over 12 topics
    assert control.entropy_last_50 >= 0.8 * math.log2(world.n_topics)
    assert lurker.entropy_last_50 < control.entropy_last_50 - 1.0


def test_raising_the_knob_keeps_a_niche_bot_more_diverse(mid):
    low = bot(mid, BotSpec(name="low", videos=200, linger=("cooking",), knob=0.3))
    high = bot(mid, BotSpec(name="high", videos=200, linger=("cooking",), knob=0.9))
    assert high.entropy_last_50 >= low.entropy_last_50 + 0.7
    assert np.mean(high.target_share_by_window[2:]) <= np.mean(low.target_share_by_window[2:]) - 0.2


def test_a_bot_in_another_country_sees_more_of_its_country(mid):
    world, _ = mid
    de = world.country_codes.index("DE")
    german = bot(mid, BotSpec(name="german", videos=200, country="DE", language="de", watch_seconds=5.0))
    control = bot(mid, BotSpec(name="control", videos=200, watch_seconds=5.0))
    share_german = np.mean(world.video_country[german.shown] == de)
    share_control = np.mean(world.video_country[control.shown] == de)
    assert share_german >= 1.5 * share_control and share_german - share_control >= 0.1
    assert german.countries_last_50.get("DE", 0) > control.countries_last_50.get("DE", 0)
