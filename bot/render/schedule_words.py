"""Schedules in words: a digest's or a KPI's cron ("at 09:00 on Mon–Fri (Europe/Berlin)"), a
KPI's interval ("every 5 minutes"), a recurring freeze ("… for 2 days 15 hours")."""

from __future__ import annotations

from bot.domain.freezes import RecurringFreeze
from bot.domain.kpis import Every, KpiSchedule
from bot.domain.schedule import monday_first, month_numbers, weekdays
from bot.render.durations import humanize

_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")  # crontab order
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def schedule_words(schedule: KpiSchedule) -> str:
    """Human text; a cron too unusual to put in words is shown as it is."""
    if isinstance(schedule, Every):
        return f"every {humanize(schedule.interval)}"
    return f"{_cron_words(schedule.cron.split()) or f'`{schedule.cron}`'} ({schedule.tz})"


def freeze_words(freeze: RecurringFreeze) -> str:
    """E.g. "at 18:00 on Fridays (Europe/Berlin) for 2 days 15 hours"."""
    return f"{schedule_words(freeze.schedule)} for {humanize(freeze.duration)}"


def _cron_words(fields: list[str]) -> str | None:
    minute, hour, day, month, weekday = fields
    if not minute.isdigit():
        return None
    if hour == "*":
        return f"every hour at :{int(minute):02d}" if (day, month, weekday) == ("*", "*", "*") else None
    hours = hour.split(",")
    if not all(h.isdigit() for h in hours):
        return None
    times = _and([f"{int(h):02d}:{int(minute):02d}" for h in hours])
    days = _days(day, month, weekday)
    return f"at {times} {days}" if days else None


def _days(day: str, month: str, weekday: str) -> str | None:
    numbers = month_numbers(month)
    if numbers is None:
        return None
    months = _and([_MONTHS[n - 1] for n in numbers]) if numbers else ""
    in_months = f" in {months}" if months else ""
    if day == "*" and weekday == "*":
        return f"every day{in_months}"
    if day == "*":
        return f"on {_weekday_words(weekdays(weekday))}{in_months}"
    if weekday != "*":
        return None
    if day == "last":
        return f"on the last day of {months or 'every month'}"
    if day.isdigit():
        return f"on the {_ordinal(int(day))} of {months or 'every month'}"
    return None


def _weekday_words(days: set[int]) -> str:
    if len(days) == 1:
        return _DAYS[next(iter(days))] + "s"
    runs: list[list[int]] = []
    for d in sorted(days, key=monday_first):
        if runs and monday_first(d) == monday_first(runs[-1][-1]) + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts: list[str] = []
    for r in runs:
        names = [_DAYS[d][:3] for d in r]
        parts += [f"{names[0]}–{names[-1]}"] if len(names) > 2 else names
    return _and(parts)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
