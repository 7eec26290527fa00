"""KPI charts as PNG (matplotlib, headless), for Slack. CPU-bound: callers run it in a worker
thread. matplotlib is imported when a chart is drawn, not when this module is (start-up, #28).

The same improvements as the dashboard's SVG (bot/render/svg_charts.py): a panel covers its whole
period (``start``/``end``) even when the points are sparse; its y-axis follows the shared rule
(:func:`bot.domain.kpi_chart.y_range`: the target in view, zero when a small change would
otherwise look like a cliff); the latest value and its change are written at the top right; a
target is a dashed line with the side where it is met shaded light green; each deployment to
production is a dotted vertical line labelled with its version.

The time axis is matplotlib's concise date formatter on its automatic locator, so points seconds,
minutes, hours, days or months apart all get readable ticks (``14:05:30``, ``14:06``, ``Mar 04``,
``Apr``, ``2026``), never ``36:22.000000``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.kpi_chart import y_range

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_PANELS = 6
ONE_POINT_SPAN = timedelta(hours=1)
VERSION_MAX = 16
LINE = "#1264a3"
TARGET = "#e01e5a"
MET = "#2eb67d"
DEPLOY = "#7c3085"
MUTED = "#616061"

# Concise ticks, but never a bare number: days carry their month, seconds their hour and minute.
FORMATS = ["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%H:%M:%S"]
ZERO_FORMATS = ["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"]
OFFSET_FORMATS = ["", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]


@dataclass(frozen=True)
class Panel:
    """One KPI: its points, and optionally a target with the direction in which it is met, the
    period shown (None: the points' own), deployments to production (time, version) and a
    headline (the latest value and its change) with its colour."""

    name: str
    unit: str
    times: Sequence[datetime]
    values: Sequence[float]
    target: float | None = None
    higher_is_better: bool = True
    target_label: str = ""
    empty_note: str | None = None  # drawn when there are no points; None: leave the panel out
    start: datetime | None = None
    end: datetime | None = None
    deployments: Sequence[tuple[datetime, str]] = ()
    headline: str = ""
    headline_color: str = MUTED


def kpi_charts(title: str, panels: Sequence[Panel], *, columns: int = 1) -> bytes:
    """Several KPIs, one panel each (at most six), sharing the time axis; PNG bytes."""
    figure = chart_figure(title, panels, columns=columns)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(title: str, panels: Sequence[Panel], *, columns: int = 1) -> Figure:
    """The figure :func:`kpi_charts` saves (tests read its axes back)."""
    # A bare Figure (no pyplot) draws with the Agg renderer: no display, no global figure
    # state, safe in worker threads.
    from matplotlib.figure import Figure

    shown = [p for p in panels if p.times or p.empty_note is not None][:MAX_PANELS]
    columns = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    figure = Figure(figsize=(8 if columns == 1 else 10, 1.2 + (2.4 if columns == 1 else 2.6) * rows),
                    dpi=100)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    axes_list = [axes for row in grid for axes in row]
    for axes, panel in zip(axes_list, shown, strict=False):
        _draw(axes, panel)
    for axes in axes_list[len(shown):]:
        axes.set_visible(False)
    limits = _x_limits(shown)
    if limits is not None:
        axes_list[0].set_xlim(*limits)  # type: ignore[arg-type]  # datetimes
    figure.suptitle(title, fontsize=11, x=0.02, ha="left")
    figure.tight_layout()
    return figure


def _x_limits(panels: Sequence[Panel]) -> tuple[datetime, datetime] | None:
    """The panels' periods; without one, the points' own span (matplotlib's), except for a
    single moment: an hour around it, not four years. None: matplotlib's limits."""
    periods = [(p.start, p.end) for p in panels if p.start is not None and p.end is not None]
    if periods:
        return min(s for s, _e in periods), max(e for _s, e in periods)
    times = [t for p in panels for t in p.times]
    if times and min(times) == max(times):
        return min(times) - ONE_POINT_SPAN, max(times) + ONE_POINT_SPAN
    return None


def _draw(axes: Axes, panel: Panel) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator, formats=FORMATS, zero_formats=ZERO_FORMATS, offset_formats=OFFSET_FORMATS))
    if panel.times:
        axes.plot(list(panel.times), list(panel.values),  # type: ignore[arg-type]  # datetimes
                  marker="o", markersize=3, linewidth=1.8, color=LINE)
    else:
        axes.text(0.5, 0.5, panel.empty_note or "", transform=axes.transAxes, ha="center",
                  va="center", fontsize=9, color=MUTED)
    bottom, top = y_range(panel.values, panel.target)
    axes.set_ylim(bottom, top)
    if panel.target is not None:
        _target(axes, panel, bottom, top)
    _deployments(axes, panel)
    axes.set_title(panel.name, fontsize=10, loc="left")
    if panel.headline:
        axes.set_title(panel.headline, fontsize=9, loc="right", color=panel.headline_color)
    axes.set_ylabel(panel.unit, fontsize=9)
    axes.grid(alpha=0.25)
    axes.tick_params(labelsize=8)


def _target(axes: Axes, panel: Panel, bottom: float, top: float) -> None:
    """The target line, and the side where it is met shaded up to the edge of the axes."""
    assert panel.target is not None
    target = panel.target
    edge = top if panel.higher_is_better else bottom
    axes.axhspan(min(target, edge), max(target, edge), color=MET, alpha=0.12, linewidth=0,
                 label="target met")
    axes.axhline(target, linestyle="--", linewidth=1.2, color=TARGET,
                 label=panel.target_label or f"target {target:g}")
    axes.legend(loc="best", frameon=False, fontsize=8)


def _deployments(axes: Axes, panel: Panel) -> None:
    """A dotted vertical line per deployment, its version written along it from the bottom
    (where the data, its axis reaching zero, seldom is)."""
    for at, version in panel.deployments:
        axes.axvline(at, linestyle=":", linewidth=1.2, color=DEPLOY,  # type: ignore[arg-type]
                     gid="deployment")
        label = version if len(version) <= VERSION_MAX else version[:VERSION_MAX - 1] + "…"
        axes.text(at, 0.03, label, transform=axes.get_xaxis_transform(),  # type: ignore[arg-type]
                  rotation=90, ha="right", va="bottom", fontsize=7, color=DEPLOY, gid="deployment",
                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
