"""A KPI chart (bot/domain/kpi_chart.py) as inline SVG for the dashboard's pages.

Hand-written SVG, not matplotlib's SVG backend: a page must answer in milliseconds, and matplotlib
is imported only when a PNG is drawn for Slack (issue #28: start-up without it); the markup is
also smaller, and every piece of it is ours to make accessible and safe:

- ``<svg role="img" aria-labelledby=…>`` with a ``<title>`` and a ``<desc>``: the text
  alternative, :func:`kpi_chart_text`'s one sentence.
- No ``style=`` attribute and no ``<style>`` element (the pages' CSP is ``style-src 'self'``):
  presentation attributes only (``fill``, ``stroke``, ``font-size``…); a ``viewBox`` and
  ``width="100%"`` so it scales with the page.
- Every text is XML-escaped (titles and versions are typed by people).

Drawn: the use case's title, the KPI, the latest value and its change over the period; the
target's met side as a band and the target as a dashed line; the y-axis by the shared rule
(:func:`bot.domain.kpi_chart.y_range`); time ticks across the whole period; each deployment to
production as a marked vertical line with its version. Without points, the chart says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from html import escape

from bot.domain.kpi_chart import KpiChart, chart_range, met_band
from bot.render import kpi_chart_words as words
from bot.render.kpi_chart_words import kpi_chart_text
from bot.render.time_ticks import time_ticks, value_ticks

__all__ = ["kpi_chart_text", "kpi_svg"]

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 616, 72, 284  # the plot area
TITLE_MAX, VERSION_MAX = 60, 16
INK, MUTED, GRID = "#1d1c1d", "#616061", "#dddddd"
LINE, TARGET, BAND, DEPLOY = "#1264a3", "#c01343", "#2eb67d", "#7c3085"
TONES = {words.GOOD: "#007a5a", words.BAD: "#c01343", words.NEUTRAL: MUTED}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: float, y: float, content: str, **attributes: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_attr(str(v))}"' for k, v in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content, quote=False)}</text>'


def chart_id(chart: KpiChart) -> str:
    """An id for the chart's title and desc, unique per use case and KPI on a page."""
    return "kpi-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{chart.slug}-{chart.name}")


def kpi_svg(chart: KpiChart) -> str:
    """The chart as an ``<svg>`` element, ready to be put in a page as it is."""
    ident = chart_id(chart)
    bottom, top = chart_range(chart)
    x_of = _scale(chart.start.timestamp(), chart.end.timestamp(), LEFT, RIGHT)
    y_of = _scale(bottom, top, BOTTOM, TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="{_attr(FONT)}">',
        f'<title id="{ident}-title">{escape(f"{chart.title} — {chart.name}", quote=False)}</title>',
        f'<desc id="{ident}-desc">{escape(kpi_chart_text(chart), quote=False)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        *_header(chart),
    ]
    if chart.points:
        parts += [*_band(chart, y_of, bottom, top), *_y_axis(y_of, bottom, top)]
    parts += _x_axis(chart, x_of)
    parts += _deployments(chart, x_of)
    parts += _series(chart, x_of, y_of) if chart.points else _no_data()
    parts.append("</svg>")
    return "\n".join(parts)


def _scale(low: float, high: float, out_low: float, out_high: float) -> Callable[[float], float]:
    span = (high - low) or 1.0
    return lambda v: out_low + (v - low) / span * (out_high - out_low)


def _header(chart: KpiChart) -> list[str]:
    unit = f" ({chart.unit})" if chart.unit else ""
    parts = [
        _text(16, 26, _clip(chart.title, TITLE_MAX), font_size=17, font_weight="bold", fill=INK),
        _text(16, 46, f"{chart.name}{unit} · {words.period_text(chart)}", font_size=12, fill=MUTED),
        _text(WIDTH - 16, 28, words.latest_value(chart), font_size=20, font_weight="bold",
              fill=INK, text_anchor="end"),
    ]
    if moved := words.change_text(chart):
        parts.append(_text(WIDTH - 16, 48, moved, font_size=12,
                           fill=TONES[words.change_tone(chart)], text_anchor="end"))
    return parts


