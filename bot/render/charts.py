"""KPI charts as PNG (matplotlib, headless). CPU-bound: callers run it in a worker thread."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

# A bare Figure (no pyplot) draws with the Agg renderer: no display, no global figure state,
# safe in worker threads.
from matplotlib.figure import Figure

MAX_PANELS = 6


def kpi_charts(title: str, series: Sequence[tuple[str, str, Sequence[datetime], Sequence[float],
                                                  float | None]]) -> bytes:
    """Several KPIs, one panel each (at most six), sharing the time axis; PNG bytes."""
    shown = [s for s in series if s[2]][:MAX_PANELS]
    figure = Figure(figsize=(8, 1.2 + 2.2 * max(1, len(shown))), dpi=100)
    axes_list = figure.subplots(max(1, len(shown)), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (name, unit, times, values, target) in zip(axes_list, shown, strict=False):
        axes.plot(list(times), list(values),  # type: ignore[arg-type]  # datetimes plot fine
                  marker="o", markersize=3, linewidth=1.8, color="#1264a3")
        if target is not None:
            axes.axhline(target, linestyle="--", linewidth=1.2, color="#e01e5a",
                         label=f"target {target:g}")
            axes.legend(loc="best", frameon=False, fontsize=8)
        axes.set_title(name, fontsize=10, loc="left")
        axes.set_ylabel(unit, fontsize=9)
        axes.grid(alpha=0.25)
        axes.tick_params(labelsize=8)
    figure.suptitle(title, fontsize=11, x=0.02, ha="left")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
