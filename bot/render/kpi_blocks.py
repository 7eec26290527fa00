"""Rendering of continuous KPIs: a source failing or recovering, `/metric sources`, a pull's answer.

Part of the one renderer; the words about values come from ``bot.domain.metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.domain.kpis import KpiSource, KpiSpec, MlflowSource, PrometheusSource, SourceStatus, SqlSource
from bot.domain.metrics import format_number, with_unit
from bot.render.blocks import Message, bulleted, clip, context, header, message, section, when
from bot.render.mrkdwn import escape
from bot.render.schedule_words import schedule_words

ERROR_SHOWN = 500  # characters of a source's error: enough to act on, never a wall of text


def source_words(source: KpiSource) -> str:
    """Where a KPI's values come from, e.g. "SQL on `warehouse`"."""
    match source:
        case SqlSource(connection=connection):
            return f"SQL on `{connection}`"
        case PrometheusSource():
            return "Prometheus query"
        case MlflowSource(experiment=experiment) if experiment:
            return f"MLflow experiment `{experiment}`"
        case MlflowSource(model=model, alias=alias):
            return f"MLflow model `{model}@{alias}`"


def _label(kpi: KpiSpec) -> str:
    return f"*{kpi.use_case}* · *{escape(kpi.name)}*"


def _value(kpi: KpiSpec, value: float) -> str:
    return with_unit(format_number(value), escape(kpi.unit))


def source_failing(kpi: KpiSpec, error: str) -> Message:
    text = (f"🚨 The source of {_label(kpi)} ({source_words(kpi.source)}) is failing: "
            f"{escape(clip(error, ERROR_SHOWN))}\nI keep pulling on schedule and will say when it "
            f"works again; `/metric pull {kpi.use_case} {kpi.name}` tries now.")
    return message(text.replace("*", ""), [section(text)])


def source_recovered(kpi: KpiSpec, value: float, failing_since: datetime | None, tz: str) -> Message:
    since = f" (failing since {when(failing_since, tz)})" if failing_since else ""
    text = (f"✅ The source of {_label(kpi)} works again{since}: now {_value(kpi, value)}.")
    return message(text.replace("*", ""), [section(text)])


def pulled(kpi: KpiSpec, value: float | None, error: str, status: str) -> Message:
    """The answer to `/metric pull`: the value stored, or why there is none."""
    if value is None:
        text = (f"⚠️ Pulling {_label(kpi)} from {source_words(kpi.source)} failed: "
                f"{escape(clip(error, ERROR_SHOWN))}\nNothing was recorded.")
        return message(text.replace("*", ""), [section(text)])
    text = f"✅ Pulled {_label(kpi)} from {source_words(kpi.source)}: {_value(kpi, value)}, recorded."
    return message(text.replace("*", ""), [section(text + (f"\n{status}" if status else ""))])


def source_line(kpi: KpiSpec, status: SourceStatus | None, next_pull: datetime | None,
                tz: str) -> str:
    """One source in two lines: what and when, then its last value and health."""
    schedule = schedule_words(kpi.schedule)
    upcoming = f", next {when(next_pull, tz)}" if next_pull else ""
    first = f"{_label(kpi)} ← {source_words(kpi.source)} · {escape(schedule)}{upcoming}"
    if status is None or status.last_run is None:
        return first + "\n⏳ not pulled yet"
    last = _value(kpi, status.last_value) if status.last_value is not None else "no value yet"
    ran = f"last run {when(status.last_run, tz)}"
    if status.failing:
        since = f" since {when(status.since, tz)}" if status.since else ""
        return (f"{first}\n🚨 failing{since}: {escape(clip(status.error, 200))} · {ran} · "
                f"last value {last}")
    return f"{first}\n✅ ok · {ran} · last value {last}"


def sources_table(slug: str | None, lines: Sequence[str]) -> Message:
    scope = f"*{slug}*" if slug else "all use cases"
    if not lines:
        text = (f"No KPI sources for {scope}. Declare them in the KPI source file "
                "(`BIZDEVOPS_KPI_SOURCES`); the README has an example.")
        return message(text.replace("*", ""), [section(text)])
    blocks: list[Block] = [header(f"🔌 KPI sources — {slug or 'all use cases'}")]
    blocks += bulleted(list(lines), max_blocks=45, more="sources")
    blocks.append(context("Pull one now: `/metric pull <slug> <name>` (owner, team, admins)"))
    return message(f"KPI sources of {slug or 'all use cases'}: {len(lines)}", blocks)