def _band(chart: KpiChart, y_of: Callable[[float], float], bottom: float,
          top: float) -> list[str]:
    """The side where the target is met, shaded, and the target as a dashed line."""
    if chart.target is None:
        return []
    low, high = met_band(chart.target, bottom, top)
    y_target = y_of(chart.target.value)
    return [
        f'<rect data-band="met" x="{LEFT}" y="{y_of(high):.2f}" width="{RIGHT - LEFT}" '
        f'height="{y_of(low) - y_of(high):.2f}" fill="{BAND}" fill-opacity="0.14"/>',
        f'<line data-target="{chart.target.value!r}" x1="{LEFT}" y1="{y_target:.2f}" x2="{RIGHT}" '
        f'y2="{y_target:.2f}" stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/>',
        _text(RIGHT - 4, y_target - 5, words.target_text(chart), font_size=11, fill=TARGET,
              text_anchor="end"),
    ]


def _y_axis(y_of: Callable[[float], float], bottom: float, top: float) -> list[str]:
    parts = ['<g data-axis="y">']
    for value, label in value_ticks(bottom, top):
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.2f}" x2="{RIGHT}" y2="{y:.2f}" stroke="{GRID}" '
                     'stroke-width="1"/>')
        parts.append(_text(LEFT - 6, y + 4, label, font_size=11, fill=MUTED, text_anchor="end",
                           data_value=repr(value)))
    parts.append("</g>")
    return parts


def _x_axis(chart: KpiChart, x_of: Callable[[float], float]) -> list[str]:
    parts = ['<g data-axis="x">',
             f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{MUTED}"/>']
    for at, label in time_ticks(chart.start, chart.end):
        x = x_of(at.timestamp())
        parts.append(f'<line x1="{x:.2f}" y1="{BOTTOM}" x2="{x:.2f}" y2="{BOTTOM + 5}" '
                     f'stroke="{MUTED}"/>')
        parts.append(_text(x, BOTTOM + 19, label, font_size=11, fill=MUTED, text_anchor="middle",
                           data_at=at.isoformat()))
    parts.append("</g>")
    return parts


def _deployments(chart: KpiChart, x_of: Callable[[float], float]) -> list[str]:
    parts = []
    for deployed in chart.deployments:
        x = x_of(deployed.at.timestamp())
        version = _clip(deployed.version, VERSION_MAX)
        parts += [
            f'<g data-deployment="{_attr(deployed.version)}">',
            f"<title>{escape(_deployed_title(deployed.version, deployed.at), quote=False)}</title>",
            f'<line x1="{x:.2f}" y1="{TOP}" x2="{x:.2f}" y2="{BOTTOM}" stroke="{DEPLOY}" '
            'stroke-width="1.5" stroke-dasharray="2 3"/>',
            _text(x - 4, BOTTOM - 4, version, font_size=10, fill=DEPLOY, stroke="#ffffff",
                  stroke_width=3, paint_order="stroke",
                  transform=f"rotate(-90 {x - 4:.1f} {BOTTOM - 4:.1f})"),
            "</g>",
        ]
    return parts


def _deployed_title(version: str, at: datetime) -> str:
    return f"{version} deployed to production on {words.moment(at)}"


def _series(chart: KpiChart, x_of: Callable[[float], float],
            y_of: Callable[[float], float]) -> list[str]:
    xy = _thinned([(x_of(p.at.timestamp()), y_of(p.value)) for p in chart.points])
    parts = ['<g data-series="values">']
    if len(xy) > 1:
        coordinates = " ".join(f"{x:.2f},{y:.2f}" for x, y in xy)
        parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{LINE}" '
                     'stroke-width="2" stroke-linejoin="round"/>')
    if len(xy) <= 60:
        parts += [f'<circle cx="{x:.2f}" cy="{y:.2f}" r="3" fill="{LINE}"/>' for x, y in xy]
    parts.append("</g>")
    return parts


def _thinned(xy: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A long series (a KPI pulled every minute) drawn with the same shape in less markup: per
    pixel column, its first and last point and its lowest and highest, in time order."""
    if len(xy) <= 2 * (RIGHT - LEFT):
        return xy
    columns: dict[int, list[tuple[int, tuple[float, float]]]] = {}
    for i, point in enumerate(xy):
        columns.setdefault(int(point[0]), []).append((i, point))
    kept: set[int] = set()
    for members in columns.values():
        by_y = sorted(members, key=lambda m: m[1][1])
        kept |= {members[0][0], members[-1][0], by_y[0][0], by_y[-1][0]}
    return [xy[i] for i in sorted(kept)]


def _no_data() -> list[str]:
    return [_text((LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, "No values in this period yet",
                  font_size=14, fill=MUTED, text_anchor="middle")]
