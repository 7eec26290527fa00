"""The words on and beside a KPI chart (bot/domain/kpi_chart.py), shared by the dashboard's SVG
(bot/render/svg_charts.py) and the Slack PNG (bot/render/charts.py): the latest value, its
change over the period, the target, and the one-sentence text alternative."""

from __future__ import annotations

from datetime import datetime

from bot.domain.kpi_chart import KpiChart, change, latest, target_met
from bot.domain.metrics import format_delta, format_number, with_unit

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"


def day(at: datetime) -> str:
    """``5 Jan 2026`` (the charts' times are UTC)."""
    return f"{at.day} {at:%b %Y}"


def moment(at: datetime) -> str:
    """``5 Jan 2026 12:00 UTC``."""
    return f"{day(at)} {at:%H:%M} UTC"


def latest_value(chart: KpiChart) -> str:
    """``0.79 ratio``, or ``no data yet``."""
    newest = latest(chart)
    return "no data yet" if newest is None else with_unit(format_number(newest.value), chart.unit)


def change_text(chart: KpiChart) -> str:
    """``↓ −0.04 ratio (−4.8%) over the period``; ``""`` with fewer than two points."""
    moved = change(chart)
    return "" if moved is None else f"{format_delta(moved, chart.unit, arrow=True)} over the period"


def change_tone(chart: KpiChart) -> str:
    """GOOD when the change goes the target's better way, BAD the other way, NEUTRAL when
    there is no target or no change."""
    moved, better = change(chart), chart.higher_is_better
    if moved is None or better is None or moved.absolute == 0:
        return NEUTRAL
    return GOOD if (moved.absolute > 0) == better else BAD


def target_text(chart: KpiChart) -> str:
    """``target ≥ 0.83 ratio``; ``""`` without a target."""
    if chart.target is None:
        return ""
    return f"target {with_unit(chart.target.describe(), chart.unit)}"


def period_text(chart: KpiChart) -> str:
    return f"{day(chart.start)} – {day(chart.end)}"


def deployments_text(count: int) -> str:
    if count == 0:
        return "no deployment to production"
    return f"{count} deployment{'s' if count != 1 else ''} to production"


def kpi_chart_text(chart: KpiChart) -> str:
    """The chart in one sentence (its text alternative): the latest value, its change, the
    target and whether it is met, and how many deployments the period saw."""
    head = f"{chart.title} — {chart.name}, {period_text(chart)}: "
    newest = latest(chart)
    if newest is None:
        facts = ["no values yet"]
    else:
        facts = [f"latest {latest_value(chart)} on {moment(newest.at)}"]
        moved = change(chart)
        if moved is not None:
            facts.append(f"{format_delta(moved, chart.unit)} since {moment(chart.points[0].at)}")
    if chart.target is not None:
        met = target_met(chart)
        verdict = "" if met is None else (", met" if met else ", not met")
        facts.append(target_text(chart) + verdict)
    facts.append(f"{deployments_text(len(chart.deployments))} in the period")
    return head + "; ".join(facts) + "."
