"""The creator studio: a person's own creator account, posting a video as it, and
following the climb of what they posted (the clock slows while it is judged early).

Every rule a post meets is the audience's and the ladder's own (``engine.uploads``
draws it as any upload); this module only turns the person's form into engine
calls, and the engine's arrays into what the studio shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fyp_tui.engine.world import TAGS_PER_VIDEO, Signal, Status
from fyp_tui.errors import UsageError
from fyp_tui.live.ladder import budget, status_name
from fyp_tui.live.panel import RATE_SIGNALS
from fyp_tui.live.views import CreatorAccount, PostedVideo, SoundChoice, StripItem

if TYPE_CHECKING:
    from fyp_tui.live.session import LiveSession

#: seconds of a posted video (the form's and ``fyp-tui post``'s range)
DURATION_MIN, DURATION_MAX = 5, 180
CAPTION_MAX = 150
HASHTAG_MAX_LEN = 30
#: real seconds a post's tier 0 should take at least while the studio follows it
WATCH_TIER0_SECONDS = 20.0
#: the tiers during which the clock slows for the person's own video
WATCH_TIERS = (0, 1)

_TAG = re.compile(r"^\w+$")


def parse_hashtags(text: str | Sequence[str]) -> list[str]:
    """``"#a b, c"`` (or a list of names) -> names without ``#``, lower case, in order,
    once each; UsageError for one that is no hashtag, or more than a video holds."""
    items = text.replace(",", " ").split() if isinstance(text, str) else [str(t) for t in text]
    names: list[str] = []
    for raw in items:
        name = raw.strip().lstrip("#").casefold()
        if not name:
            continue
        if not _TAG.match(name) or len(name) > HASHTAG_MAX_LEN:
            raise UsageError(f"#{name[:HASHTAG_MAX_LEN]} is not a hashtag (letters, digits and _ only)")
        if name not in names:
            names.append(name)
    if len(names) > TAGS_PER_VIDEO:
        raise UsageError(f"at most {TAGS_PER_VIDEO} hashtags (got {len(names)})")
    return names


def complete_hashtag(
    text: str,
    names: Sequence[str],
    topics: Sequence[int] | np.ndarray,
    trends: Sequence[float] | np.ndarray,
    topic: int | None = None,
) -> str | None:
    """``text`` with its last word completed to one of the hashtags ``names`` (each with
    its topic and trend), or None: ``topic``'s own tags first, then the trendiest.
    (:meth:`Studio.complete_hashtag` on the world's; a class client on the host's.)"""
    if not text or text[-1].isspace() or text[-1] == ",":
        return None
    head, _sep, last = text.rpartition(" ")
    prefix = last.lstrip("#").casefold()
    if not prefix:
        return None
    hits = [i for i, n in enumerate(names) if n.casefold().startswith(prefix) and len(n) > len(prefix)]
    if not hits:
        return None
    best = min(hits, key=lambda i: (topic is None or int(topics[i]) != topic, -float(trends[i]), names[i]))
    return f"{head}{_sep}{'#' if last.startswith('#') else ''}{names[best]}"


def hashtags_topic(text: str | Sequence[str], topic_of: Callable[[str], int | None]) -> int | None:
    """The topic hashtags ``text`` point to (the most common topic of the known topical
    ones, ``topic_of`` a name's topic or None; ties to the first named), or None."""
    try:
        names = parse_hashtags(text)
    except UsageError:
        return None
    topics = [t for t in (topic_of(n) for n in names) if t is not None and t >= 0]
    if not topics:
        return None
    return max(dict.fromkeys(topics), key=topics.count)


def clean_caption(caption: str) -> str:
    """The caption as posted (whitespace collapsed); UsageError if empty or too long."""
    caption = " ".join(str(caption).split())
    if not caption:
        raise UsageError("write a caption")
    if len(caption) > CAPTION_MAX:
        raise UsageError(f"a caption holds at most {CAPTION_MAX} characters (got {len(caption)})")
    return caption


def check_duration(duration: float) -> None:
    """UsageError unless ``duration`` is a number of seconds a post may last."""
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration):
        raise UsageError(f"seconds must be a number between {DURATION_MIN} and {DURATION_MAX}")
    if not DURATION_MIN <= duration <= DURATION_MAX:
        raise UsageError(f"seconds must be between {DURATION_MIN} and {DURATION_MAX} (got {duration:g})")


