"""KPI domain: names, values, units, targets, deltas, look-backs, sparklines, crossings, formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.metrics import (
    SPARK_BARS,
    Delta,
    Point,
    Target,
    crossing,
    delta,
    format_delta,
    format_number,
    parse_op,
    parse_value,
    sparkline,
    summarize,
    validate_name,
    validate_unit,
)
from bot.domain.usecases import DomainError
from bot.render.metric_blocks import target_status
from bot.render.refusals import said

NOW = datetime(2024, 5, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def pt(days_ago: float, value: float) -> Point:
    return Point(NOW - timedelta(days=days_ago), value)


# ── input ────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("text", "value"), [
    ("0.5", 0.5), ("-3", -3.0), ("1e-3", 0.001), ("+2", 2.0), ("1.5E6", 1.5e6), (".5", 0.5),
    ("7.", 7.0), (" 42 ", 42.0), ("0", 0.0),
])
def test_parse_value_accepts_plain_numbers(text: str, value: float) -> None:
    assert parse_value(text) == value


@pytest.mark.parametrize(("text", "says"), [
    ("nan", "not a finite number"), ("NaN", "not a finite number"), ("inf", "not a finite number"),
    ("-inf", "not a finite number"), ("Infinity", "not a finite number"),
    ("1e309", "too large"), ("-1e309", "too large"),
    ("abc", "not a number"), ("0x10", "not a number"),
    ("", "A value is needed"), ("   ", "A value is needed"),
    ("1,000", "without separators"), ("1_000", "without separators"), ("1.2.3", "without separators"),
    ("87%", "unit=%"),
])
def test_parse_value_refuses_with_a_reason_and_an_example(text: str, says: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_value(text)
    assert says in said(e.value)
    assert "e.g." in said(e.value) or "like" in said(e.value) or "unit=%" in said(e.value)


def test_parse_value_escapes_what_it_quotes() -> None:
    with pytest.raises(DomainError) as e:
        parse_value("<!channel>")
    assert "&lt;!channel&gt;" in said(e.value)


@pytest.mark.parametrize("name", ["accuracy", "p95_latency_ms", "a", "auc.roc", "0-day", "x" * 64])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "_x", ".x", "-x", "x" * 65, "has space", "üml", "a/b"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_name(name)
    assert "not a valid metric name" in said(e.value)


def test_uppercase_name_suggests_the_lowercase_one() -> None:
    with pytest.raises(DomainError) as e:
        validate_name("Accuracy")
    assert "Did you mean `accuracy`" in said(e.value)


def test_units() -> None:
    assert validate_unit(" ms ") == "ms"
    assert validate_unit("") == ""
    assert validate_unit("x" * 32) == "x" * 32
    with pytest.raises(DomainError) as e:
        validate_unit("x" * 33)
    assert "at most 32" in said(e.value)
    with pytest.raises(DomainError) as e:
        validate_unit("ms\nEUR")
    assert "one line" in said(e.value)


@pytest.mark.parametrize(("text", "op"), [(">=", ">="), ("≥", ">="), ("<=", "<="), ("≤", "<="),
                                          (">", ">"), ("<", "<")])
def test_parse_op(text: str, op: str) -> None:
    assert parse_op(text) == op


@pytest.mark.parametrize("text", ["=", "==", "=>", "gt", ""])
def test_parse_op_refuses(text: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_op(text)
    assert "not a comparison" in said(e.value)


# ── targets ──────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("op", "value", "met"), [
    (">=", 0.8, True), (">=", 0.79, False), (">", 0.8, False), (">", 0.81, True),
    ("<=", 0.8, True), ("<=", 0.81, False), ("<", 0.8, False), ("<", 0.79, True),
])
def test_target_is_met_at_and_around_the_boundary(op: str, value: float, met: bool) -> None:
    assert Target(op, 0.8).is_met(value) is met


def test_target_direction_and_description() -> None:
    assert Target(">=", 0.8).better_direction == "up"
    assert Target(">", 0.8).arrow == "↑"
    assert Target("<=", 200).better_direction == "down"
    assert Target("<", 200).arrow == "↓"
    assert Target(">=", 0.8).describe() == "≥ 0.8"
    assert Target("<", 1500).describe() == "< 1,500"


def test_target_needs_a_normalised_op() -> None:
    with pytest.raises(ValueError):
        Target("≥", 1)


def test_target_status_text() -> None:
    assert target_status(Target(">=", 0.8), 0.812) == "met ≥ 0.8 ↑ (by 0.012)"
    assert target_status(Target("<=", 200), 235, "ms") == "missed ≤ 200 ms ↓ (by 35 ms)"


def test_crossing_announces_each_flip_once_and_never_repeats() -> None:
    target = Target(">=", 0.8)
    state: str | None = None
    announced = []
    for value in [0.7, 0.75, 0.79, 0.81, 0.85, 0.8, 0.6, 0.6, 0.5, 0.9, 0.9]:
        state, announce = crossing(state, target, value)
        if announce:
            announced.append((value, state))
    assert announced == [(0.81, "met"), (0.6, "missed"), (0.9, "met")]


def test_crossing_first_value_only_sets_the_state() -> None:
    assert crossing(None, Target("<", 100), 50) == ("met", False)
    assert crossing(None, Target("<", 100), 150) == ("missed", False)
    assert crossing("met", Target("<", 100), 100) == ("missed", True)
    assert crossing("missed", Target("<", 100), 120) == ("missed", False)


# ── deltas and summaries ─────────────────────────────────────────────────────────────────────

def test_delta() -> None:
    assert delta(0.85, 0.8).absolute == pytest.approx(0.05)
    assert delta(0.85, 0.8).percent == pytest.approx(6.25)
    assert delta(90, 100) == Delta(-10, -10.0)
    assert delta(5, 0) == Delta(5, None)              # no percentage from a zero base
    assert delta(-1, -2) == Delta(1, 50.0)            # up from a negative base is positive


def test_summary_latest_previous_and_look_backs() -> None:
    points = [pt(40, 0.5), pt(30, 0.6), pt(10, 0.7), pt(7, 0.75), pt(2, 0.8), pt(0.5, 0.9)]
    s = summarize("accuracy", "", list(reversed(points)), now=NOW, target=Target(">=", 0.85))
    assert s is not None
    assert s.latest == pt(0.5, 0.9)
    assert s.previous is not None and s.previous.absolute == pytest.approx(0.1)
    # exactly 7 and 30 days ago: those points are "at or before" the moment, so they are used
    assert s.week is not None and s.week.absolute == pytest.approx(0.15)
    assert s.month is not None and s.month.absolute == pytest.approx(0.3)
    assert s.month.percent == pytest.approx(50.0)
    assert s.target_met is True and s.gap == pytest.approx(0.05)
    assert s.count == 4                               # the 30- and 40-day-old points are outside
    assert s.sparkline == "▁▃▅█"


def test_summary_look_back_just_after_the_boundary_uses_an_older_point() -> None:
    points = [pt(8, 1), pt(7 - 1e-6, 2), pt(0, 4)]
    s = summarize("x", "", points, now=NOW)
    assert s is not None and s.week == delta(4, 1)
    assert s.month is None                            # nothing that old
    assert s.target is None and s.target_met is None and s.gap is None


def test_summary_of_one_point_and_of_none() -> None:
    assert summarize("x", "", [], now=NOW) is None
    s = summarize("x", "ms", [pt(1, 120)], now=NOW, target=Target("<=", 100))
    assert s is not None
    assert s.previous is None and s.week is None and s.month is None
    assert s.sparkline == "▄"
    assert s.target_met is False and s.gap == 20


def test_summary_of_an_old_series_has_no_sparkline() -> None:
    s = summarize("x", "", [pt(50, 1), pt(40, 2)], now=NOW, days=30)
    assert s is not None and s.sparkline == "" and s.count == 0
    assert s.week == Delta(0, 0.0)                    # as of a week ago it was already 2


def test_summary_downsamples_by_time_to_at_most_20_bars() -> None:
    # 60 points in the first half of the period and one at the end: the bars follow time
    points = [Point(NOW - 30 * DAY + timedelta(hours=6 * i + 1), 1.0) for i in range(60)]
    points.append(Point(NOW, 10.0))
    s = summarize("x", "", points, now=NOW)
    assert s is not None and s.count == 61
    assert 2 <= len(s.sparkline) <= 20
    assert s.sparkline[-1] == "█" and set(s.sparkline[:-1]) == {"▁"}


# ── sparklines ───────────────────────────────────────────────────────────────────────────────

def test_sparkline_shapes() -> None:
    assert sparkline([]) == ""
    assert sparkline([3.0]) == "▄"
    assert sparkline([2, 2, 2]) == "▄▄▄"
    assert sparkline(range(8)) == SPARK_BARS
    assert sparkline([8, 1]) == "█▁"
    assert sparkline([-5, -1, -3]) == "▁█▅"
    # The largest floats of either sign: their difference is no float, their shape still is.
    assert sparkline([-1.7e308, 0.0, 1.7e308]) == "▁▅█"
    assert sparkline([1.7e308, 1.7e308, 1.7e308, -1.7e308], width=2) == "▄▄"  # averages overflow


def test_sparkline_averages_long_series_down_to_the_width() -> None:
    line = sparkline([0.0] * 50 + [1.0] * 50, width=10)
    assert line == "▁" * 5 + "█" * 5
    assert len(sparkline(list(range(100)))) == 20


# ── formatting ───────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("value", "text"), [
    (0.8123, "0.812"), (12345.6, "12,346"), (1e-5, "1e-05"), (0, "0"), (-0.0, "0"), (1.5, "1.5"),
    (123.456, "123"), (999.7, "1,000"), (-0.8123, "−0.812"), (0.0001234, "0.000123"), (1e20, "1e+20"),
])
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_format_delta() -> None:
    assert format_delta(Delta(0.05, 6.666)) == "+0.05 (+6.7%)"
    assert format_delta(Delta(-3, -1.2), "ms") == "−3 ms (−1.2%)"
    assert format_delta(Delta(2, 150.0), "%") == "+2% (+150%)"
    assert format_delta(Delta(5, None)) == "+5"
    assert format_delta(Delta(0, 0.0)) == "±0 (0%)"
    assert format_delta(Delta(0.05, 6.7), arrow=True) == "↑ +0.05 (+6.7%)"
    assert format_delta(Delta(-1, None), arrow=True) == "↓ −1"
