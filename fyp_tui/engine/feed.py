"""A person's headless For You feed: the one object the app, the audit and the
tests drive.

The person is one more viewer in the world's pools, counted like a simulated one:
one impression per video and at most one of each signal on it (the person's
:class:`~fyp_tui.engine.ledger.Ledger`). Every change goes through
:func:`fyp_tui.engine.ladder.record` into the same counters as the audience's; a
decision the person's signals decided (without them it would have gone the other
way) carries ``tipped_by`` (the signal), ``profile`` and ``instead``. Each call also updates the person's
interest model and, when a :class:`Journal` is given, commits the reaction and
the person's state before returning.

Not thread-safe: the caller holds the world's lock around every call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from fyp_tui.engine import ladder
from fyp_tui.engine.candidates import SLOT_BROAD, is_test_pool, sources_of
from fyp_tui.engine.events import Event
from fyp_tui.engine.explain import Explanation, build_explanation
from fyp_tui.engine.ledger import Ledger, bit
from fyp_tui.engine.ranking import RankingParams, RankState, rank, score
from fyp_tui.engine.viewer import (
    COMMENT_MAX_CHARS,
    COMMENTS_KEPT,
    FOUND_EARLY_KEPT,
    REACTION_STRENGTH,
    SKIP_SECONDS,
    WATCH_RATE,
    PersonState,
    watch_strength,
)
from fyp_tui.engine.world import Signal, World
from fyp_tui.errors import UsageError

#: every ``kind`` accepted by :meth:`FeedSession.react`
REACTIONS = (
    "like",
    "unlike",
    "share",
    "comment",
    "favourite",
    "unfavourite",
    "follow",
    "unfollow",
    "not_interested_video",
    "not_interested_creator",
    "not_interested_sound",
    "mute_hashtag",
)


class Journal(Protocol):
    """Where a session's reactions go (the store's ``SqlJournal``; None in audits)."""

    def record(
        self,
        profile_id: int,
        kind: str,
        video: int,
        watch_seconds: float,
        loops: int,
        sim_time: float,
        person_state: dict,
        events: list[Event],
    ) -> None:
        """Commit one interaction, the person's state and the tier events it caused,
        in one transaction, before returning."""

    def save_state(self, profile_id: int, person_state: dict) -> None:
        """Commit the person's state alone (onboarding, knob, Refresh)."""


