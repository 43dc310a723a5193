"""The classroom protocol, version 2 (version 1 still served): JSON messages over one websocket, and their checks.

Transport: a websocket at ``/ws`` on the host (aiohttp does the framing). Every
message is one text frame holding one JSON object of at most
:data:`MAX_MESSAGE_BYTES` bytes, with ``"v": 2`` (or ``1``).

Versions: a host serves every version in :data:`VERSIONS` (1 and 2). The ``v`` of a
connection's ``hello`` is the connection's version: every later request on it
carries the same ``v`` (another gets ``bad_version``), and the host's replies and
pushes carry it too. Version 2 adds posting (the ops marked v2 below, refused as
``unknown_op`` on a version-1 connection) and the Class data's ``posts``; a
version-1 connection is sent exactly what version 1 sent (no field of version 2).
A client that says ``hello`` with ``"v": 2`` to a host of version 1 only gets
``bad_version``, and says it again with ``"v": 1`` (:mod:`fyp_tui.host.client` does).

Client to host, a **request**::

    {"v": 2, "id": 7, "op": "react", "args": {"video": 12, "kind": "like"}}

``id`` is the client's integer (0 .. 2**31-1), echoed in the reply; ``args`` is an
object (may be left out when the op takes none). The first request on a
connection must be ``hello``; until it succeeds every other op is refused.

Host to client, a **reply** (one per request, in the order the requests came)::

    {"v": 2, "id": 7, "ok": true, "result": ...}
    {"v": 2, "id": 7, "ok": false, "error": {"code": "bad_args", "message": "..."}}

(``id`` is null when the request was too broken to have one), and **pushes**,
which carry no ``id``::

    {"v": 2, "push": "tick", "data": {"clock": 12.5, "paused": false, "pace": 60.0, "items": [...]}}
    {"v": 2, "push": "strip", "data": {"items": [...]}}

``tick`` comes after each clock tick (every half second) with the person's strip
lines; ``strip`` carries the lines of work done after a reply (the card left by
``next`` is recorded once the next card has been sent).

Ops (:data:`OPS` has their arguments; ``[v, s, l]`` is the card left: video,
seconds watched, loops):

============  ================================================  ===============================
op            args                                              result
============  ================================================  ===============================
hello         profile (str), token?, teacher_token?, watch?     {protocol, versions, profile, clock, ...}
begin         -                                                 CardData
next          leaving ([v, s, l] or null)                       [CardData or null, [StripItem]]
back          leaving                                           [CardData or null, [StripItem]]
watched       video, seconds, loops                             [StripItem]
react         video, kind, text? (a comment's)                  [CardData, [StripItem]]
counters      video                                             Counters
panel         video                                             [WhyData, SpreadData]
profile       -                                                 ProfileData
onboard       topics (list of int)                              null
knob          value (0..1)                                      the knob set
refresh       -                                                 null
overview      -                                                 WorldData
topics        -                                                 [str]
class         -                                                 ClassData
status        -                                                 {clock, live_videos, people}
pause         paused (bool); teacher only                       {paused, pace}
pace          pace (simulated minutes per real second); teacher {paused, pace}
post (v2)     caption, hashtags? (list of names), topic?,       {video_id, creator, tier, items}
              duration (seconds), sound
sounds (v2)   -                                                 [SoundChoice] (trending first)
hashtags (v2) -                                                 {names, topics, trends}
account (v2)  -                                                 CreatorAccount
my_videos(v2) -                                                 [PostedVideo] (newest first)
============  ================================================  ===============================

``post`` is the Studio's post (:meth:`fyp_tui.live.studio.Studio.post_video`) under
the connection's profile: its creator account is made at its first post; the
video enters tier 0 at the world's clock, and it is committed (with the account's
and new hashtags' rows) before the reply, so an acknowledged post survives the host
being killed. ``caption``: 1..:data:`~fyp_tui.live.studio.CAPTION_MAX` printable
characters; ``hashtags``: at most :data:`~fyp_tui.engine.world.TAGS_PER_VIDEO`
names (``#`` optional; new ones are created in the post's topic); ``topic`` (an
id; left out: the one its hashtags name); ``duration`` in
:data:`~fyp_tui.live.studio.DURATION_MIN`..:data:`~fyp_tui.live.studio.DURATION_MAX`;
``sound`` (an id). A post the Studio refuses (no topic and no hashtag naming one,
an unknown sound) gets ``bad_args`` with the Studio's one line. The reply: the
video's id, its creator's handle, its tier (0) and the strip's line. ``hashtags``
is the world's hashtags for completing the form (the trendiest
:data:`MAX_HASHTAGS_SENT`, with their topic, -1 for none, and trend);
``my_videos``, the person's newest :data:`MAX_MY_VIDEOS` posts as the Studio
follows them (``watched`` is false: the class's clock does not slow for a post).

``hello`` with ``watch: true`` joins without a profile (``fyp-tui host status``):
only ``status``, ``class``, ``overview``, ``pause`` and ``pace`` are open to it.
View data (:mod:`fyp_tui.live.views`) travels as ``{"$t": "CardData", field: value,
...}`` with tuples as lists (:func:`encode`, :func:`decode`).

The Class data (``class``) of version 2 also carries ``posts``: the class's posts,
newest first (:class:`ClassPost`).

Error codes: ``too_big``, ``bad_json``, ``bad_message``, ``bad_version``,
``unknown_op``, ``bad_args``, ``need_hello``, ``bad_token``, ``profile_in_use``,
``class_full``, ``not_teacher``, ``failed`` (the op itself failed, e.g. no card left), ``internal``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from fyp_tui.engine.feed import REACTIONS
from fyp_tui.engine.viewer import COMMENT_MAX_CHARS
from fyp_tui.engine.world import TAGS_PER_VIDEO
from fyp_tui.live import views
from fyp_tui.live.studio import CAPTION_MAX, DURATION_MAX, DURATION_MIN, HASHTAG_MAX_LEN

#: the protocol's newest version (what this build's clients say)
VERSION = 2
#: every version a host serves; a message with another ``v`` is refused
VERSIONS = (1, 2)
#: the person's posts ``my_videos`` sends (newest first)
MAX_MY_VIDEOS = 20
#: hashtags ``hashtags`` sends (the trendiest)
MAX_HASHTAGS_SENT = 5000
#: where a host listens for the protocol's websocket
WS_PATH = "/ws"
#: the largest message either side accepts, in bytes (a reply with a panel is a few KiB)
MAX_MESSAGE_BYTES = 64 * 1024
#: the largest request the host accepts (requests are small)
MAX_REQUEST_BYTES = 4 * 1024
#: a profile name: 1..32 letters, digits, ``_ . -`` (it is shown to the whole class)
PROFILE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}\Z")  # (\Z: "$" would let a final newline in)
MAX_ID = 2**31 - 1
MAX_VIDEO = 2**31 - 1
MAX_TOKEN = 256


class ProtocolError(Exception):
    """A message the host refuses: ``code`` and one line for the error reply."""

    def __init__(self, code: str, message: str, msg_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


# -- argument checks ----------------------------------------------------------------------
def _int(lo: int, hi: int):
    def check(name: str, x: Any) -> int:
        if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
            raise ProtocolError("bad_args", f"{name} must be an integer in {lo}..{hi}")
        return x

    return check


def _float(lo: float, hi: float):
    def check(name: str, x: Any) -> float:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not lo <= x <= hi:
            raise ProtocolError("bad_args", f"{name} must be a number in {lo:g}..{hi:g}")
        return float(x)

    return check


def _str(max_len: int, pattern: re.Pattern | None = None, choices: tuple[str, ...] = ()):
    def check(name: str, x: Any) -> str:
        if not isinstance(x, str) or not 0 < len(x) <= max_len:
            raise ProtocolError("bad_args", f"{name} must be a string of 1..{max_len} characters")
        if pattern is not None and not pattern.match(x):
            raise ProtocolError("bad_args", f"{name} has characters that are not allowed")
        if choices and x not in choices:
            raise ProtocolError("bad_args", f"{name} must be one of {', '.join(choices)}")
        return x

    return check


def _bool(name: str, x: Any) -> bool:
    if not isinstance(x, bool):
        raise ProtocolError("bad_args", f"{name} must be true or false")
    return x


def _leaving(name: str, x: Any) -> tuple[int, float, int] | None:
    if x is None:
        return None
    if not isinstance(x, list) or len(x) != 3:
        raise ProtocolError("bad_args", f"{name} must be [video, seconds, loops] or null")
    return (_int(0, MAX_VIDEO)(name, x[0]), _float(0, 86_400)(name, x[1]), _int(0, 10_000)(name, x[2]))


def _topics(name: str, x: Any) -> list[int]:
    if not isinstance(x, list) or len(x) > 64:
        raise ProtocolError("bad_args", f"{name} must be a list of at most 64 topic ids")
    return [_int(0, 10_000)(name, t) for t in x]


def _caption(name: str, x: Any) -> str:
    text = _str(CAPTION_MAX)(name, x)
    if not text.isprintable():
        raise ProtocolError("bad_args", f"{name} has characters that are not allowed")
    return text


_HASHTAG = re.compile(rf"^#?\w{{1,{HASHTAG_MAX_LEN}}}\Z")


def _hashtags(name: str, x: Any) -> list[str]:
    if not isinstance(x, list) or len(x) > TAGS_PER_VIDEO:
        raise ProtocolError("bad_args", f"{name} must be a list of at most {TAGS_PER_VIDEO} hashtags")
    return [_str(HASHTAG_MAX_LEN + 1, _HASHTAG)(name, t) for t in x]


_VIDEO = _int(0, MAX_VIDEO)


@dataclass(frozen=True)
class Op:
    """An op's arguments: name -> (check, required)."""

    args: dict[str, tuple[Any, bool]]
    teacher: bool = False  # only a connection that showed the teacher token
    person: bool = True  # needs a profile (not open to a watcher)
    since: int = 1  # the protocol version that brought it


