"""A KPI chart's facts (bot/domain/kpi_chart.py): the y-range rule by its examples, the latest
value, its change over the period and whether the target is met."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.kpi_chart import (
    KpiChart,
    change,
    chart_range,
    latest,
    met_band,
    target_met,
    y_range,
)
from bot.domain.metrics import Point, Target

END = datetime(2026, 1, 5, 12, tzinfo=UTC)
START = END - timedelta(days=30)


def chart(*values: float, target: Target | None = None) -> KpiChart:
    points = tuple(Point(START + timedelta(days=i + 1), v) for i, v in enumerate(values))
    return KpiChart("churn", "Predict churn", "auc", "ratio", points, target, START, END)


def exaggeration(values: list[float], bottom: float, top: float) -> float:
    """How many times bigger the values' spread looks on the chart than it is relative to the
    largest magnitude (1: true to scale)."""
    low, high = min(values), max(values)
    magnitude = max(abs(low), abs(high))
    return ((high - low) / (top - bottom)) / ((high - low) / magnitude)


@pytest.mark.parametrize(("values", "target", "expected"), [
    # +1 % is no cliff: zero is in range, the data sits near the top
    ([100.0, 101.0], None, (0 - 5.05, 101 + 5.05)),
    # an AUC near its target: zero, the target and every value in range
    ([0.79, 0.81, 0.80], 0.83, (-0.0415, 0.8715)),
    # all negative and close together: zero at the top
    ([-50.0, -52.0], None, (-52 - 2.6, 0 + 2.6)),
    # a wide spread: the values' own range, with 5 % margins (zero is close anyway)
    ([10.0, 100.0], None, (10 - 4.5, 100 + 4.5)),
    # values straddling zero: their own range
    ([-3.0, 5.0], None, (-3 - 0.4, 5 + 0.4)),
    # a far target widens the range to hold it; then the spread is wide: no zero needed
    ([1.0, 2.0, 3.0], 7.0, (1 - 0.3, 7 + 0.3)),
    # one value: zero to it
    ([4.0], None, (-0.2, 4.2)),
    # only zeros: a unit range
    ([0.0, 0.0], None, (0.0, 1.0)),
    # nothing at all, but a target: zero to the target
    ([], 0.9, (-0.045, 0.945)),
    ([], None, (0.0, 1.0)),
], ids=["plus-one-percent", "auc-near-target", "negative", "wide", "straddling", "far-target",
        "one-value", "zeros", "only-target", "nothing"])
def test_the_y_range_rule_by_example(values: list[float], target: float | None,
                                     expected: tuple[float, float]) -> None:
    bottom, top = y_range(values, target)
    assert (bottom, top) == pytest.approx(expected)
    assert bottom < top
    shown = [*values, *([] if target is None else [target])]
    assert all(bottom < v < top for v in shown if v != 0) and all(bottom <= v <= top for v in shown)


@pytest.mark.parametrize("values", [[100.0, 101.0], [0.8, 0.83], [10.0, 100.0], [50.0, 100.0],
                                    [51.0, 100.0], [1e6, 1.2e6], [-40.0, -80.0]])
def test_no_change_looks_more_than_twice_its_relative_size(values: list[float]) -> None:
    assert exaggeration(values, *y_range(values)) <= 2.0


def test_latest_change_and_the_target_met() -> None:
    missed = chart(0.84, 0.80, 0.79, target=Target(">=", 0.83))
    assert latest(missed) == missed.points[-1]
    moved = change(missed)
    assert moved is not None and moved.absolute == pytest.approx(0.79 - 0.84)
    assert moved.percent == pytest.approx((0.79 - 0.84) / 0.84 * 100)
    assert target_met(missed) is False
    assert target_met(chart(0.9, target=Target(">=", 0.83))) is True
    assert target_met(chart(100, target=Target("<", 120))) is True


def test_without_points_or_target_there_is_nothing_to_say() -> None:
    empty = chart(target=Target(">=", 0.83))
    assert (latest(empty), change(empty), target_met(empty)) == (None, None, None)
    one = chart(0.8)
    assert (change(one), target_met(one), one.higher_is_better) == (None, None, None)


def test_the_met_band_runs_from_the_target_to_the_better_edge() -> None:
    higher = chart(0.79, 0.8, target=Target(">=", 0.83))
    bottom, top = chart_range(higher)
    assert met_band(Target(">=", 0.83), bottom, top) == (0.83, top)
    assert met_band(Target("<=", 120), 0, 200) == (0, 120)
    assert higher.higher_is_better is True
