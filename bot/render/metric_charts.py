"""A KPI or DORA chart request (bot/domain/metric_results.py) in words: its title, its file and
its panels, for bot/render/charts.py to draw."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.dora import CHANGE_FAILURE_RATE, FREQUENCY, LEAD_TIME, TIME_TO_RESTORE
from bot.domain.metric_results import ChartRequest
from bot.render.charts import Panel

# The DORA trend's panels: name and unit, by metric.
DORA_PANELS = {
    FREQUENCY: ("Deployment frequency", "per week"),
    CHANGE_FAILURE_RATE: ("Change failure rate", "%"),
    LEAD_TIME: ("Lead time", "hours"),
    TIME_TO_RESTORE: ("Time to restore", "hours"),
}


@dataclass(frozen=True)
class ChartUpload:
    title: str
    filename: str
    columns: int  # panels side by side
    panels: list[Panel]


def chart_upload(chart: ChartRequest) -> ChartUpload:
    """KPIs one under the other; DORA in four small panels, two by two, where a metric
    without anything to measure still shows (n/a)."""
    if chart.dora:
        return ChartUpload(f"DORA — {chart.slug or 'all use cases'}, last {chart.days} days",
                           "dora.png", 2, _panels(chart, "n/a: nothing to measure"))
    return ChartUpload(f"{chart.slug} — last {chart.days} days", "kpis.png", 1,
                       _panels(chart, None))


def _panels(chart: ChartRequest, empty_note: str | None) -> list[Panel]:
    return [Panel(*(DORA_PANELS[name] if chart.dora else (name, unit)), times, values,
                  target.value if target else None,
                  higher_is_better=target is None or target.better_direction == "up",
                  target_label=f"target {target.describe()}" if target else "",
                  empty_note=empty_note)
            for name, unit, times, values, target in chart.series]
