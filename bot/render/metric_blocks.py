"""Rendering of KPIs and DORA metrics: tables with sparklines, crossings, the DORA card.

Part of the one renderer; the App Home tab and the digest reuse these lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot.domain.digest_data import CrossedTarget
from bot.domain.dora import (
    CHANGE_FAILURE_RATE,
    FREQUENCY,
    LEAD_TIME,
    NA,
    TIME_TO_RESTORE,
    DoraReport,
)
from bot.domain.metric_results import TargetSet
from bot.domain.metrics import KpiSummary, Target, format_delta, format_number, with_unit
from bot.render.blocks import Message, bulleted, clip, context, header, message, notice, section
from bot.render.dora_changes import short_duration
from bot.render.mrkdwn import escape

BAND_ICONS = {"elite": "🏆", "high": "🟢", "medium": "🟡", "low": "🔴", "n/a": "⚪"}


def kpi_line(slug: str, s: KpiSummary) -> str:
    """One KPI in two lines: value and changes, then sparkline and target."""
    unit = escape(s.unit)
    latest = with_unit(format_number(s.latest.value), unit)
    changes = [f"{label} {format_delta(d, unit)}" for label, d in
               (("prev", s.previous), ("7d", s.week), ("30d", s.month)) if d is not None]
    first = f"*{escape(s.name)}* {latest}" + (" · " + " · ".join(changes) if changes else "")
    second = f"`{s.sparkline}`" if s.sparkline else ""
    if s.target is not None:
        status = target_status(s.target, s.latest.value, unit)
        second += (" · " if second else "") + ("✅ " if s.target_met else "❌ ") + status
    return first + (f"\n{second}" if second else "")


def kpi_table(slug: str, summaries: Sequence[KpiSummary], *, days: int,
              failing: Mapping[str, str] | None = None) -> Message:
    """``failing``: KPIs whose source fails now, with the reason; their value may be stale."""
    if not summaries:
        return message(f"No KPIs recorded for {slug} yet.", [section(
            f"No KPIs recorded for *{slug}* in the last {days} days. Record one with "
            f"`/metric record {slug} <name> <value>`.")])
    blocks: list[Block] = [header(f"📈 {slug} — KPIs, last {days} days")]
    failing = failing or {}
    lines = [kpi_line(slug, s) + (f"\n🚨 its source is failing: {escape(clip(failing[s.name], 200))}"
                                  if s.name in failing else "") for s in summaries]
    blocks += bulleted(lines, max_blocks=45, more="KPIs")
    blocks.append(context("prev = against the previous value · 7d / 30d = against the value then"))
    fallback = f"KPIs of {slug}: " + ", ".join(
        f"{escape(s.name)} {with_unit(format_number(s.latest.value), escape(s.unit))}"
        for s in summaries[:10])
    return message(fallback, blocks)


def crossing_announcement(slug: str, name: str, unit: str, value: float, target: Target,
                          met: bool) -> Message:
    shown = with_unit(format_number(value), escape(unit))
    if met:
        text = f"🎯 *{slug}* · *{escape(name)}* reached its target {target.describe()}: now {shown}"
    else:
        text = f"⚠️ *{slug}* · *{escape(name)}* fell short of its target {target.describe()}: now {shown}"
    return message(text.replace("*", ""), [section(text)])


def crossing_line(c: CrossedTarget) -> str:
    """Plain text (escaped by the caller): "churn · auc reached its target ≥ 0.8 (0.85)"."""
    verb = "reached" if c.met else "fell short of"
    return (f"{c.slug} · {c.name} {verb} its target {c.target.describe()} "
            f"({with_unit(format_number(c.value), c.unit)})")


def recorded(slug: str, name: str, value: float, unit: str, status: str) -> Message:
    text = f"✅ Recorded *{escape(name)}* = {with_unit(format_number(value), escape(unit))} for *{slug}*."
    return message(text, [section(text + (f"\n{status}" if status else ""))])


def target_set(done: TargetSet) -> Message:
    """The answer to `/metric target`: the target, and where the KPI stands against it now."""
    target, latest = done.target, done.latest
    status = (f" Now: {target_status(target, latest, escape(done.unit))}."
              if latest is not None else "")
    return notice(f"🎯 Target for *{done.slug}* · *{done.name}*: {target.describe()}.{status}")


def dora_card(report: DoraReport, changes: dict[str, str], *,
              per_use_case: Sequence[tuple[str, DoraReport]] = ()) -> Message:
    """The four metrics with their bands and changes; a scope with only dry runs (in neither
    period a production deployment) says there is nothing to measure yet instead."""
    scope = report.use_case or "all use cases"
    head = header(f"🚀 DORA — {scope}, last {report.days} days")
    if report.only_dry_runs and changes[FREQUENCY] == NA:
        return message(f"DORA {scope}, {report.days} days: {nothing_to_measure(report)}", [
            head, section(f"🧪 {nothing_to_measure(report)}."),
            context("Dry runs are never counted: they deploy nothing.")])
    blocks: list[Block] = [head, section("\n".join(_metric_lines(report, changes))),
                           context(_overall(report) + " · changes against the previous period")]
    if per_use_case:
        rows = [f"• *{slug}* {per_week(r)}, CFR {failure_rate(r)}, lead {duration_or_na(r.lead_time)} — "
                f"{BAND_ICONS[r.band]} {r.band}" for slug, r in per_use_case]
        blocks += bulleted(rows, max_blocks=40, more="use cases")
    fallback = (f"DORA {scope}, {report.days} days: {per_week(report)}, lead time "
                f"{duration_or_na(report.lead_time)}, change failure rate {failure_rate(report)}, "
                f"time to restore {duration_or_na(report.time_to_restore)} — {report.band}")
    return message(fallback, blocks)


def _metric_lines(report: DoraReport, changes: dict[str, str]) -> list[str]:
    b = report.bands
    return [
        f"{BAND_ICONS[b[FREQUENCY]]} *Deployment frequency* {per_week(report)} — {b[FREQUENCY]}"
        f" ({changes[FREQUENCY]})",
        f"{BAND_ICONS[b[LEAD_TIME]]} *Lead time* {duration_or_na(report.lead_time)} — {b[LEAD_TIME]}"
        f" ({changes[LEAD_TIME]})",
        f"{BAND_ICONS[b[CHANGE_FAILURE_RATE]]} *Change failure rate* {failure_rate(report)} — "
        f"{b[CHANGE_FAILURE_RATE]} ({changes[CHANGE_FAILURE_RATE]})",
        f"{BAND_ICONS[b[TIME_TO_RESTORE]]} *Time to restore* {duration_or_na(report.time_to_restore)} — "
        f"{b[TIME_TO_RESTORE]} ({changes[TIME_TO_RESTORE]})"
        + (f", {report.unrestored} not restored yet" if report.unrestored else ""),
    ]


def _overall(report: DoraReport) -> str:
    if report.only_dry_runs:
        return f"🧪 {nothing_to_measure(report)}"
    return (f"Overall: {BAND_ICONS[report.band]} *{report.band}* · "
            f"{_count(report.deployments, 'production deployment')}, {report.failed} failed"
            + (f" · {_count(report.dry_runs, 'dry run')} not counted" if report.dry_runs else "")
            + (f" · {from_request(report)}" if report.lead_from_request else ""))


def from_request(report: DoraReport) -> str:
    """How many successes knew no change time, so their lead time runs from the request: "lead
    time from the request for 3 of 12"."""
    return (f"lead time from the request for {report.lead_from_request} of "
            f"{report.deployments - report.failed}")