OPS: dict[str, Op] = {
    "hello": Op(
        {
            "profile": (_str(32, PROFILE_RE), False),
            "token": (_str(MAX_TOKEN), False),
            "teacher_token": (_str(MAX_TOKEN), False),
            "watch": (_bool, False),
        },
        person=False,
    ),
    "begin": Op({}),
    "next": Op({"leaving": (_leaving, True)}),
    "back": Op({"leaving": (_leaving, True)}),
    "watched": Op({"video": (_VIDEO, True), "seconds": (_float(0, 86_400), True), "loops": (_int(0, 10_000), True)}),
    "react": Op(
        {
            "video": (_VIDEO, True),
            "kind": (_str(32, choices=REACTIONS), True),
            "text": (_str(COMMENT_MAX_CHARS), False),  # a comment's
        }
    ),
    "counters": Op({"video": (_VIDEO, True)}),
    "panel": Op({"video": (_VIDEO, True)}),
    "profile": Op({}),
    "onboard": Op({"topics": (_topics, True)}),
    "knob": Op({"value": (_float(0.0, 1.0), True)}),
    "refresh": Op({}),
    "overview": Op({}, person=False),
    "topics": Op({}),
    "class": Op({}, person=False),
    "status": Op({}, person=False),
    "pause": Op({"paused": (_bool, True)}, teacher=True, person=False),
    "pace": Op({"pace": (_float(0.1, 1440.0), True)}, teacher=True, person=False),
    "post": Op(
        {
            "caption": (_caption, True),
            "hashtags": (_hashtags, False),
            "topic": (_int(0, 10_000), False),
            "duration": (_float(DURATION_MIN, DURATION_MAX), True),
            "sound": (_int(0, MAX_VIDEO), True),
        },
        since=2,
    ),
    "sounds": Op({}, since=2),
    "hashtags": Op({}, since=2),
    "account": Op({}, since=2),
    "my_videos": Op({}, since=2),
}


