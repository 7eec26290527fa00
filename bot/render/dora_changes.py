"""DORA, this period against the one before: the change of each metric, in words a card shows
("+2 per week (better)", "−3 h (better)", "+5 pts (worse)")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain.dora import CHANGE_FAILURE_RATE, FREQUENCY, LEAD_TIME, NA, TIME_TO_RESTORE, DoraReport
from bot.domain.metrics import MINUS, format_number


def compare(current: DoraReport, previous: DoraReport) -> dict[str, str]:
    """Per metric, the change since the previous period, e.g. "+2 per week (better)", "−3 h
    (better)", "+5 pts (worse)"; "no change", or "n/a" when either period has no value."""
    return {
        FREQUENCY: _change((current.frequency_per_day - previous.frequency_per_day) * 7
                           if current.deployments or previous.deployments else None,
                           lambda v: f"{format_number(v)} per week", higher_is_better=True),
        LEAD_TIME: _change(_seconds_between(current.lead_time, previous.lead_time),
                           lambda v: short_duration(timedelta(seconds=v))),
        CHANGE_FAILURE_RATE: _change(None if current.change_failure_rate is None
                                     or previous.change_failure_rate is None
                                     else (current.change_failure_rate
                                           - previous.change_failure_rate) * 100,
                                     lambda v: f"{format_number(v)} pts"),
        TIME_TO_RESTORE: _change(_seconds_between(current.time_to_restore, previous.time_to_restore),
                                 lambda v: short_duration(timedelta(seconds=v))),
    }


def _seconds_between(current: timedelta | None, previous: timedelta | None) -> float | None:
    return None if current is None or previous is None else (current - previous).total_seconds()


def _change(diff: float | None, text: Callable[[float], str], *, higher_is_better: bool = False) -> str:
    if diff is None:
        return NA
    if abs(diff) < 1e-9:
        return "no change"
    better = (diff > 0) == higher_is_better
    sign = "+" if diff > 0 else MINUS
    return f"{sign}{text(abs(diff))} ({'better' if better else 'worse'})"


def short_duration(delta: timedelta) -> str:
    """Compact, for tables: "45 s", "12 min", "3.5 h", "2 d"."""
    seconds = abs(delta.total_seconds())
    sign = MINUS if delta < timedelta() else ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{sign}{format_number(round(seconds / size, 1))} {unit}"
    return f"{sign}{format_number(round(seconds))} s"
