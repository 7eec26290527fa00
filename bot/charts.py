"""KPI charts as PNG (matplotlib, headless). CPU-bound: callers run it in a worker thread."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

# A bare Figure (no pyplot) draws with the Agg renderer: no display, no global figure state,
# safe in worker threads.
from matplotlib.figure import Figure


def kpi_chart(title: str, times: Sequence[datetime], values: Sequence[float], *, unit: str = "",
              target: float | None = None, target_label: str = "") -> bytes:
    """A line chart of one KPI with its target as a dashed line; returns PNG bytes."""
    figure = Figure(figsize=(8, 3.2), dpi=100)
    axes = figure.subplots()
    axes.plot(list(times), list(values),  # type: ignore[arg-type]  # datetimes plot fine
              marker="o", markersize=3, linewidth=1.8, color="#1264a3")
    if target is not None:
        axes.axhline(target, linestyle="--", linewidth=1.2, color="#e01e5a",
                     label=target_label or f"target {target:g}")
        axes.legend(loc="best", frameon=False, fontsize=8)
    axes.set_title(title, fontsize=11, loc="left")
    axes.set_ylabel(unit, fontsize=9)
    axes.grid(alpha=0.25)
    axes.tick_params(labelsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
