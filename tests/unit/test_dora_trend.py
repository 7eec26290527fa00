"""The DORA trend's buckets and values (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.dora import (
    CHANGE_FAILURE_RATE,
    FREQUENCY,
    LEAD_TIME,
    TIME_TO_RESTORE,
    DoraCounts,
)
from bot.domain.dora_trend import bucket_size, buckets, trend

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def lengths(days: int) -> list[float]:
    return [(until - since) / DAY for since, until in buckets(NOW, days)]


@pytest.mark.parametrize(("days", "expected"), [
    (1, [1]),
    (7, [1] * 7),
    (14, [1] * 14),
    (15, [8, 7]),            # one day left over: it joins the oldest week
    (20, [6, 7, 7]),         # six days left over: a bucket of their own
    (30, [9, 7, 7, 7]),
    (91, [7] * 13),
    (92, [8] + [14] * 6),     # two weeks a bucket beyond a quarter
])
def test_buckets_are_days_then_weeks_the_oldest_takes_the_rest(days: int,
                                                              expected: list[float]) -> None:
    assert lengths(days) == expected


@pytest.mark.parametrize("days", [1, 2, 13, 14, 15, 29, 30, 31, 60, 90, 91, 92, 180, 365, 366])
def test_buckets_cover_the_period_without_gaps_or_overlaps(days: int) -> None:
    windows = buckets(NOW, days)
    assert windows[0][0] == NOW - days * DAY and windows[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(since < until for since, until in windows)
    size = bucket_size(days)
    assert all(until - since == size for since, until in windows[1:])
    assert size / 2 <= windows[0][1] - windows[0][0] < size * 1.5
    assert len(windows) <= 14, "each bucket costs a statement: a year is about a dozen"


def test_bucket_sizes() -> None:
    assert bucket_size(14) == DAY and bucket_size(15) == 7 * DAY and bucket_size(91) == 7 * DAY
    assert bucket_size(92) == 14 * DAY and bucket_size(366) == 35 * DAY


def counts(deployments: int = 0, failed: int = 0, lead: timedelta | None = None,
           restore: timedelta | None = None) -> DoraCounts:
    return DoraCounts(deployments=deployments, failed=failed, dry_runs=0, lead_time=lead,
                      time_to_restore=restore, unrestored=0)


def test_trend_per_week_percent_and_hours_at_each_buckets_end() -> None:
    windows = buckets(NOW, 30)  # 9, 7, 7, 7 days
    lines = {line.metric: line for line in trend(windows, [
        counts(9, 3, timedelta(hours=2), timedelta(minutes=30)),
        counts(),
        counts(2, 0, timedelta(days=1)),
        counts(1, 1, None, None),
    ])}

    ends = [until for _since, until in windows]
    assert lines[FREQUENCY].times == ends
    assert lines[FREQUENCY].values == pytest.approx([7.0, 0.0, 2.0, 1.0])  # per week
    assert lines[CHANGE_FAILURE_RATE].times == [ends[0], ends[2], ends[3]]
    assert lines[CHANGE_FAILURE_RATE].values == pytest.approx([100 / 3, 0.0, 100.0])
    assert lines[LEAD_TIME].times == [ends[0], ends[2]]
    assert lines[LEAD_TIME].values == pytest.approx([2.0, 24.0])
    assert lines[TIME_TO_RESTORE].times == [ends[0]]
    assert lines[TIME_TO_RESTORE].values == pytest.approx([0.5])


def test_trend_needs_one_count_per_bucket() -> None:
    with pytest.raises(ValueError):
        trend(buckets(NOW, 30), [counts()])