def dora_line(report: DoraReport) -> str:
    """One line for the digest; no band for a scope with only dry runs."""
    if report.only_dry_runs:
        return f"🧪 {nothing_to_measure(report)}"
    return (f"{BAND_ICONS[report.band]} {report.band}: {per_week(report)}, lead time "
            f"{duration_or_na(report.lead_time)}, change failure rate {failure_rate(report)}, "
            f"time to restore {duration_or_na(report.time_to_restore)}")


def nothing_to_measure(report: DoraReport) -> str:
    """E.g. "2 dry runs, nothing deployed: nothing to measure yet"."""
    return f"{_count(report.dry_runs, 'dry run')}, nothing deployed: nothing to measure yet"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def per_week(r: DoraReport) -> str:
    return f"{format_number(r.frequency_per_day * 7)} per week"


def failure_rate(r: DoraReport) -> str:
    return "n/a" if r.change_failure_rate is None else f"{r.change_failure_rate:.0%}"


def duration_or_na(value: object) -> str:
    return "n/a" if value is None else short_duration(value)  # type: ignore[arg-type]


def target_status(target: Target, value: float, unit: str = "") -> str:
    """E.g. "met ≥ 0.8 ↑ (by 0.012)" or "missed ≤ 200 ms ↓ (by 35 ms)"."""
    state = "met" if target.is_met(value) else "missed"
    goal = with_unit(target.describe(), unit)
    return f"{state} {goal} {target.arrow} (by {with_unit(format_number(abs(value - target.value)), unit)})"
