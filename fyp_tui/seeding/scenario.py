"""Scenario files: a TOML description of a world to seed, validated key by key.

A scenario file has three parts::

    name = "demo"              # optional; defaults to the file's stem
    description = "..."        # optional, one line
    seed = 42                  # default seed (``fyp-tui seed --seed`` overrides)

    [world]                    # sizes and shapes of the generated world (WORLD_KEYS)
    n_videos = 20000
    ...

    [engine]                   # optional; passed verbatim to EngineParams.from_dict

Every ``[world]`` key has a default and a documented meaning (``WORLD_KEYS``);
unknown keys and bad values raise :class:`~fyp_tui.errors.UsageError` naming the
key, e.g. ``tiny.toml: world.n_videos must be an integer >= 1, got -5``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fyp_tui.errors import UsageError
from fyp_tui.seeding.vocab import COUNTRIES, DEVICES, TOPICS
from fyp_tui.text import clip

TOP_LEVEL_KEYS = ("name", "description", "seed", "world", "engine")


@dataclass(frozen=True)
class Key:
    kind: str  # "int", "float", "str_list", "float_list"
    default: Any
    doc: str
    lo: float | None = None  # inclusive lower bound
    hi: float | None = None  # inclusive upper bound


#: Every key of a scenario's ``[world]`` table: kind, default, meaning, bounds.
WORLD_KEYS: dict[str, Key] = {
    # -- sizes ------------------------------------------------------------------------
    "n_topics": Key(
        "int", 25, f"number of topics, taken in order from the built-in list of {len(TOPICS)}", 3, len(TOPICS)
    ),
    "n_creators": Key("int", 2000, "simulated creators", 1, 10_000_000),
    "n_videos": Key("int", 20000, "videos uploaded before the clock starts", 1, 50_000_000),
    "n_viewers": Key("int", 100_000, "simulated viewers (the audience)", 1, 50_000_000),
    "n_sounds": Key("int", 400, "sounds (licensed tracks and creators' original audio)", 1, 10_000_000),
    "hashtags_per_topic": Key("int", 20, "hashtags in each topic's vocabulary (besides the generic ones)", 1, 100),
    # -- places and devices -----------------------------------------------------------
    "countries": Key(
        "str_list",
        ["US", "GB", "DE", "FR", "ES", "MX", "BR", "JP"],
        "ISO country codes; each brings its language and Faker locale (" + ", ".join(COUNTRIES) + ")",
    ),
    "country_weights": Key(
        "float_list",
        [],
        "relative share of creators and viewers per country, same order as countries; empty: 1/rank",
        0,
    ),
    "english_share": Key(
        "float",
        0.15,
        "share of creators and viewers outside English-speaking countries who post/watch in English",
        0,
        1,
    ),
    "devices": Key("str_list", list(DEVICES), "device names of the audience"),
    "device_weights": Key(
        "float_list", [0.45, 0.5, 0.05], "relative share of viewers per device, same order as devices", 0
    ),
    # -- time -------------------------------------------------------------------------
    "history_days": Key(
        "float", 7.0, "the seeded videos' upload times spread over this many days before t=0", 0.01, 3650
    ),
    "upload_pace": Key(
        "float", 1.0, "simulated uploads per hour after t=0, as a multiple of the seeded history's pace", 0, 1000
    ),
    "warmup_hours": Key(
        "float",
        24.0,
        "hours the engine runs before t=0 while seeding, so a new world opens with its pools at work (at most half the history)",
        0,
        24 * 60,
    ),
    # -- creators ---------------------------------------------------------------------
    "follower_alpha": Key(
        "float", 1.1, "Pareto tail index of follower counts (lower: a few creators get huger)", 0.3, 10
    ),
    "follower_scale": Key("float", 800.0, "scale of follower counts (a typical small creator's followers)", 1, 1e9),
    "follower_max": Key("int", 80_000_000, "cap on any creator's followers", 1, 10_000_000_000),
    "skill_a": Key("float", 2.0, "Beta(a, b) of creators' hidden skill: a", 0.05, 100),
    "skill_b": Key("float", 5.0, "Beta(a, b) of creators' hidden skill: b (b > a: most creators mediocre)", 0.05, 100),
    "creator_focus": Key("float", 0.8, "probability a video's main topic is its creator's topic", 0, 1),
    "topic_skew": Key(
        "float", 0.6, "spread (lognormal sigma) of topic popularity; 0: all topics equally popular", 0, 5
    ),
    # -- videos -----------------------------------------------------------------------
    "quality_noise": Key("float", 0.1, "std dev of a video's hidden quality around its creator's skill", 0, 1),
    "duration_median": Key("float", 20.0, "median video duration, seconds", 1, 600),
    "duration_sigma": Key("float", 0.65, "lognormal sigma of durations (larger: longer tail)", 0, 5),
    "duration_min": Key("float", 5.0, "shortest video, seconds", 1, 600),
    "duration_max": Key("float", 180.0, "longest video, seconds", 1, 3600),
    # -- sounds and hashtags ----------------------------------------------------------
    "sound_zipf": Key(
        "float", 1.1, "Zipf exponent of sound popularity (higher: a few sounds used by more videos)", 0, 5
    ),
    "original_sound_share": Key("float", 0.35, "share of sounds that are a creator's original audio", 0, 1),
    "generic_tag_share": Key("float", 0.6, "share of videos carrying a generic tag (#fyp, #viral ...)", 0, 1),
    "tag_zipf": Key("float", 0.9, "Zipf exponent of tag popularity within a topic", 0, 5),
    # -- audience ---------------------------------------------------------------------
    "interest_concentration": Key(
        "float", 0.5, "Dirichlet alpha of each viewer's 3 topic weights (lower: one topic dominates)", 0.01, 100
    ),
    "activity_mean": Key("float", 2.0, "mean impressions per viewer per simulated hour", 0, 1000),
    "activity_sigma": Key("float", 1.0, "lognormal sigma of viewer activity (heavy users vs lurkers)", 0, 5),
    "like_propensity_sigma": Key("float", 0.4, "lognormal sigma of viewers' hidden propensity to react", 0, 5),
    "pref_noise": Key(
        "float",
        0.35,
        "how far the platform's learned estimate of a viewer's interests is from the truth (0 exact, 1 noise)",
        0,
        1,
    ),
    # -- vocabularies -----------------------------------------------------------------
    "vocab_size": Key("int", 150, "Faker names and handles drawn per locale (bulk rows combine them)", 10, 100_000),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    world: dict[str, Any]  # every WORLD_KEYS key, validated, defaults filled in
    engine: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def __getattr__(self, key: str) -> Any:  # scenario.n_videos == scenario.world["n_videos"]
        world = self.__dict__.get("world")
        if world is not None and key in world:
            return world[key]
        raise AttributeError(key)


def builtin_scenarios() -> list[str]:
    root = resources.files("fyp_tui") / "seeds"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name (``tiny``, ``demo``, ``large`` ...) or a TOML file path."""
    from fyp_tui.files import parse_toml

    text, label, path = _read(name_or_path)
    data = parse_toml(text, label)
    default_name = Path(label).stem
    return parse_scenario(data, label=label, default_name=default_name, path=path)


