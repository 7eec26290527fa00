"""A pasted link to a use case's dashboard page, unfurled: the use case at a glance (title, phase
and time in it, owner, what runs in production, each KPI's newest value against its target).

The outbox sends it as one attachment of ``chat.unfurl``: these blocks, this text as its fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.metrics import format_number, with_unit
from bot.domain.usecase_results import KpiStanding, UseCaseSummary
from bot.render.blocks import MAX_BLOCKS, Message, bulleted, message, overdue_flag, phase_label, section
from bot.render.durations import humanize
from bot.render.metric_blocks import target_status
from bot.render.mrkdwn import escape
from bot.render.production_words import production_line

MOST_KPIS = 10  # lines; a use case with more is counted, its page shows them all


def kpi_standing(k: KpiStanding, success: bool) -> str:
    """E.g. "• *churn_rate* (success KPI) 4.1% · ✅ met ≤ 5% ↓ (by 0.9%)"."""
    name = f"*{escape(k.name)}*" + (" (success KPI)" if success else "")
    unit = escape(k.unit)
    if k.value is None:
        goal = f" · target {with_unit(k.target.describe(), unit)}" if k.target else ""
        return f"• {name} no value yet{goal}"
    shown = with_unit(format_number(k.value), unit)
    if k.target is None:
        return f"• {name} {shown} · no target"
    met = "✅" if k.target.is_met(k.value) else "❌"
    return f"• {name} {shown} · {met} {target_status(k.target, k.value, unit)}"


def summary(s: UseCaseSummary) -> Message:
    uc = s.use_case
    lines = [f"*{uc.slug} — {escape(uc.title)}*",
             f"{phase_label(uc.phase)} for {humanize(uc.time_in_phase(s.now))} · owner <@{uc.owner_id}>"
             + (f" · {flag}" if (flag := overdue_flag(uc, s.now, s.timebox)) else ""),
             f"🎯 In production: {production_line(s.production, s.tz)}"]
    shown = [kpi_standing(k, k.name == uc.kpi) for k in s.kpis[:MOST_KPIS]]
    kpis = bulleted(shown, max_blocks=MAX_BLOCKS - 1, more="KPIs",
                    hidden=len(s.kpis) - len(shown)) if shown else []
    fallback = f"{uc.slug} — {escape(uc.title)}: {uc.phase.label}, owner <@{uc.owner_id}>"
    return message(fallback, [section("\n".join(lines)), *kpis])


CARDS: dict[type, Callable[[Any], Message]] = {UseCaseSummary: summary}
