"""``fyp-tui report --format html``: one self-contained page, charts in inline SVG.

No script, no stylesheet or font from elsewhere: the file reads the same offline, in
any browser, years later. Every string from the world (handles, captions, topic and
profile names) is escaped. The charts:

* interest drift: the learned interest of the topics that moved most, card by card;
* the echo-chamber meter: topic diversity of the last 50 videos, card by card, over
  its three zones (echo chamber, narrowing, varied);
* the spread of the videos found early: views when the person saw them among their
  first viewers, and views now (log scale), with their tiers.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from fyp_tui import __version__
from fyp_tui.cli.report import decision_line, drift_topics, meter, signed, top_topics, watch_time
from fyp_tui.fmt import sim_clock
from fyp_tui.live.summary import NARROWING, VARIED

COLOURS = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2")
W = 720  # the charts' viewBox width


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _ticks(hi: float, n: int = 4) -> list[float]:
    """About ``n`` round ticks from 0 to ``hi``."""
    if hi <= 0:
        return [0.0]
    raw = hi / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(hi / step) + 1)]


def _axis_x(n_cards: int, x: Any, y0: float, y1: float) -> list[str]:
    out = []
    for t in _ticks(float(n_cards)):
        px = x(t)
        out.append(f'<line x1="{px:.1f}" y1="{y0}" x2="{px:.1f}" y2="{y1}" class="grid"/>')
        out.append(f'<text x="{px:.1f}" y="{y1 + 16}" class="tick" text-anchor="middle">{t:g}</text>')
    return out


def drift_chart(data: dict[str, Any]) -> str:
    topics = drift_topics(data)
    if not topics:
        return '<p class="none">No learned interest moved this session.</p>'
    names = data["topics"]
    n = max(int(data["cards_watched"]), 1)
    points = [(0, data["interests_start"])]
    points += [(c["card"], c["interests"]) for c in data["cards"]]
    points.append((n, data["interests_end"]))
    peak = max(max(abs(p[1][i]) for p in points for i in topics), 0.1)
    step = _ticks(peak, 2)[1]
    top = step * math.ceil(peak / step - 1e-9)
    H, L, R, T, B = 280, 48, 170, 14, 34
    x = lambda c: L + (W - L - R) * c / n  # noqa: E731 (the chart's scales read best as lambdas)
    y = lambda v: T + (H - T - B) * (top - v) / (2 * top)  # noqa: E731
    parts = [f'<svg class="chart" id="chart-drift" viewBox="0 0 {W} {H}" role="img" aria-labelledby="drift-title">']
    parts.append('<title id="drift-title">Learned interest per topic, card by card</title>')
    for k in range(-round(top / step), round(top / step) + 1):
        v = k * step
        parts.append(
            f'<line x1="{L}" y1="{y(v):.1f}" x2="{W - R}" y2="{y(v):.1f}" class="{"zero" if k == 0 else "grid"}"/>'
        )
        parts.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">{v:+g}</text>')
    parts += _axis_x(n, x, T, H - B)
    parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 2}" class="label" text-anchor="middle">cards watched</text>')
    legend_y = T + 10
    for k, i in enumerate(topics):
        colour = COLOURS[k % len(COLOURS)]
        pts = " ".join(f"{x(c):.1f},{y(v[i] if i < len(v) else 0.0):.1f}" for c, v in points)
        parts.append(f'<polyline class="series" points="{pts}" stroke="{colour}"/>')
        end = data["interests_end"][i]
        parts.append(f'<rect x="{W - R + 14}" y="{legend_y - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{W - R + 32}" y="{legend_y - 4}" class="legend">{_e(names[i][:16])} {end:+.2f}</text>')
        legend_y += 20
    parts.append("</svg>")
    return "".join(parts)


def meter_chart(data: dict[str, Any]) -> str:
    n = max(int(data["cards_watched"]), 1)
    H, L, R, T, B = 240, 48, 20, 14, 34
    x = lambda c: L + (W - L - R) * c / n  # noqa: E731
    y = lambda v: T + (H - T - B) * (1.0 - v)  # noqa: E731
    parts = [f'<svg class="chart" id="chart-meter" viewBox="0 0 {W} {H}" role="img" aria-labelledby="meter-title">']
    parts.append('<title id="meter-title">Topic diversity of the last 50 videos, card by card</title>')
    for lo, hi, cls, name in (
        (0.0, NARROWING, "zone-echo", "echo chamber"),
        (NARROWING, VARIED, "zone-narrow", "narrowing"),
        (VARIED, 1.0, "zone-varied", "varied"),
    ):
        parts.append(f'<rect x="{L}" y="{y(hi):.1f}" width="{W - L - R}" height="{y(lo) - y(hi):.1f}" class="{cls}"/>')
        parts.append(f'<text x="{W - R - 6}" y="{y(hi) + 14:.1f}" class="zone-label" text-anchor="end">{name}</text>')
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">{v * 100:.0f}%</text>')
    parts += _axis_x(n, x, T, H - B)
    parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 2}" class="label" text-anchor="middle">cards watched</text>')
    start = data["meter_start"]
    pts = [(c["card"], c["diversity"]) for c in data["cards"]]
    if start is not None:
        parts.append(f'<line x1="{L}" y1="{y(start):.1f}" x2="{W - R}" y2="{y(start):.1f}" class="start"/>')
        parts.append(f'<text x="{L + 6}" y="{y(start) - 5:.1f}" class="legend">at the start: {start * 100:.0f}%</text>')
        pts.insert(0, (0, start))
    parts.append(
        '<polyline class="series" stroke="#111827" points="'
        + " ".join(f"{x(c):.1f},{y(v):.1f}" for c, v in pts)
        + '"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def found_chart(data: dict[str, Any], rows: int = 12) -> str:
    found = sorted(data["found_early"], key=lambda f: -f["views_now"])[:rows]
    if not found:
        return (
            '<p class="none">No video found early this session: a ◆ on a card marks one still in its test '
            "pool, where you are among its first viewers.</p>"
        )
    top = max(max(f["views_now"] for f in found), 10)
    decades = math.ceil(math.log10(top))
    row_h, L, R, T = 34, 260, 150, 26
    H = T + row_h * len(found) + 10
    x = lambda v: L + (W - L - R) * math.log10(max(v, 1)) / decades  # noqa: E731
    parts = [f'<svg class="chart" id="chart-found" viewBox="0 0 {W} {H}" role="img" aria-labelledby="found-title">']
    parts.append('<title id="found-title">Views of the videos you found early: then and now (log scale)</title>')
    for d in range(decades + 1):
        px = x(10**d)
        parts.append(f'<line x1="{px:.1f}" y1="{T - 6}" x2="{px:.1f}" y2="{H - 8}" class="grid"/>')
        parts.append(f'<text x="{px:.1f}" y="{T - 10}" class="tick" text-anchor="middle">{10**d:,}</text>')
    for k, f in enumerate(found):
        top_y = T + k * row_h
        label = f"@{f['handle']} {f['caption']}"
        label = label if len(label) <= 32 else label[:31] + "…"
        parts.append(f'<text x="{L - 8}" y="{top_y + 17}" class="legend" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect x="{L}" y="{top_y + 4}" width="{x(f["views_now"]) - L:.1f}" height="14" class="now"/>')
        parts.append(
            f'<rect x="{L}" y="{top_y + 20}" width="{max(x(f["views"]) - L, 1.5):.1f}" height="6" class="then"/>'
        )
        parts.append(
            f'<text x="{W - R + 8}" y="{top_y + 17}" class="legend">{f["views"]:,} → {f["views_now"]:,}'
            f" · tier {f['tier']}→{f['tier_now']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
:root { --fg: #111827; --muted: #6b7280; --bg: #ffffff; --panel: #f3f4f6; --accent: #2563eb; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
main { max-width: 760px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 28px 0 8px; }
.lede, .none, footer { color: var(--muted); }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-top: 16px; }
.stat { background: var(--panel); border-radius: 8px; padding: 10px 12px; }
.stat b { display: block; font-size: 1.25rem; } .stat span { color: var(--muted); font-size: .85rem; }
svg.chart { width: 100%; height: auto; display: block; background: var(--bg); }
.grid { stroke: #e5e7eb; stroke-width: 1; } .zero { stroke: #9ca3af; stroke-width: 1; }
.tick, .label { fill: var(--muted); font-size: 11px; } .legend { fill: var(--fg); font-size: 12px; }
.series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.zone-echo { fill: #fee2e2; } .zone-narrow { fill: #fef3c7; } .zone-varied { fill: #dcfce7; }
.zone-label { fill: var(--muted); font-size: 11px; font-style: italic; }
.start { stroke: var(--muted); stroke-dasharray: 5 4; }
.now { fill: var(--accent); } .then { fill: #9ca3af; }
ul.decisions { padding-left: 20px; } footer { margin-top: 40px; font-size: .85rem; }
"""