def _read(name_or_path: str) -> tuple[str, str, str | None]:
    from fyp_tui.files import read_text

    looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
    if looks_like_path or _is_file(name_or_path):
        text, p = read_text(name_or_path, "scenario file", missing=f"scenario file not found: {clip(name_or_path)}")
        return text, p.name, os.path.abspath(p)
    if name_or_path not in builtin_scenarios():
        known = ", ".join(builtin_scenarios())
        raise UsageError(f"unknown scenario {clip(name_or_path)!r} (built-in: {known}; or give a .toml path)")
    res = resources.files("fyp_tui") / "seeds" / f"{name_or_path}.toml"
    return res.read_text(encoding="utf-8"), f"{name_or_path}.toml", None


def _is_file(name: str) -> bool:
    """A file of that name is here (a name no file can have is not one)."""
    try:
        return Path(name).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):
        return False


def parse_scenario(
    data: dict, *, label: str = "scenario", default_name: str = "custom", path: str | None = None
) -> Scenario:
    """Validate a parsed scenario table (see module doc); UsageError names the bad key."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise UsageError(f"{label}: unknown key {key!r} (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"{label}: name must be a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise UsageError(f"{label}: description must be a string, got {description!r}")
    seed = data.get("seed", 0)
    if not _is_int(seed) or not 0 <= seed < 2**63:
        raise UsageError(f"{label}: seed must be an integer >= 0, got {seed!r}")
    world_in = data.get("world", {})
    if not isinstance(world_in, dict):
        raise UsageError(f"{label}: world must be a table ([world]), got {world_in!r}")
    engine = data.get("engine", {})
    if not isinstance(engine, dict):
        raise UsageError(f"{label}: engine must be a table ([engine]), got {engine!r}")

    world = validate_world(world_in, label=label)
    validate_engine(engine, label=label)
    return Scenario(name=name.strip(), description=description, seed=seed, world=world, engine=dict(engine), path=path)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


def _bounds(key: Key) -> str:
    if key.lo is not None and key.hi is not None:
        return f"between {_num(key.lo)} and {_num(key.hi)}"
    if key.lo is not None:
        return f">= {_num(key.lo)}"
    return ""


#: Devices a world may have (a viewer's device id is an int8).
MAX_DEVICES = 128

#: Simulated uploads per simulated hour a world may imply (large: about 1,200).
MAX_UPLOADS_PER_HOUR = 100_000


def validate_world(world_in: dict, *, label: str = "scenario") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in world_in.items():
        spec = WORLD_KEYS.get(key)
        if spec is None:
            raise UsageError(f"{label}: unknown key world.{key} (see the scenario keys in the README)")
        out[key] = _check(f"world.{key}", spec, value, label)
    for key, spec in WORLD_KEYS.items():
        if key not in out:
            out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default

    def bad(key: str, why: str) -> UsageError:
        return UsageError(f"{label}: world.{key} {why}")

    countries = out["countries"]
    if not countries:
        raise bad("countries", "must name at least one country")
    for c in countries:
        if c not in COUNTRIES:
            raise bad("countries", f"has unknown country {c!r} (known: {', '.join(COUNTRIES)})")
    if len(set(countries)) != len(countries):
        raise bad("countries", "lists a country twice")
    if out["country_weights"] and len(out["country_weights"]) != len(countries):
        raise bad(
            "country_weights", f"must have one weight per country ({len(countries)}), got {len(out['country_weights'])}"
        )
    if out["country_weights"] and sum(out["country_weights"]) <= 0:
        raise bad("country_weights", "must have a positive sum")
    devices = out["devices"]
    if not devices or len(set(devices)) != len(devices) or any(not d.strip() for d in devices):
        raise bad("devices", "must be a non-empty list of distinct names")
    if len(devices) > MAX_DEVICES:
        raise bad("devices", f"lists {len(devices)} devices; at most {MAX_DEVICES} are allowed")
    if len(out["device_weights"]) != len(devices):
        raise bad(
            "device_weights", f"must have one weight per device ({len(devices)}), got {len(out['device_weights'])}"
        )
    if sum(out["device_weights"]) <= 0:
        raise bad("device_weights", "must have a positive sum")
    if out["duration_min"] > out["duration_max"]:
        raise bad(
            "duration_min", f"({out['duration_min']:g}) must not exceed world.duration_max ({out['duration_max']:g})"
        )
    if not out["duration_min"] <= out["duration_median"] <= out["duration_max"]:
        raise bad("duration_median", "must lie between world.duration_min and world.duration_max")
    uploads_per_hour = out["n_videos"] / (out["history_days"] * 24.0) * out["upload_pace"]
    if uploads_per_hour > MAX_UPLOADS_PER_HOUR:
        raise bad(
            "upload_pace",
            f"with world.n_videos and world.history_days means {uploads_per_hour:,.0f} uploads per "
            f"simulated hour; at most {MAX_UPLOADS_PER_HOUR:,} are allowed",
        )
    return out


def _check(name: str, spec: Key, value: Any, label: str) -> Any:
    def fail(what: str) -> UsageError:
        return UsageError(f"{label}: {name} must be {what}, got {value!r}")

    if spec.kind == "int":
        if not _is_int(value):
            raise fail(f"an integer {_bounds(spec)}".rstrip())
        if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
            raise fail(f"an integer {_bounds(spec)}")
        return int(value)
    if spec.kind == "float":
        if not _is_num(value):
            raise fail(f"a number {_bounds(spec)}".rstrip())
        if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
            raise fail(f"a number {_bounds(spec)}")
        return float(value) + 0.0  # -0.0 -> 0.0 (numpy refuses a sigma of -0.0: "scale < 0")
    if spec.kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail("a list of strings")
        return list(value)
    if spec.kind == "float_list":
        hi = spec.hi if spec.hi is not None else 1e12  # keeps the sum finite (1e308 + 1e308 = inf)
        if not isinstance(value, list) or not all(_is_num(v) and 0 <= v <= hi for v in value):
            raise fail(f"a list of numbers between 0 and {_num(hi)}")
        return [float(v) + 0.0 for v in value]
    raise AssertionError(spec.kind)


def validate_engine(engine: dict, *, label: str = "scenario") -> Any:
    """Check the ``[engine]`` table with the engine's own parser, so bad keys fail at seed time."""
    try:
        from fyp_tui.engine.params import EngineParams
    except ImportError:  # TODO(ENGINE): remove once fyp_tui.engine.params lands
        return None
    try:
        return EngineParams.from_dict(engine)
    except UsageError as exc:
        raise UsageError(f"{label}: {_engine_msg(exc)}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{label}: {_engine_msg(exc)}") from None


def _engine_msg(exc: Exception) -> str:
    msg = str(exc).strip().strip("'\"") or type(exc).__name__
    return msg if "engine" in msg else f"engine: {msg}"


def scenario_keys_markdown() -> str:
    """The ``[world]`` keys as a markdown table (for the README)."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for key, spec in WORLD_KEYS.items():
        default = spec.default
        if isinstance(default, list):
            default = "[" + ", ".join(repr(v) if isinstance(v, str) else f"{v:g}" for v in default) + "]"
        lines.append(f"| `{key}` | `{default}` | {spec.doc} |")
    return "\n".join(lines)


Progress = Callable[[str, int, int], None]