class FeedSession:
    def __init__(
        self,
        world: World,
        params,
        person: PersonState,
        profile_id: int,
        rng: np.random.Generator,
        journal: Journal | None = None,
        ranking: RankingParams | None = None,
    ) -> None:
        self.world = world
        self.params = params
        self.person = person
        self.profile_id = profile_id
        self.rng = rng
        self.journal = journal
        if ranking is None:
            # "few views" = the first quarter of the first tier's budget (at most 50)
            first = max(3, min(50, int(params.ladder[0]) // 4))
            # the engine's weak terms of locality and device (country_bonus, language_bonus,
            # device_bonus) are the feed's too
            ranking = RankingParams(
                first_viewer_views=first,
                country_beta=float(getattr(params, "country_bonus", 0.05)),
                language_beta=float(getattr(params, "language_bonus", 0.15)),
                device_beta=float(getattr(params, "device_bonus", 0.05)),
            )
        self.ranking = ranking
        self.rs = RankState(world, person, ranking)
        self._pos = len(person.history) - 1
        # how recent recommendations were made: video -> (source bits, exploration lift or
        # None, picked by a broad slot)
        self._picked: OrderedDict[int, tuple[int, float | None, bool]] = OrderedDict()
        # what of the person's sits in each video's counters (kept with the person's state)
        self.ledger: Ledger = person.ledger
        self.ledger.profile = int(profile_id)

    def warm(self) -> None:
        """Build the ranking's per-session index and caches now (about 0.2 s on
        ``large``), e.g. in the worker that loads the world, instead of on the
        first ``next()``."""
        self.rs.index(self.world)
        self.rs.refresh(self.world, force=True)

    # -- navigation ------------------------------------------------------------------------
    def current(self) -> int | None:
        """The video on screen (None before the first ``next``)."""
        return self.person.history[self._pos] if self._pos >= 0 else None

    @property
    def at_latest(self) -> bool:
        """True when the current video is the newest recommendation (not going back)."""
        return self._pos == len(self.person.history) - 1

    def next(self) -> int:
        """The next video: forward through history after ``previous``, else a new
        recommendation (which is then marked seen and added to the history)."""
        history = self.person.history
        if self._pos < len(history) - 1:
            self._pos += 1
            return history[self._pos]
        ids, _scores, picks, scored, flags = rank(self.world, self.rs, self.person, self.world.clock, self.rng, k=1)
        if not picks:
            raise UsageError("nothing left to recommend: every video has been seen or filtered out")
        pick = picks[0]
        row = int(np.searchsorted(scored.ids, pick.video))
        self._remember(
            pick.video, int(flags[row]), pick.explore_boost if pick.explored else None, pick.slot == SLOT_BROAD
        )
        video = int(ids[0])
        history.append(video)
        self.person.seen.add(video)
        self.rs.mark_seen(self.world, video)
        self._pos = len(history) - 1
        return video

    def previous(self) -> int | None:
        """Go back one video in the history (no new recommendation); None at the start."""
        if self._pos <= 0:
            return None
        self._pos -= 1
        return self.person.history[self._pos]

    # -- signals ---------------------------------------------------------------------------
    def watched(self, video: int, seconds: float, loops: int = 0) -> list[Event]:
        """The person's watch of ``video``: call it when the card is left. The first visit
        makes the impression a full watch or a skip (under SKIP_SECONDS); a revisit adds
        watch time and loops to the same impression (and may make it a full watch)."""
        video = self._check_video(video)
        seconds = max(float(seconds), 0.0)
        loops = max(int(loops), 0)
        w = self.world
        duration = float(w.video_duration[video])
        finished = loops > 0 or seconds >= 0.98 * duration
        skipped = loops == 0 and seconds < SKIP_SECONDS
        entry = self.ledger.get(video)
        first = entry is None or entry.visits == 0
        on = off = 0
        if finished:
            on, off = bit(Signal.FULL_WATCH), bit(Signal.SKIP)
        elif skipped and first:
            on = bit(Signal.SKIP)
        events = self._count(video, on=on, off=off, seconds=seconds, loops=loops, visit=True)
        self.person.learn(w, video, WATCH_RATE * watch_strength(seconds, duration, loops), forget=True)
        self._commit("impression", video, seconds, loops, events)
        return events

    def react(self, video: int, kind: str, *, hashtag: int | None = None, text: str | None = None) -> list[Event]:
        """A reaction to ``video`` (``kind`` in :data:`REACTIONS`). Repeating a state
        reaction (like twice, unlike without a like, ...) changes nothing and returns
        []. A second share or comment is journaled but not counted again (a comment's
        text is kept with the person's state). ``mute_hashtag`` mutes ``hashtag``, by
        default the video's first topic tag. ``comment`` needs ``text`` (1 to
        ``COMMENT_MAX_CHARS`` characters)."""
        if kind not in REACTIONS:
            raise UsageError(f"unknown reaction {kind!r} (one of: {', '.join(REACTIONS)})")
        video = self._check_video(video)
        p, w, rs = self.person, self.world, self.rs
        rs.grow(w)  # (a creator or hashtag made since: someone's own account, a new tag)
        creator = int(w.video_creator[video])
        strength = REACTION_STRENGTH[kind]
        on = off = 0
        if kind == "comment":
            said = " ".join("".join(c if c.isprintable() else " " for c in (text or "")).split())
            if not said:
                raise UsageError("a comment needs some text")
            if len(said) > COMMENT_MAX_CHARS:
                raise UsageError(f"a comment is at most {COMMENT_MAX_CHARS} characters, got {len(said)}")
            again = self.has(video, Signal.COMMENT)
            p.comments.append((video, said))
            del p.comments[:-COMMENTS_KEPT]
            if not again:  # (a second comment: journaled and kept, not counted or learned again)
                p.learn(w, video, strength)
            events = self._count(video, on=bit(Signal.COMMENT))
            self._commit(kind, video, 0.0, 0, events)
            return events
        if kind == "like":
            if video in p.liked:
                return []
            p.liked.add(video)
            on = bit(Signal.LIKE)
        elif kind == "unlike":
            if video not in p.liked:
                return []
            p.liked.discard(video)
            off = bit(Signal.LIKE)
        elif kind == "favourite":
            if video in p.favourites:
                return []
            p.favourites.add(video)
            on = bit(Signal.FAVOURITE)
        elif kind == "unfavourite":
            if video not in p.favourites:
                return []
            p.favourites.discard(video)
            off = bit(Signal.FAVOURITE)
        elif kind == "share":
            on = bit(Signal.SHARE)  # (a second share: the same bit, nothing new to count)
        elif kind == "follow":
            if creator in p.follows:
                return []
            p.follows.add(creator)
            rs.followed[creator] = True
            w.creator_followers[creator] += 1
            on = bit(Signal.FOLLOW)
        elif kind == "unfollow":
            if creator not in p.follows:
                return []
            p.follows.discard(creator)
            rs.followed[creator] = False
            w.creator_followers[creator] = max(int(w.creator_followers[creator]) - 1, 0)
            # the follow is taken back where it was counted (this video, or another of the creator's)
            where = self.ledger.followed_on(w, creator, prefer=video)
            events = [] if where is None else self._count(where, off=bit(Signal.FOLLOW))
            p.learn(w, video, strength)
            self._commit(kind, video, 0.0, 0, events)
            return events
        else:  # the "not interested" family
            if kind == "not_interested_video":
                p.ni_videos.add(video)
                rs.ni_video[video] = True
            elif kind == "not_interested_creator":
                p.ni_creators.add(creator)
                rs.ni_creator[creator] = True
            elif kind == "not_interested_sound":
                sound = int(w.video_sound[video])
                p.ni_sounds.add(sound)
                rs.ni_sound[sound] = True
            else:  # mute_hashtag
                tag = self._hashtag_to_mute(video, hashtag)
                p.muted_hashtags.add(tag)
                rs.muted[tag] = True
            on = bit(Signal.NOT_INTERESTED)
        if kind == "mute_hashtag":
            topic = int(w.hashtag_topic[self._hashtag_to_mute(video, hashtag)])
            if topic >= 0:
                p.learn_topic(topic, strength)
        else:
            p.learn(w, video, strength)
        events = self._count(video, on=on, off=off)
        self._commit(kind, video, 0.0, 0, events)
        return events

    def found_early(self) -> list[tuple[int, int]]:
        """``(video, tier now)`` of the videos the person watched among their first viewers
        that have climbed since (tier 1 or more), highest tier first, then the newest.
        A memory, not a credit: they climbed with or without the person."""
        w = self.world
        seen = dict.fromkeys(reversed(self.person.found_early))  # newest first, once each
        out = [(v, int(w.video_tier[v])) for v in seen if 0 <= v < w.n_videos and int(w.video_tier[v]) >= 1]
        return sorted(out, key=lambda vt: -vt[1])

    def posted(self, video: int) -> None:
        """Journal the person's own upload of ``video`` (committed before it returns: the
        journal writes the new video's rows with it, so a post survives a crash)."""
        self._commit("post", self._check_video(video), 0.0, 0, [])

    def has(self, video: int, signal: Signal) -> bool:
        """Whether the person's impression of ``video`` holds ``signal`` (e.g. shared)."""
        e = self.ledger.get(int(video))
        return e is not None and bool(e.flags & bit(signal))

    def _count(
        self, video: int, *, on: int = 0, off: int = 0, seconds: float = 0.0, loops: int = 0, visit: bool = False
    ) -> list[Event]:
        """Change the person's impression of ``video`` and count the change (see :mod:`~fyp_tui.engine.ledger`)."""
        w = self.world
        if self.ledger.get(video) is None and self.is_first_viewer(video):
            early = self.person.found_early
            early.append(int(video))  # the impression that opens now is an early one
            del early[:-FOUND_EARLY_KEPT]
        delta, in_tier = self.ledger.change(w, video, on=on, off=off, seconds=seconds, loops=loops, visit=visit)
        if not delta.any() and not seconds:
            return []
        return ladder.record(w, self.params, video, delta, seconds, w.clock, tier=in_tier, people=(self.ledger,))

    # -- the person's settings -------------------------------------------------------------
    def onboard(self, topics: Sequence[int]) -> None:
        """Onboarding: start from these interest topics (empty: from popular videos)."""
        topics = [int(t) for t in topics]
        for t in topics:
            if not 0 <= t < self.world.n_topics:
                raise UsageError(f"no topic with id {t}")
        self.person.onboard(topics)
        self._save()

    def refresh(self) -> None:
        """Refresh: reset the learned interests; follows and filters stay."""
        self.person.reset_interests()
        self._save()

    def set_knob(self, knob: float) -> None:
        """The echo-chamber knob, 0 (pure exploitation) .. 1 (mostly exploration)."""
        knob = float(knob)
        if not 0.0 <= knob <= 1.0:
            raise UsageError(f"the echo-chamber knob must be between 0 and 1, got {knob}")
        self.person.knob = knob
        self._save()

    def set_device(self, device: int) -> None:
        """The person's device (an index into ``world.device_names``): it counts weakly,
        a large screen fitting longer videos, a phone shorter ones."""
        device = int(device)
        if not 0 <= device < max(len(self.world.device_names), 1):
            raise UsageError(f"no device with id {device}")
        self.person.device = device
        self._save()

    # -- questions -------------------------------------------------------------------------
    def explain(self, video: int) -> Explanation:
        """Why ``video`` (recommended or not): its score's named contributions now,
        its tier, budget progress and distance to the promotion bar."""
        video = self._check_video(video)
        history = self.person.history
        # the window the video was ranked against: what came before it
        try:
            at = len(history) - 1 - history[::-1].index(video)
        except ValueError:
            at = len(history)
        recent = np.asarray(history[max(0, at - self.ranking.window) : at], np.int64)
        self.rs.refresh(self.world)
        scored = score(self.world, self.rs, self.person, np.array([video]), recent)
        picked = self._picked.get(video)
        if picked is not None:
            flags, boost, broad = picked
        else:
            flags, boost, broad = (
                int(sources_of(self.world, self.rs, self.person, np.array([video]), self.world.clock)[0]),
                None,
                False,
            )
        return build_explanation(
            self.world,
            self.params,
            scored,
            0,
            flags=flags,
            explore_boost=boost,
            first_viewer=self.is_first_viewer(video),
            broad=broad,
        )

    def is_first_viewer(self, video: int) -> bool:
        """The video is in its test pool (tier 0, few views): the person is one of its
        first viewers."""
        return bool(is_test_pool(self.world, self.ranking, np.array([int(video)]))[0])

    def topic_diversity(self, n: int = 50) -> float:
        """Topic entropy (bits) of the last ``n`` videos shown: the echo-chamber meter."""
        return self.person.recent_topic_diversity(self.world, n)

    # -- internals -------------------------------------------------------------------------
    def _check_video(self, video: int) -> int:
        video = int(video)
        if not 0 <= video < self.world.n_videos:
            raise UsageError(f"no video with id {video}")
        return video

    def _hashtag_to_mute(self, video: int, hashtag: int | None) -> int:
        tags = [int(t) for t in self.world.video_tags[video] if t >= 0]
        if hashtag is not None:
            if not 0 <= int(hashtag) < self.world.n_hashtags:
                raise UsageError(f"no hashtag with id {hashtag}")
            return int(hashtag)
        if not tags:
            raise UsageError(f"video {video} has no hashtag to mute")
        topical = [t for t in tags if self.world.hashtag_topic[t] >= 0]
        return (topical or tags)[0]

    def _remember(self, video: int, flags: int, boost: float | None, broad: bool = False) -> None:
        self._picked[video] = (flags, boost, broad)
        while len(self._picked) > 512:
            self._picked.popitem(last=False)

    def _commit(self, kind: str, video: int, seconds: float, loops: int, events: list[Event]) -> None:
        if self.journal is not None:
            self.journal.record(
                self.profile_id, kind, video, seconds, loops, self.world.clock, self.person.to_dict(seen=False), events
            )

    def _save(self) -> None:
        if self.journal is not None:
            self.journal.save_state(self.profile_id, self.person.to_dict(seen=False))
