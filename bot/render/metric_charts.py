"""A KPI or DORA chart request (bot/domain/metric_results.py) in words: its title, its file, its
text alternative and its panels, for bot/render/charts.py to draw."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.dora import CHANGE_FAILURE_RATE, FREQUENCY, LEAD_TIME, TIME_TO_RESTORE
from bot.domain.kpi_chart import KpiChart
from bot.domain.metric_results import ChartRequest
from bot.render import kpi_chart_words as words
from bot.render.charts import MUTED, Panel

# The DORA trend's panels: name and unit, by metric.
DORA_PANELS = {
    FREQUENCY: ("Deployment frequency", "per week"),
    CHANGE_FAILURE_RATE: ("Change failure rate", "%"),
    LEAD_TIME: ("Lead time", "hours"),
    TIME_TO_RESTORE: ("Time to restore", "hours"),
}
ALT_TEXT_MAX = 1000  # Slack's limit on a file's alt text
TONES = {words.GOOD: "#007a5a", words.BAD: "#c01343", words.NEUTRAL: MUTED}


@dataclass(frozen=True)
class ChartUpload:
    title: str
    filename: str
    columns: int  # panels side by side
    panels: list[Panel]
    alt_text: str = ""  # what a screen reader says of the image ("": none)


def chart_upload(chart: ChartRequest) -> ChartUpload:
    """KPIs one under the other, titled with the use case's title, each with its latest value
    and change, its deployments and, as alt text, each one's sentence; DORA in four small
    panels, two by two, where a metric without anything to measure still shows (n/a)."""
    if chart.dora:
        return ChartUpload(f"DORA — {chart.slug or 'all use cases'}, last {chart.days} days",
                           "dora.png", 2, [_dora_panel(c) for c in chart.charts])
    title = chart.charts[0].title if chart.charts else (chart.slug or "")
    what = chart.charts[0].name if len(chart.charts) == 1 else "KPIs"
    alt = " ".join(words.kpi_chart_text(c) for c in chart.charts if c.points)
    return ChartUpload(f"{title} — {what}, last {chart.days} days", "kpis.png", 1,
                       [_kpi_panel(c) for c in chart.charts],
                       alt if len(alt) <= ALT_TEXT_MAX else alt[:ALT_TEXT_MAX - 1] + "…")


def _kpi_panel(chart: KpiChart) -> Panel:
    moved = words.change_text(chart)
    headline = words.latest_value(chart) + (f" · {moved}" if moved else "")
    return Panel(chart.name, chart.unit, [p.at for p in chart.points],
                 [p.value for p in chart.points], *_target(chart), start=chart.start,
                 end=chart.end, deployments=[(d.at, d.version) for d in chart.deployments],
                 headline=headline, headline_color=TONES[words.change_tone(chart)])


def _dora_panel(chart: KpiChart) -> Panel:
    name, unit = DORA_PANELS[chart.name]
    return Panel(name, unit, [p.at for p in chart.points], [p.value for p in chart.points],
                 *_target(chart), empty_note="n/a: nothing to measure", start=chart.start,
                 end=chart.end)


def _target(chart: KpiChart) -> tuple[float | None, bool, str]:
    """The panel's target, the side where it is met and its label."""
    if chart.target is None:
        return None, True, ""
    return (chart.target.value, chart.target.better_direction == "up",
            f"target {chart.target.describe()}")
