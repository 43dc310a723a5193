"""Procedural "video" frames: an animation drawn from a video's id, topic and sound.

Pure numpy, no Textual: :func:`art_spec` turns (video, topic, sound) into a few
numbers (pattern, palette hues, speed, the sound's beat); :func:`frame` draws one
frame as a grid of palette indices, two pixels per terminal cell (the top and
bottom halves of ``▀``). The same inputs always give the same frame, so a frozen
frame is just a fixed ``t``.

Patterns: plasma, rings, equaliser bars, waves, blobs, spiral. The topic sets the
hue family, the id the pattern and its frequencies, the sound the beat (bpm) that
pulses the brightness, so videos on one sound share a rhythm.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

LEVELS = 8  # palette entries per video
PATTERNS = ("plasma", "rings", "bars", "waves", "blobs", "spiral")
TAU = 2 * np.pi


def _mix(x: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an int (stable across runs)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _unit(h: int, k: int) -> float:
    """The k-th uniform [0, 1) number drawn from hash ``h``."""
    return (_mix(h + k * 0x632BE59BD9B4E019) >> 11) / float(1 << 53)


@dataclass(frozen=True, slots=True)
class ArtSpec:
    pattern: int
    hue: float  # 0..1, from the topic
    accent: float  # 0..1, second hue for the brightest levels
    speed: float  # animation speed multiplier
    bpm: float  # the sound's beat
    fx: float
    fy: float
    phase: float
    count: int  # bars, blobs, waves or spiral arms

    @property
    def pattern_name(self) -> str:
        return PATTERNS[self.pattern]


def art_spec(video: int, topic: int, sound: int) -> ArtSpec:
    h = _mix(video * 7919 + 1)
    s = _mix(sound * 104729 + 2)
    topic_hue = (topic * 0.6180339887) % 1.0  # golden-ratio spread over topics
    return ArtSpec(
        pattern=int(_unit(h, 0) * len(PATTERNS)),
        hue=(topic_hue + (_unit(h, 1) - 0.5) * 0.12) % 1.0,
        accent=(topic_hue + 0.33 + _unit(h, 2) * 0.34) % 1.0,
        speed=0.6 + 0.9 * _unit(h, 3),
        bpm=72 + int(_unit(s, 0) * 80),
        fx=1.0 + 2.5 * _unit(h, 4),
        fy=1.0 + 2.5 * _unit(h, 5),
        phase=_unit(h, 6) * TAU,
        count=3 + int(_unit(h, 7) * 5),
    )


def palette(spec: ArtSpec) -> list[str]:
    """``LEVELS`` hex colours, dark to bright: the topic's hue, topped by the accent."""
    out = []
    for i in range(LEVELS):
        f = i / (LEVELS - 1)
        hue = spec.hue if f < 0.7 else spec.accent
        r, g, b = colorsys.hsv_to_rgb(hue, 0.85 - 0.35 * f * f, 0.12 + 0.88 * f)
        out.append(f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}")
    return out


def beat(spec: ArtSpec, t: float) -> float:
    """0..1 pulse on the sound's beat (sharp attack, quick decay)."""
    frac = (t * spec.bpm / 60.0) % 1.0
    return float(np.exp(-5.0 * frac))


_GRIDS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _grid(w: int, h2: int) -> tuple[np.ndarray, np.ndarray]:
    key = (w, h2)
    g = _GRIDS.get(key)
    if g is None:
        x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
        # a cell is about twice as tall as wide: half-block pixels are square-ish
        y = np.linspace(0.0, h2 / max(w, 1), h2, dtype=np.float32)[:, None]
        g = _GRIDS[key] = (np.broadcast_to(x, (h2, w)), np.broadcast_to(y, (h2, w)))
    return g