class Studio:
    """The studio's data, its one action (posting), and the pace while a post is judged early."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self._creator: int | None = None  # the person's creator account, once found or made
        self._index: tuple[int, dict[str, int]] | None = None  # (n_hashtags, name -> id)
        self._mine: tuple[int, np.ndarray] = (0, np.zeros(0, np.int64))  # (videos scanned, the person's)
        self._post_mortems: dict[tuple[int, int], tuple[str, ...]] = {}  # (video, tier) -> lines

    def mine(self) -> np.ndarray:
        """Ids of the person's posted videos, oldest first (only new videos are scanned)."""
        w = self.live.world
        n, ids = self._mine
        if w.n_videos != n:
            if w.n_videos < n:
                n, ids = 0, np.zeros(0, np.int64)
            new = np.flatnonzero(w.video_profile[n : w.n_videos] == self.live.profile_id) + n
            self._mine = (w.n_videos, np.concatenate([ids, new]))
        return self._mine[1]

    # -- the person's creator account -----------------------------------------------
    def creator(self) -> int | None:
        """The person's own creator account, or None before their first post makes it.

        It is the creator of the person's posts (a post and its creator's row are
        committed together), unless that creator also uploads videos of its own: a
        world from before accounts existed posted as a simulated creator."""
        if self._creator is not None:
            return self._creator
        w = self.live.world
        mine = self.mine()
        for c in dict.fromkeys(w.video_creator[mine].tolist()):  # (a handful of creators)
            by = w.video_creator[: w.n_videos] == c
            if not (w.video_profile[: w.n_videos][by] < 0).any():
                self._creator = int(c)
                return self._creator
        return None

    def _ensure_creator(self, topic: int) -> int:
        """The person's creator account, made now if they have none (caller holds the lock)."""
        from fyp_tui.engine.uploads import add_person_creator

        c = self.creator()
        if c is None:
            person = self.live.feed_session.person
            c = add_person_creator(
                self.live.world,
                name=self.live.profile_name,
                country=int(person.country),
                language=int(person.language),
                topic=int(topic),
            )
            self._creator = c
        return c

    def account(self) -> CreatorAccount:
        """The person's creator account as the studio and the World screen show it (the
        handle it will have, before the first post makes it)."""
        from fyp_tui.engine.uploads import handle_for

        live = self.live
        w = live.world
        c = self.creator()
        person = live.feed_session.person
        n_posts = len(self.mine())
        if c is None:
            return CreatorAccount(
                handle=handle_for(w, live.profile_name),
                followers=0,
                posts=n_posts,
                country=w.country_codes[int(person.country)],
                language=w.language_codes[int(person.language)],
                made=False,
            )
        return CreatorAccount(
            handle=w.creator_handles[c],
            followers=int(w.creator_followers[c]),
            posts=n_posts,
            country=w.country_codes[int(w.creator_country[c])],
            language=w.language_codes[int(w.creator_language[c])],
            made=True,
            creator=c,
        )

    # -- the form's choices -----------------------------------------------------------
    def sounds(self) -> list[SoundChoice]:
        """Every sound, the trending ones first (marked)."""
        w = self.live.world
        trending_now = set(self.live.trending.sounds())
        artists = (w.extra or {}).get("sound_artists") or []
        trending = sorted(trending_now, key=lambda s: -w.sound_trend[s])
        rest = [s for s in range(w.n_sounds) if s not in trending_now]
        return [
            SoundChoice(s, w.sound_titles[s], artists[s] if s < len(artists) else "", s in trending_now)
            for s in [*trending, *rest]
        ]

    def _hashtag_index(self) -> dict[str, int]:
        w = self.live.world
        if self._index is None or self._index[0] != w.n_hashtags:
            self._index = (w.n_hashtags, {n.casefold(): i for i, n in enumerate(w.hashtag_names)})
        return self._index[1]

    def complete_hashtag(self, text: str, topic: int | None = None) -> str | None:
        """``text`` with its last word completed to an existing hashtag (the form's
        suggestion), or None: ``topic``'s own tags first, then the trendiest."""
        w = self.live.world
        return complete_hashtag(text, w.hashtag_names, w.hashtag_topic, w.hashtag_trend, topic)

    def topic_for_hashtags(self, text: str | Sequence[str]) -> int | None:
        """The topic the hashtags point to (the most common topic of the known topical
        ones; ties to the first named), or None."""
        index, topic_of = self._hashtag_index(), self.live.world.hashtag_topic
        return hashtags_topic(text, lambda n: int(topic_of[index[n]]) if n in index else None)

    def default_sound(self) -> int:
        """The sound a post gets when none is chosen (``fyp-tui post``): original
        audio, the least trending (ties by id), as a creator's own voice-over is."""
        w = self.live.world
        ids = np.flatnonzero(w.sound_original)
        if len(ids) == 0:
            ids = np.arange(w.n_sounds)
        return int(ids[np.lexsort((ids, w.sound_trend[ids]))[0]])

    # -- posting ----------------------------------------------------------------------
    def post_video(
        self,
        *,
        caption: str,
        hashtags: str | Sequence[str | int],
        sound: int,
        duration: float,
        topic: int | None = None,
    ) -> tuple[int, list[StripItem]]:
        """Post a video as the person's creator account (made at the first post): it
        enters tier 0 now, committed before this returns. ``hashtags``: names (new
        ones are created in the world, in the post's topic) or ids. ``topic`` None:
        the one its hashtags point to. (video id, the strip line); bad input is a
        UsageError of one line, and changes nothing."""
        from fyp_tui.engine.uploads import post_video

        caption = clean_caption(caption)
        check_duration(duration)
        live = self.live
        w = live.world
        if not 0 <= int(sound) < w.n_sounds:
            raise UsageError(f"no sound {sound}")
        ids = [h for h in hashtags if isinstance(h, (int, np.integer))] if not isinstance(hashtags, str) else []
        names = parse_hashtags(
            hashtags if isinstance(hashtags, str) else [h for h in hashtags if not isinstance(h, (int, np.integer))]
        )
        if any(not 0 <= int(h) < w.n_hashtags for h in ids):
            raise UsageError(f"unknown hashtag id in {ids}")
        if topic is None:
            topic = self.topic_for_hashtags([*names, *(w.hashtag_names[int(h)] for h in ids)])
            if topic is None:
                raise UsageError("pick a topic (no hashtag names one)")
        if not 0 <= int(topic) < w.n_topics:
            raise UsageError(f"no topic {topic}")
        if len(ids) + len(names) > TAGS_PER_VIDEO:
            raise UsageError(f"at most {TAGS_PER_VIDEO} hashtags")
        with live.lock:
            index = self._hashtag_index()
            new = [n for n in names if n not in index]
            if new:
                w.add_hashtags(new, int(topic))
                index = self._hashtag_index()
            tag_ids = list(dict.fromkeys([*(int(h) for h in ids), *(index[n] for n in names)]))
            creator = self._ensure_creator(int(topic))
            video = post_video(
                w,
                live.params,
                live.sim_rng,
                profile=live.profile_id,
                creator=creator,
                sound=int(sound),
                duration=float(duration),
                topic=int(topic),
                hashtags=tag_ids,
                caption=caption,
                now=float(w.clock),
            )
            live.history.track(int(video))
            # committed now, with the new account's and hashtags' rows, not at the next checkpoint
            live.feed_session.posted(int(video))
        return int(video), [StripItem(float(w.clock), "your video is live in tier 0", True, "info")]

    # -- following the climb -----------------------------------------------------------
    def watched(self) -> int | None:
        """The person's newest video still judged early (active in tier 0 or 1), if any."""
        w = self.live.world
        mine = self.mine()
        if len(mine) == 0:
            return None
        v = int(mine[-1])
        if int(w.video_status[v]) == Status.ACTIVE and int(w.video_tier[v]) in WATCH_TIERS:
            return v
        return None

    def pace(self, pace: float) -> float:
        """The clock's pace (simulated minutes per real second) while the person's
        newest post is judged early: slow enough that its tier's budget takes at least
        :data:`WATCH_TIER0_SECONDS` real seconds to fill at the rate tier-0 and -1
        videos collect impressions now; ``pace`` itself (never faster) otherwise."""
        v = self.watched()
        if v is None or pace <= 0:
            return pace
        w, p = self.live.world, self.live.params
        tier = int(w.video_tier[v])
        n = w.n_videos
        # impressions per simulated hour of a video in this tier now (its own rate once it
        # has some, else the tier's: tier views over hours in the tier, pooled)
        hours = float(w.clock - w.video_tier_entered[v])
        views = float(w.video_tier_counts[v, Signal.VIEW])
        if views >= 10 and hours > 0:
            rate = views / hours
        else:
            same = np.flatnonzero((w.video_tier[:n] == tier) & (w.video_status[:n] == Status.ACTIVE))
            age = np.maximum(w.clock - w.video_tier_entered[same], 0.0)
            hours_in = float(age.sum())
            rate = float(w.video_tier_counts[same, Signal.VIEW].sum()) / hours_in if hours_in > 0 else 0.0
        if not math.isfinite(rate) or rate <= 0:  # nothing measured yet: the pace the pools aim at
            from fyp_tui.engine.pools import fill_hours

            rate = budget(p, tier) / float(fill_hours(p)[tier])
        want = budget(p, tier) / WATCH_TIER0_SECONDS  # impressions per real second
        slow = 60.0 * want / rate  # simulated minutes per real second
        return float(min(pace, max(slow, 0.01)))

    def my_videos(self, limit: int | None = None) -> list[PostedVideo]:
        """The person's posted videos, newest first (the newest ``limit``), each with its climb so far."""
        from fyp_tui.engine.ladder import promotion_bar, tier_score

        live = self.live
        w, p = live.world, live.params
        ids = self.mine()
        watched = self.watched()
        out = []
        for v in ids[::-1][:limit]:
            v = int(v)
            sp = live.panel.spread(v)
            tier = int(w.video_tier[v])
            _s, lcb, _u = tier_score(w, p, [v])
            bar = float(promotion_bar(p, [tier], w)[0])
            status = status_name(w, v)
            counts = w.video_counts[v]
            out.append(
                PostedVideo(
                    video=v,
                    caption=w.video_captions[v],
                    tier=tier,
                    status=status,
                    views=int(counts[Signal.VIEW]),
                    tier_views=int(w.video_tier_counts[v, Signal.VIEW]),
                    budget=budget(p, tier),
                    score=float(lcb[0]) if math.isfinite(lcb[0]) else 0.0,
                    bar=bar if math.isfinite(bar) else 0.0,
                    rates=sp.rates,
                    steps=sp.steps,
                    views_series=sp.views_series,
                    likes=int(counts[Signal.LIKE]),
                    shares=int(counts[Signal.SHARE]),
                    watched=watched == v,
                    post_mortem=self._post_mortem(v) if status == "stalled" else (),
                )
            )
        return out

    def _post_mortem(self, video: int) -> tuple[str, ...]:
        """:meth:`post_mortem`, kept from when the studio first saw the stall (the typical
        video is the one of that moment; a re-ignited video gets a new one if it stalls again)."""
        key = (int(video), int(self.live.world.video_tier[video]))
        hit = self._post_mortems.get(key)
        if hit is None:
            hit = self._post_mortems[key] = tuple(self.post_mortem(video))
        return hit

    def post_mortem(self, video: int) -> list[str]:
        """Why a stalled video stalled: its score against the bar it missed, and each
        rate against the typical video of its tier (pooled over the videos in that
        tier now with a quarter of its budget seen), the shortest first."""
        from fyp_tui.engine.ladder import promotion_bar, score_counts

        live = self.live
        w, p = live.world, live.params
        v = int(video)
        tier = int(w.video_tier[v])
        steps = [s for s in live.history.past_steps(v) if s.tier == tier and s.outcome.startswith("stalled")]
        tc = w.video_tier_counts[v].astype(np.float64)
        n = w.n_videos
        same = np.flatnonzero(
            (w.video_tier[:n] == tier)
            & (w.video_tier_counts[:n, Signal.VIEW] >= max(budget(p, tier) // 4, 1))
            & (np.arange(n) != v)
        )
        score, lcb, _u = score_counts(w.video_tier_counts[[v]], p.weight_vector(), p.z)
        sc, lo = float(np.nan_to_num(score[0])), float(np.nan_to_num(lcb[0]))
        if steps:  # the decision as taken (the counts at its look)
            s = steps[-1]
            bar, seen = s.bar, s.impressions
            if s.score != 0.0:
                sc = s.score
        else:
            bar, seen = float(np.nan_to_num(promotion_bar(p, [tier], w)[0])), int(tc[Signal.VIEW])
        reason = steps[-1].outcome.partition(": ")[2] if steps else ""
        lines = [
            f"stalled in tier {tier}{f' ({reason})' if reason else ''} after {seen} impressions",
            f"score {sc:.3f}, surely at least {lo:.3f}; bar {bar:.3f}",
            f"short by {max(bar - lo, 0.0):.3f}: the ladder promotes on the sure part",
        ]
        views = max(tc[Signal.VIEW], 1.0)
        if len(same) == 0:
            return lines
        pooled = w.video_tier_counts[same].sum(axis=0).astype(np.float64)
        pviews = max(pooled[Signal.VIEW], 1.0)
        typical, _l, _u = score_counts(w.video_tier_counts[same], p.weight_vector(), p.z)
        lines.append(f"a typical tier-{tier} video now scores {float(np.median(np.nan_to_num(typical))):.3f}")
        weights = p.weight_vector()
        rows = []
        for name, sig in RATE_SIGNALS:
            mine, typ = tc[sig] / views, pooled[sig] / pviews
            rows.append((float(weights[sig]) * (mine - typ), name, mine, typ))
        rows.sort()
        gap, name, mine, typ = rows[0]
        if gap < 0:  # the rate that cost it the most score against the typical video
            lines.append(f"it lost the most on {name}: {mine * 100:.1f}% against a typical {typ * 100:.1f}%")
        lines.append("its rates (▼ short of the typical, ▲ ahead):")
        for gap, name, mine, typ in rows:
            lines.append(f"{name:<10} {mine * 100:4.1f}% · typ. {typ * 100:4.1f}% {'▼' if gap < 0 else '▲'}")
        return lines
