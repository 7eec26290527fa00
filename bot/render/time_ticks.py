"""Axis ticks for the hand-written SVG charts: times across a whole period at round UTC moments
(on the hour, at midnight, on the first of a month), values at round numbers (1, 2, 2.5 or 5
times a power of ten). Pure, no matplotlib."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bot.domain.metrics import format_number

MOST_TIME_TICKS = 7
# Steps in seconds, smallest first; a month and a quarter are calendar months.
_STEPS = [60 * m for m in (1, 5, 15, 30)] + [3600 * h for h in (1, 3, 6, 12)] + \
    [86400 * d for d in (1, 2, 7, 14)]
_MONTHS = (1, 3, 6, 12)
_DAY = 86400


def time_ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """At most seven round moments in ``[start, end]``, each with its label: ``14:05`` (and the
    day at midnight), ``5 Jan``, or ``Jan 2026``."""
    span = (end - start).total_seconds()
    if span <= 0:
        return [(start, _label(start, 60))]
    for step in _STEPS:
        if span / step <= MOST_TIME_TICKS - 1:
            return [(t, _label(t, step)) for t in _every(start, end, step)]
    for months in _MONTHS:
        if span / (months * 30.4 * _DAY) <= MOST_TIME_TICKS - 1:
            return [(t, f"{t:%b %Y}") for t in _months(start, end, months)]
    years = max(1, math.ceil(span / (365.25 * _DAY) / (MOST_TIME_TICKS - 1)))
    return [(t, f"{t:%Y}") for t in _months(start, end, 12 * years)]


def _every(start: datetime, end: datetime, step: int) -> list[datetime]:
    """Multiples of ``step`` seconds since the epoch (weeks: since a Monday) in [start, end]."""
    offset = 4 * _DAY if step % (7 * _DAY) == 0 else 0  # 1970-01-05 was a Monday
    first = math.ceil((start.timestamp() - offset) / step) * step + offset
    ticks, t = [], first
    while t <= end.timestamp():
        ticks.append(datetime.fromtimestamp(t, UTC))
        t += step
    return ticks


def _months(start: datetime, end: datetime, months: int) -> list[datetime]:
    """The first of every ``months``-th month (counted from January) in [start, end]."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    index = start.year * 12 + start.month - 1
    index += -index % months
    ticks: list[datetime] = []
    while True:
        t = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
        if t < start:
            index += months
            continue
        if t > end:
            return ticks
        ticks.append(t)
        index += months


def _label(t: datetime, step: int) -> str:
    if step >= _DAY:
        return f"{t.day} {t:%b}"
    if t.hour == 0 and t.minute == 0:
        return f"{t.day} {t:%b}"
    return f"{t:%H:%M}"


def value_ticks(bottom: float, top: float, most: int = 6) -> list[tuple[float, str]]:
    """Round values in ``[bottom, top]``, at most ``most`` of them, each with its label."""
    if not top > bottom:
        return [(bottom, format_number(bottom))]
    raw = (top - bottom) / max(1, most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(bottom / step)
    ticks = []
    for i in range(first, math.floor(top / step) + 1):
        value = i * step
        value = 0.0 if abs(value) < step * 1e-9 else round(value, 12)
        ticks.append((value, format_number(value)))
    return ticks