def field(spec: ArtSpec, w: int, h2: int, t: float) -> np.ndarray:
    """Intensity in [0, 1], shape (h2, w): h2 pixel rows (two per cell row)."""
    x, y = _grid(w, h2)
    ymax = float(y[-1, 0]) if h2 else 1.0
    yn = y / max(ymax, 1e-6)  # 0..1 top to bottom
    ts = t * spec.speed
    p = spec.pattern
    if p == 0:  # plasma
        v = (
            np.sin(x * spec.fx * TAU + ts * 1.3 + spec.phase)
            + np.sin(yn * spec.fy * TAU - ts * 0.9)
            + np.sin((x + yn) * (spec.fx + spec.fy) * 2.0 + ts)
            + np.sin(np.hypot(x - 0.5 - 0.3 * np.sin(ts * 0.4), yn - 0.5) * 9.0 - ts * 2.0)
        )
        v = (v + 4.0) / 8.0
    elif p == 1:  # rings from a wandering centre
        cx = 0.5 + 0.3 * np.sin(ts * 0.7 + spec.phase)
        cy = 0.5 + 0.3 * np.cos(ts * 0.5)
        r = np.hypot(x - cx, (yn - cy) * ymax)
        v = 0.5 + 0.5 * np.sin(r * (10 + 6 * spec.fx) - ts * 3.0)
    elif p == 2:  # equaliser bars
        n = spec.count + 4
        col = np.minimum((x * n).astype(np.int32), n - 1)
        k = np.arange(n, dtype=np.float32)
        heights = 0.25 + 0.65 * np.abs(np.sin(ts * (1.0 + 0.37 * k) + k * spec.phase))
        height = heights[col]
        lit = (1.0 - yn) < height
        gap = (x * n) % 1.0 > 0.8
        v = np.where(lit & ~gap, 0.45 + 0.55 * (1.0 - yn), 0.08 * yn)
    elif p == 3:  # waves
        v = np.zeros_like(x)
        for i in range(spec.count):
            centre = (i + 0.5) / spec.count + 0.08 * np.sin(x * spec.fx * TAU * (1 + i * 0.3) + ts * (1 + 0.2 * i) + i)
            v = v + np.exp(-(((yn - centre) / 0.07) ** 2))
        v = np.minimum(v, 1.0) * 0.9 + 0.05
    elif p == 4:  # blobs
        v = np.zeros_like(x)
        for i in range(spec.count):
            bx = 0.5 + 0.38 * np.sin(ts * (0.5 + 0.13 * i) + i * 2.1 + spec.phase)
            by = 0.5 + 0.38 * np.cos(ts * (0.4 + 0.11 * i) + i * 1.3)
            v = v + 0.012 / ((x - bx) ** 2 + ((yn - by) * ymax) ** 2 + 0.004)
        v = np.minimum(v / 3.0, 1.0)
    else:  # spiral
        dx, dy = x - 0.5, (yn - 0.5) * ymax
        ang = np.arctan2(dy, dx)
        r = np.hypot(dx, dy) + 1e-3
        v = 0.5 + 0.5 * np.sin(ang * spec.count + np.log(r) * 4.0 * spec.fx - ts * 2.5)
        v = v * np.minimum(1.0, r * 4.0)
    pulse = beat(spec, t)
    return np.clip(v * (0.72 + 0.28 * pulse), 0.0, 0.999)


def frame(spec: ArtSpec, w: int, h: int, t: float) -> np.ndarray:
    """Palette indices, shape (2*h, w): pixel rows for ``h`` cell rows.

    Pixels are two cells wide (a lo-fi video): half the drawing work, and runs of
    equal colour at least two cells long, which keeps the terminal output small.
    """
    if w <= 0 or h <= 0:
        return np.zeros((0, max(w, 0)), np.int8)
    half = (w + 1) // 2
    pix = (field(spec, half, 2 * h, t) * LEVELS).astype(np.int8)
    return np.repeat(pix, 2, axis=1)[:, :w]


def frame_runs(pix: np.ndarray) -> list[list[tuple[int, int, int]]]:
    """Run-length of every cell row of a frame: ``(length, top_index, bottom_index)``."""
    h2, w = pix.shape
    h = h2 // 2
    if h == 0 or w == 0:
        return [[] for _ in range(h)]
    pair = pix[0 : 2 * h : 2].astype(np.int16) * LEVELS + pix[1 : 2 * h : 2]
    change = np.ones((h, w), bool)
    change[:, 1:] = pair[:, 1:] != pair[:, :-1]
    rows, cols = np.nonzero(change)
    codes = pair[rows, cols].tolist()
    rows_l, cols_l = rows.tolist(), cols.tolist()
    out: list[list[tuple[int, int, int]]] = [[] for _ in range(h)]
    n = len(rows_l)
    for i in range(n):
        r, c = rows_l[i], cols_l[i]
        end = cols_l[i + 1] if i + 1 < n and rows_l[i + 1] == r else w
        code = codes[i]
        out[r].append((end - c, code // LEVELS, code % LEVELS))
    return out


def runs(top: np.ndarray, bottom: np.ndarray) -> list[tuple[int, int, int]]:
    """Run-length of one cell row: ``(length, top_index, bottom_index)``."""
    pair = top.astype(np.int16) * LEVELS + bottom
    if len(pair) == 0:
        return []
    cut = np.flatnonzero(np.diff(pair)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [len(pair)]))
    return [(int(e - s), int(top[s]), int(bottom[s])) for s, e in zip(starts, ends)]