def report_html(data: dict[str, Any]) -> str:
    """The session report as one HTML page (see the module doc)."""
    who = data["profile"]
    w = data["world"]
    decisions = data["decisions"]
    tops = top_topics(data, 3)
    stats = [
        (f"{data['cards_watched']:,}", f"cards, {data['cards_finished']:,} to the end"),
        (watch_time(data["watch_seconds"]), "watched"),
        (
            ("new" if data["meter_start"] is None else f"{data['meter_start'] * 100:.0f}%")
            + f" → {data['meter_end'] * 100:.0f}%",
            "echo-chamber meter",
        ),
        (f"{len(decisions)}", "tier decisions you tipped"),
    ]
    body = [
        f"<h1>Your session, {_e(who)}</h1>",
        f'<p class="lede">On {_e(w["where"])} ({_e(w["scenario"])}, seed {_e(w["seed"])}), started {_e(data["started_at"])}. '
        f"The world ran {_e(sim_clock(data['clock_start']))} → {_e(sim_clock(data['clock_end']))}; "
        f"the echo-chamber meter went from {_e(meter(data['meter_start']))} to {_e(meter(data['meter_end']))} "
        f"with the knob at {data['knob']:.2f}.</p>",
        '<section class="stats">'
        + "".join(f'<div class="stat"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in stats)
        + "</section>",
    ]
    if tops:
        body.append(
            "<p>Top topics now: "
            + ", ".join(f"<b>{_e(n)}</b> {v:+.2f} ({signed(d)} this session)" for n, v, d in tops)
            + ".</p>"
        )
    body += [
        "<section><h2>Interest drift</h2>",
        '<p class="lede">What the feed learned about you, card by card: the topics that moved most.</p>',
        drift_chart(data),
        "</section>",
        "<section><h2>Echo-chamber meter</h2>",
        '<p class="lede">Topic diversity of your last 50 videos after each card.</p>',
        meter_chart(data),
        "</section>",
        "<section><h2>Videos you found early</h2>",
        '<p class="lede">You were among their first viewers (their test pool). Views then, in grey, and now.</p>',
        found_chart(data),
        "</section>",
        "<section><h2>Decisions you tipped</h2>",
    ]
    if decisions:
        body.append(
            '<ul class="decisions">'
            + "".join(f"<li>{_e(decision_line(d))} ({_e(sim_clock(d['clock']))})</li>" for d in decisions)
            + "</ul>"
        )
    else:
        body.append(
            '<p class="none">None this session: a decision is yours when, without your reaction, it would have gone the other way.</p>'
        )
    body.append("</section>")
    body.append(
        f"<footer>fyp-tui {_e(__version__)} · from the session log · no script, nothing loaded from the network.</footer>"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>fyp-tui session report: {_e(who)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )
