"""The pure core of continuous KPIs: fire times every process agrees on, the one missed pull,
a source's health announced only when it changes, and the kpi gate's rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.kpis import (
    Change,
    Every,
    MaxDrop,
    Shortfall,
    SourceStatus,
    after_pull,
    judge,
    latest_fire,
)
from bot.domain.metrics import Target
from bot.domain.schedule import Schedule
from bot.pipelines.executor_values import parse_max_drop

NOW = datetime(2026, 11, 30, 15, 30, 12, tzinfo=UTC)


def test_every_fires_on_multiples_of_its_interval_since_the_epoch() -> None:
    hourly = Every(timedelta(hours=1))
    assert hourly.next_fire(NOW) == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert hourly.next_fire(datetime(2026, 11, 30, 16, tzinfo=UTC)) == datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert Every(timedelta(minutes=15)).next_fire(NOW) == datetime(2026, 11, 30, 15, 45, tzinfo=UTC)


@given(st.integers(min_value=60, max_value=86400 * 7),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.floats(min_value=0, max_value=1, exclude_max=True))
def test_two_processes_asking_at_different_moments_agree_on_fire_times(
        seconds: int, at: datetime, share: float) -> None:
    """Any moment between two fire times gets the same next one: a multiple of the interval."""
    every = Every(timedelta(seconds=seconds))
    fire = every.next_fire(at.replace(tzinfo=UTC))
    assert (fire - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() % seconds == 0
    previous = fire - every.interval
    other = previous + timedelta(microseconds=int(seconds * 10**6 * share))
    assert previous <= other < fire
    assert every.next_fire(other) == fire


def test_the_newest_fire_time_not_after_now() -> None:
    hourly = Every(timedelta(hours=1))
    assert latest_fire(hourly, NOW) == datetime(2026, 11, 30, 15, tzinfo=UTC)
    sharp = datetime(2026, 11, 30, 15, tzinfo=UTC)
    assert latest_fire(hourly, sharp) == sharp


def test_down_for_days_makes_one_pull_the_newest() -> None:
    hourly = Every(timedelta(hours=1))
    last = NOW - timedelta(days=3)
    assert latest_fire(hourly, NOW, last) == datetime(2026, 11, 30, 15, tzinfo=UTC)


def test_nothing_is_due_when_the_newest_fire_time_was_claimed() -> None:
    hourly = Every(timedelta(hours=1))
    assert latest_fire(hourly, NOW, datetime(2026, 11, 30, 15, tzinfo=UTC)) is None


def test_a_kpi_cron_may_fire_every_few_minutes_in_its_zone() -> None:
    cron = Schedule("*/5 * * * *", "Europe/Berlin", min_interval=timedelta(minutes=1))
    assert latest_fire(cron, NOW) == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    daily = Schedule("0 6 * * *", "Europe/Berlin", min_interval=timedelta(minutes=1))
    assert latest_fire(daily, NOW) == datetime(2026, 11, 30, 5, tzinfo=UTC)


def test_a_source_that_starts_failing_is_announced_once_and_its_recovery_once() -> None:
    status, change = after_pull(None, 0.8, "", NOW)
    assert change is None and status == SourceStatus(False, NOW, 0.8, "", None)
    t1, t2, t3 = (NOW + timedelta(hours=h) for h in (1, 2, 3))
    status, change = after_pull(status, None, "timeout", t1)
    assert change is Change.FAILING and status.failing and status.since == t1
    assert status.last_value == 0.8  # the last good value stays known
    status, change = after_pull(status, None, "still down", t2)
    assert change is None and status.error == "still down" and status.since == t1
    status, change = after_pull(status, 0.9, "", t3)
    assert change is Change.RECOVERED and not status.failing and status.last_value == 0.9


def test_a_source_failing_from_its_first_pull_is_announced() -> None:
    _status, change = after_pull(None, None, "no such table", NOW)
    assert change is Change.FAILING


@pytest.mark.parametrize(("text", "expected"), [
    ("2%", MaxDrop(2, percent=True)), (0.02, MaxDrop(0.02)), ("0.5", MaxDrop(0.5)), (3, MaxDrop(3)),
    ("0 %", MaxDrop(0, percent=True)),
])
def test_max_drop_is_a_number_or_a_percentage(text: object, expected: MaxDrop) -> None:
    assert parse_max_drop(text) == expected


@pytest.mark.parametrize("bad", ["-1", "two", "", "%", True, None, "nan", "inf%"])
def test_max_drop_refuses_anything_else(bad: object) -> None:
    with pytest.raises(ValueError, match="number or a percentage"):
        parse_max_drop(bad)


AUC_TARGET = Target(">=", 0.83)


def test_no_fresh_value_fails_closed() -> None:
    verdict = judge("auc", "", None, target=AUC_TARGET, baseline=0.9, max_drop=MaxDrop(2, True))
    assert not verdict.passed and verdict.failed is Shortfall.NO_FRESH_VALUE


def test_a_missed_target_fails_naming_the_value_and_the_target() -> None:
    verdict = judge("auc", "", 0.8, target=AUC_TARGET, baseline=None, max_drop=None)
    assert not verdict.passed and verdict.failed is Shortfall.MISSES_TARGET
    assert (verdict.fresh, verdict.target) == (0.8, AUC_TARGET)


def test_a_drop_beyond_max_drop_fails_even_above_the_target() -> None:
    verdict = judge("auc", "", 0.85, target=AUC_TARGET, baseline=0.9, max_drop=MaxDrop(2, True))
    assert not verdict.passed and verdict.failed is Shortfall.WORSE_THAN_START
    assert verdict.worse == pytest.approx(0.05)


def test_within_max_drop_and_on_target_passes() -> None:
    verdict = judge("auc", "", 0.89, target=AUC_TARGET, baseline=0.9, max_drop=MaxDrop(2, True))
    assert verdict.passed and verdict.worse == pytest.approx(0.01)


def test_for_a_lower_is_better_kpi_a_rise_is_the_drop() -> None:
    latency = Target("<=", 300)
    worse = judge("p95", "ms", 260, target=latency, baseline=200, max_drop=MaxDrop(50))
    better = judge("p95", "ms", 150, target=latency, baseline=200, max_drop=MaxDrop(10))
    assert not worse.passed and worse.worse == 60
    assert better.passed and better.worse == -50


def test_without_a_baseline_the_drop_rule_cannot_compare_and_passes() -> None:
    verdict = judge("auc", "", 0.9, target=None, baseline=None, max_drop=MaxDrop(1))
    assert verdict.passed and verdict.worse is None
