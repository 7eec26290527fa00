"""KPI charts as PNG (matplotlib, headless). CPU-bound: callers run it in a worker thread.

The time axis is matplotlib's concise date formatter on its automatic locator, so points seconds,
minutes, hours, days or months apart all get readable ticks (``14:05:30``, ``14:06``, ``Mar 04``,
``Apr``, ``2026``), never ``36:22.000000``. A target is a dashed line with the side where it is
met shaded light green.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib.dates as mdates
from matplotlib.axes import Axes

# A bare Figure (no pyplot) draws with the Agg renderer: no display, no global figure state,
# safe in worker threads.
from matplotlib.figure import Figure

MAX_PANELS = 6
ONE_POINT_SPAN = timedelta(hours=1)
LINE = "#1264a3"
TARGET = "#e01e5a"
MET = "#2eb67d"

# Concise ticks, but never a bare number: days carry their month, seconds their hour and minute.
FORMATS = ["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%H:%M:%S"]
ZERO_FORMATS = ["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"]
OFFSET_FORMATS = ["", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]


@dataclass(frozen=True)
class Panel:
    """One KPI: its points, and optionally a target with the direction in which it is met."""

    name: str
    unit: str
    times: Sequence[datetime]
    values: Sequence[float]
    target: float | None = None
    higher_is_better: bool = True
    target_label: str = ""
    empty_note: str | None = None  # drawn when there are no points; None: leave the panel out


def kpi_charts(title: str, panels: Sequence[Panel], *, columns: int = 1) -> bytes:
    """Several KPIs, one panel each (at most six), sharing the time axis; PNG bytes."""
    figure = chart_figure(title, panels, columns=columns)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(title: str, panels: Sequence[Panel], *, columns: int = 1) -> Figure:
    """The figure :func:`kpi_charts` saves (tests read its axes back)."""
    shown = [p for p in panels if p.times or p.empty_note is not None][:MAX_PANELS]
    columns = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    figure = Figure(figsize=(8 if columns == 1 else 10, 1.2 + (2.2 if columns == 1 else 2.6) * rows),
                    dpi=100)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    axes_list = [axes for row in grid for axes in row]
    for axes, panel in zip(axes_list, shown, strict=False):
        _draw(axes, panel)
    for axes in axes_list[len(shown):]:
        axes.set_visible(False)
    times = [t for p in shown for t in p.times]
    if times and min(times) == max(times):  # one moment: an hour around it, not four years
        axes_list[0].set_xlim(min(times) - ONE_POINT_SPAN, max(times) + ONE_POINT_SPAN)  # type: ignore[arg-type]
    figure.suptitle(title, fontsize=11, x=0.02, ha="left")
    figure.tight_layout()
    return figure


def _draw(axes: Axes, panel: Panel) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator, formats=FORMATS, zero_formats=ZERO_FORMATS, offset_formats=OFFSET_FORMATS))
    if panel.times:
        axes.plot(list(panel.times), list(panel.values),  # type: ignore[arg-type]  # datetimes
                  marker="o", markersize=3, linewidth=1.8, color=LINE)
    else:
        axes.text(0.5, 0.5, panel.empty_note or "", transform=axes.transAxes, ha="center",
                  va="center", fontsize=9, color="#616061")
    if panel.target is not None:
        _target(axes, panel)
    axes.set_title(panel.name, fontsize=10, loc="left")
    axes.set_ylabel(panel.unit, fontsize=9)
    axes.grid(alpha=0.25)
    axes.tick_params(labelsize=8)


def _target(axes: Axes, panel: Panel) -> None:
    """The target line, and the side where it is met shaded up to the edge of the axes."""
    assert panel.target is not None
    target = panel.target
    low, high = min([*panel.values, target]), max([*panel.values, target])
    pad = 0.08 * (high - low) if high > low else max(abs(target) * 0.1, 1.0)
    low, high = low - pad, high + pad
    edge = high if panel.higher_is_better else low
    axes.axhspan(min(target, edge), max(target, edge), color=MET, alpha=0.12, linewidth=0,
                 label="target met")
    axes.axhline(target, linestyle="--", linewidth=1.2, color=TARGET,
                 label=panel.target_label or f"target {target:g}")
    axes.set_ylim(low, high)
    axes.legend(loc="best", frameon=False, fontsize=8)
