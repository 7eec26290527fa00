"""The DORA trend: a period cut into buckets (days, or weeks), each counted like a report.

The buckets end at ``now`` and go back over the period, all of one size, except the oldest: it
takes what is left, and joins the next one when shorter than half a bucket (30 days are four
weeks, the oldest of nine days). Up to 14 days, buckets are days; up to 91 days, weeks; beyond,
a few weeks each, so a year is about a dozen buckets (storage counts each bucket's median with
a statement of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.dora import (
    CHANGE_FAILURE_RATE,
    FREQUENCY,
    LEAD_TIME,
    TIME_TO_RESTORE,
    DoraCounts,
)

DAILY_UP_TO = 14       # days
WEEKLY_UP_TO = 91      # days
HOUR = timedelta(hours=1)
Window = tuple[datetime, datetime]  # (since, until]


def bucket_size(days: int) -> timedelta:
    """Days for short periods, weeks up to a quarter, then a whole number of weeks."""
    if days <= DAILY_UP_TO:
        return timedelta(days=1)
    weeks = -(-days // WEEKLY_UP_TO)  # ceil: at most about 13 buckets
    return timedelta(weeks=weeks)


def buckets(now: datetime, days: int) -> list[Window]:
    """The windows (since, until] that cover (now - days, now], oldest first, without gaps."""
    size, start = bucket_size(days), now - timedelta(days=days)
    edges = [now]
    while edges[-1] - size > start:
        edges.append(edges[-1] - size)
    if len(edges) > 1 and edges[-1] - start < size / 2:
        edges.pop()  # a short remainder joins the bucket after it
    edges.append(start)
    edges.reverse()
    return list(zip(edges, edges[1:], strict=False))


@dataclass(frozen=True)
class TrendLine:
    """One metric over the buckets: the end of each bucket that has a value, and the value."""

    metric: str
    times: list[datetime]
    values: list[float]


def trend(windows: Sequence[Window], counts: Sequence[DoraCounts]) -> list[TrendLine]:
    """Per bucket: deployments per week, change failure rate in %, and the lead time and time to
    restore in hours; a bucket without deployments (or restores) has no value but frequency 0."""
    lines = {metric: TrendLine(metric, [], []) for metric in
             (FREQUENCY, CHANGE_FAILURE_RATE, LEAD_TIME, TIME_TO_RESTORE)}
    for (since, until), c in zip(windows, counts, strict=True):
        weeks = (until - since) / timedelta(weeks=1)
        values = {
            FREQUENCY: c.deployments / weeks if weeks > 0 else 0.0,
            CHANGE_FAILURE_RATE: 100 * c.failed / c.deployments if c.deployments else None,
            LEAD_TIME: c.lead_time / HOUR if c.lead_time is not None else None,
            TIME_TO_RESTORE: c.time_to_restore / HOUR if c.time_to_restore is not None else None,
        }
        for metric, value in values.items():
            if value is not None:
                lines[metric].times.append(until)
                lines[metric].values.append(value)
    return list(lines.values())
