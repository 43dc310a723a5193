"""``fyp-tui post``: post a video as a profile's creator account, as the Studio does."""

from __future__ import annotations

import math

import click

from fyp_tui.cli import cli, db_option, echo, echo_json
from fyp_tui.errors import UsageError

#: fyp_tui.live.studio.DURATION_MIN / DURATION_MAX (not imported: keeps --help fast; a test checks they agree)
DURATION_MIN, DURATION_MAX = 5, 180
DEFAULT_DURATION = 20.0


def _root(ctx: click.Context, key: str):
    """``fyp-tui --KEY X post`` (the root's value, its default included)."""
    parent = ctx.parent
    return None if parent is None else parent.params.get(key)


def _topic_index(topics: list[str], name: str) -> int:
    key = name.strip().casefold()
    for i, t in enumerate(topics):
        if t.casefold() == key:
            return i
    if key.isdigit() and int(key) < len(topics):
        return int(key)
    raise UsageError(f"unknown topic {name!r} (one of: {', '.join(topics)})")


def _sound_index(n_sounds: int, text: str) -> int:
    try:
        s = int(text.strip())
    except ValueError:
        raise UsageError(f"--sound: {text!r} is not a sound id (0-{n_sounds - 1})") from None
    if not 0 <= s < n_sounds:
        raise UsageError(f"--sound: no sound {s} (0-{n_sounds - 1})")
    return s


@cli.command("post")
@click.option(
    "--profile", "profile_name", metavar="NAME", default=None, help="Who posts [default: fyp-tui's --profile]."
)
@click.option("--caption", required=True, metavar="TEXT", help="The video's caption (its words set its language).")
@click.option(
    "--hashtags",
    default="",
    metavar="a,b",
    help="Hashtags, comma- or space-separated, with or without # (new ones are created; may be empty).",
)
@click.option("--sound", metavar="ID", default=None, help="A sound's id [default: an original sound, not trending].")
@click.option(
    "--duration",
    type=float,
    default=DEFAULT_DURATION,
    show_default=True,
    metavar="S",
    help=f"Seconds, {DURATION_MIN} to {DURATION_MAX}.",
)
@click.option("--topic", metavar="NAME", default=None, help="Its topic [default: the one its hashtags name].")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    metavar="N",
    help="Seed of the post's draws (its hidden quality, its second topic) [default: a random one, reported].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
@click.pass_context
def post_cmd(
    ctx: click.Context,
    profile_name: str | None,
    caption: str,
    hashtags: str,
    sound: str | None,
    duration: float,
    topic: str | None,
    seed: int | None,
    as_json: bool,
    db: str | None,
) -> None:
    """Post a video as the profile's own creator account (made by its first post), as
    the app's Studio does: it enters tier 0 at the world's clock and is saved at
    once; `simulate` or the app then runs the world on, and its audience decides."""
    if not caption.strip():
        raise UsageError("--caption is empty")
    if not math.isfinite(duration) or not DURATION_MIN <= duration <= DURATION_MAX:
        raise UsageError(f"--duration must be between {DURATION_MIN} and {DURATION_MAX} seconds (got {duration:g})")
    from fyp_tui.live.studio import parse_hashtags

    names = parse_hashtags(hashtags)  # a bad hashtag: one line, before the world is opened
    from fyp_tui.live.session import LiveSession
    from fyp_tui.store.io import WorldStore

    db = db if db is not None else _root(ctx, "db")
    profile = profile_name or _root(ctx, "profile") or "me"
    # the checks that need the world's names, before anything (a new profile) is written
    with WorldStore.open(db, lock=False) as store:
        topics = store.names("topic", "name")
        n_sounds = len(store.names("sound", "id"))
        tag_topic = dict(zip(store.names("hashtag", "name"), store.names("hashtag", "topic_id")))
    topic_id = _topic_index(topics, topic) if topic is not None else None  # (ids are the rows' order)
    if topic_id is None and not any(tag_topic.get(n, "None") != "None" for n in names):
        raise UsageError("give --topic (no hashtag names a topic)")
    sound_id = _sound_index(n_sounds, sound) if sound is not None else None
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**32)
    live = LiveSession(db, profile, seed=seed)
    try:
        live.open()
        studio = live.studio
        if sound_id is None:
            sound_id = studio.default_sound()
        try:
            video, _items = live.feed.submit(
                lambda: studio.post_video(
                    caption=caption, hashtags=hashtags, sound=sound_id, duration=duration, topic=topic_id
                )
            ).result()
        except UsageError as exc:
            raise UsageError(f"cannot post: {exc}") from None
        w = live.world
        c = int(w.video_creator[video])
        account = studio.account()
        out = {
            "video_id": int(video),
            "creator": w.creator_handles[c],
            "creator_id": c,
            "tier": int(w.video_tier[video]),
            "profile": profile,
            "caption": w.video_captions[video],
            "hashtags": [w.hashtag_names[h] for h in w.video_tags[video] if h >= 0],
            "topic": w.topic_names[int(w.video_topics[video, 0])],
            "sound": int(w.video_sound[video]),
            "sound_title": w.sound_titles[int(w.video_sound[video])],
            "duration": float(w.video_duration[video]),
            "language": w.language_codes[int(w.video_language[video])],
            "followers": account.followers,
            "clock": float(w.clock),
            "seed": seed,
        }
        live.checkpoints.final_save()
    finally:
        live.close()
    if as_json:
        echo_json(out)
    else:
        tags = " ".join("#" + t for t in out["hashtags"])
        echo(
            f"posted video {out['video_id']} as @{out['creator']} ({out['followers']} followers): "
            f"tier {out['tier']}, {out['topic']}, {out['duration']:g} s, {out['language']}"
            + (f", {tags}" if tags else "")
            + f"\n  its test audience meets it as the world runs (fyp-tui simulate, or the app); "
            f"fyp-tui explain {out['video_id']} follows it"
        )
