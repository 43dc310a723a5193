"""Comments under a video as the side panel lists them: a few of the audience's, and
the person's own.

The simulated audience's comments are counted (``Signal.COMMENT``), not written; the
panel shows a few of them as text drawn from the world's Faker vocabulary of the
video's language (``caption_words_by_language``, built by Faker when the world was
seeded), the same words for the same video every time (seeded by the world's seed
and the video). The person's comments are theirs, as they typed them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fyp_tui.engine.world import Signal, World

#: audience comments shown at most
SHOWN = 3
_EMOJI = ("😂", "🔥", "😍", "👏", "💯", "🙌", "😭", "👀")


def audience_comments(world: World, video: int, n: int = SHOWN) -> list[tuple[str, str]]:
    """Up to ``n`` ``(handle, text)`` of the audience's comments on ``video`` (no more
    than the comments it has), in its language."""
    count = int(world.video_counts[video, Signal.COMMENT])
    k = min(n, count)
    if k <= 0:
        return []
    extra = world.extra or {}
    by_lang = extra.get("caption_words_by_language") or {}
    lang = int(world.video_language[video])
    code = world.language_codes[lang] if 0 <= lang < len(world.language_codes) else ""
    words = list(by_lang.get(code) or world.caption_words or ["nice"])
    rng = np.random.default_rng([int(world.seed) & 0xFFFFFFFF, int(video), 0xC0])
    handles = world.creator_handles
    out = []
    for _ in range(k):
        n_words = int(rng.integers(2, 8))
        text = " ".join(words[int(i)] for i in rng.integers(0, len(words), n_words))
        text = text[:1].upper() + text[1:]
        if rng.random() < 0.5:
            text += " " + _EMOJI[int(rng.integers(0, len(_EMOJI)))]
        who = handles[int(rng.integers(0, len(handles)))] if handles else "viewer"
        out.append((who, text))
    return out


def comments(world: World, person: Any, video: int, you: str = "you") -> tuple[tuple[str, str], ...]:
    """The panel's list for ``video``: the person's own comments (newest first), then a
    few of the audience's."""
    mine = [(you, text) for v, text in reversed(person.comments) if v == video]
    return tuple(mine + audience_comments(world, video))