@dataclass(frozen=True)
class Request:
    id: int
    op: str
    args: dict[str, Any]
    v: int = VERSION


def parse_request(raw: str | bytes, version: int | None = None) -> Request:
    """A request checked against :data:`OPS`; :class:`ProtocolError` for anything else.
    ``version``: the connection's (its hello's ``v``), None before the hello."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise ProtocolError("too_big", f"a request is at most {MAX_REQUEST_BYTES} bytes")
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
        raise ProtocolError("bad_json", "not a JSON message") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_message", "a message is a JSON object")
    msg_id = msg.get("id")
    if isinstance(msg_id, bool) or not isinstance(msg_id, int) or not 0 <= msg_id <= MAX_ID:
        raise ProtocolError("bad_message", f"id must be an integer in 0..{MAX_ID}")
    v = msg.get("v")
    if isinstance(v, bool) or v not in VERSIONS:
        raise ProtocolError(
            "bad_version", f"this host speaks protocol versions {', '.join(map(str, VERSIONS))}", msg_id
        )
    if version is not None and v != version:
        raise ProtocolError("bad_version", f"this connection speaks protocol version {version} (its hello's)", msg_id)
    unknown = set(msg) - {"v", "id", "op", "args"}
    if unknown:
        raise ProtocolError("bad_message", "unknown keys in the message", msg_id)
    op = msg.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError("unknown_op", "unknown op", msg_id)
    if OPS[op].since > v:
        raise ProtocolError("unknown_op", f"{op} needs protocol version {OPS[op].since}", msg_id)
    args = msg.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError("bad_args", "args must be an object", msg_id)
    spec = OPS[op].args
    extra = set(args) - set(spec)
    if extra:
        raise ProtocolError("bad_args", f"{op} takes no argument {sorted(extra)[0][:32]!r}", msg_id)
    checked: dict[str, Any] = {}
    try:
        for name, (check, required) in spec.items():
            if name in args:
                checked[name] = check(name, args[name])
            elif required:
                raise ProtocolError("bad_args", f"{op} needs {name}")
    except ProtocolError as exc:
        exc.msg_id = msg_id
        raise
    return Request(msg_id, op, checked, v)


# -- messages out -------------------------------------------------------------------------
def dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def reply(msg_id: int, result: Any, v: int = VERSION) -> str:
    return dumps({"v": v, "id": msg_id, "ok": True, "result": encode(result, v)})


def error(msg_id: int | None, code: str, message: str, v: int = VERSION) -> str:
    return dumps({"v": v, "id": msg_id, "ok": False, "error": {"code": code, "message": message[:300]}})


def push(kind: str, data: Any, v: int = VERSION) -> str:
    return dumps({"v": v, "push": kind, "data": encode(data, v)})


def request(msg_id: int, op: str, /, *, version: int = VERSION, **args: Any) -> str:
    return dumps({"v": version, "id": msg_id, "op": op, "args": args})


# -- view data ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClassPerson(views.Printable):
    """One person of the class, as the Class screen shows them."""

    profile: str
    connected: bool
    cards: int
    reactions: int
    tips: int
    diversity: float  # the echo-chamber meter: 0 (one topic) .. 1 (every topic)
    knob: float


@dataclass(frozen=True, slots=True)
class Pushed(views.Printable):
    """A decision a person of the class tipped."""

    time: float
    profile: str
    text: str


@dataclass(frozen=True, slots=True)
class ClassPost(views.Printable):
    """A video a person of the class posted (protocol version 2)."""

    time: float  # when it was posted, simulated hours
    profile: str
    video: int
    caption: str
    tier: int
    status: str  # active, stalled, top
    views: int


def since(version: int) -> Any:
    """A view field that a connection of an older protocol version is not sent."""
    return {"since": version}


@dataclass(frozen=True, slots=True)
class ClassData(views.Printable):
    """The class: who is in it, and the videos its reactions pushed (and, version 2, posted)."""

    clock: float
    paused: bool
    pace: float
    people: tuple[ClassPerson, ...]
    pushed: tuple[Pushed, ...]
    posts: tuple[ClassPost, ...] = field(default=(), metadata=since(2))


#: the dataclasses that travel (by name); nothing else is ever built from a message
VIEW_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        views.CardData,
        views.Counters,
        views.Contribution,
        views.WhyData,
        views.TierStep,
        views.SpreadData,
        views.ProfileData,
        views.WorldData,
        views.StripItem,
        views.PostedVideo,
        views.SoundChoice,
        views.CreatorAccount,
        ClassPerson,
        Pushed,
        ClassPost,
        ClassData,
    )
}


def encode(obj: Any, v: int = VERSION) -> Any:
    """``obj`` as JSON values: a view dataclass as an object tagged ``$t``, tuples as lists;
    for protocol version ``v`` (a field of a later version is left out)."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else 0.0
    if is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if name not in VIEW_TYPES:
            raise TypeError(f"{name} is not view data")
        out = {"$t": name}
        for f in fields(obj):
            if f.metadata.get("since", 1) <= v:
                out[f.name] = encode(getattr(obj, f.name), v)
        return out
    if isinstance(obj, (list, tuple)):
        return [encode(x, v) for x in obj]
    if isinstance(obj, dict):
        return {str(k): encode(x, v) for k, x in obj.items()}
    if hasattr(obj, "item"):  # a numpy scalar
        return encode(obj.item(), v)
    raise TypeError(f"cannot send a {type(obj).__name__}")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`: tagged objects back to view dataclasses, lists to tuples."""
    if isinstance(value, list):
        return tuple(decode(x) for x in value)
    if isinstance(value, dict):
        tag = value.get("$t")
        if tag is None:
            return {k: decode(v) for k, v in value.items()}
        cls = VIEW_TYPES.get(tag) if isinstance(tag, str) else None
        if cls is None:
            raise ProtocolError("bad_message", "unknown view type")
        names = {f.name for f in fields(cls)}
        kw = {k: decode(v) for k, v in value.items() if k != "$t"}
        if set(kw) - names:
            raise ProtocolError("bad_message", f"unknown fields in {tag}")
        try:
            return cls(**kw)
        except TypeError:
            raise ProtocolError("bad_message", f"a {tag} with missing fields") from None
    return value


def join_url(url: str) -> str:
    """The websocket address to join for what a person typed: ``host:port``,
    ``http://host:port`` and ``ws://host:port`` all mean that host's :data:`WS_PATH`
    (the address ``fyp-tui host`` prints, ``ws://host:port/ws``, is kept as it is)."""
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else WS_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, parts.fragment))
