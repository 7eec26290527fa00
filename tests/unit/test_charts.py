"""KPI charts: readable time ticks at any spacing, the target's met side shaded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.axes import Axes

from bot.render.charts import Panel, chart_figure, kpi_charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 3, 2, 9, 36, 22, tzinfo=UTC)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HUMAN = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b|\b\d{2}:\d{2}\b|^\d{4}$")
FRACTION = re.compile(r"\d\.\d")  # 36:22.000000 or 22.5


def series(step: timedelta, n: int = 10) -> tuple[list[datetime], list[float]]:
    return [START + i * step for i in range(n)], [float(i % 4) for i in range(n)]


def tick_labels(panel: Panel) -> tuple[list[str], str]:
    figure = chart_figure("churn — last 30 days", [panel])
    figure.canvas.draw()
    [axes] = figure.axes
    labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    return labels, axes.xaxis.get_offset_text().get_text()


@pytest.mark.parametrize("step", [timedelta(seconds=30), timedelta(minutes=5), timedelta(days=3),
                                  timedelta(days=243)], ids=["30s", "5min", "3days", "8months"])
def test_time_ticks_are_readable_at_any_spacing(step: timedelta) -> None:
    times, values = series(step)

    labels, offset = tick_labels(Panel("latency", "ms", times, values))

    assert len(labels) >= 2, labels
    for label in labels:
        assert not FRACTION.search(label), f"{label!r} has a fraction of a second"
        assert HUMAN.search(label), f"{label!r} names no month, no HH:MM and no year"
    assert not FRACTION.search(offset), offset


def test_seconds_apart_carry_their_hour_and_minute() -> None:
    times, values = series(timedelta(seconds=30))
    labels, offset = tick_labels(Panel("latency", "ms", times, values))
    assert all(re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", label) for label in labels), labels
    assert offset == "2026-03-02 09:36" or offset.startswith("2026-03-02"), offset


def test_days_apart_name_their_month() -> None:
    times, values = series(timedelta(days=3))
    labels, _offset = tick_labels(Panel("latency", "ms", times, values))
    assert all(any(month in label for month in MONTHS) for label in labels), labels


def test_a_single_point_gets_an_hour_around_it_not_years() -> None:
    labels, offset = tick_labels(Panel("latency", "ms", [START], [1.0]))
    assert all(re.fullmatch(r"\d{2}:\d{2}", label) for label in labels), labels
    assert offset == "2026-03-02"


def band(axes: Axes) -> tuple[float, float]:
    """The shaded span's bottom and top, in data units."""
    [patch] = axes.patches  # axhspan: a Rectangle (a Polygon before matplotlib 3.9)
    display = patch.get_transform().transform(patch.get_path().vertices)
    ys = axes.transData.inverted().transform(display)[:, 1]
    return float(min(ys)), float(max(ys))


@pytest.mark.parametrize(("higher_is_better", "above"), [(True, True), (False, False)],
                         ids=[">=", "<="])
def test_the_met_side_of_the_target_is_shaded(higher_is_better: bool, above: bool) -> None:
    times, values = series(timedelta(hours=1))
    panel = Panel("recall", "", times, [0.5 + v / 10 for v in values], target=0.7,
                  higher_is_better=higher_is_better, target_label="target ≥ 0.7")

    figure = chart_figure("churn", [panel])
    figure.canvas.draw()
    [axes] = figure.axes
    low, high = band(axes)
    bottom, top = axes.get_ylim()

    if above:
        assert low == pytest.approx(0.7) and high == pytest.approx(top)
    else:
        assert low == pytest.approx(bottom) and high == pytest.approx(0.7)
    assert {line.get_label() for line in axes.get_lines()} >= {"target ≥ 0.7"}
    assert bottom < min(panel.values) and top > max(panel.values), "all points stay in view"


def test_a_far_target_is_in_view_with_its_band() -> None:
    times, values = series(timedelta(days=1))
    figure = chart_figure("x", [Panel("freq", "per week", times, values, target=7.0)])
    [axes] = figure.axes
    low, high = band(axes)
    assert low == pytest.approx(7.0) and high > 7.0 and axes.get_ylim()[1] > 7.0


def test_panels_without_points_are_left_out_unless_they_have_a_note() -> None:
    times, values = series(timedelta(days=1))
    kept = chart_figure("x", [Panel("a", "", times, values), Panel("b", "", [], [])])
    assert [a.get_title(loc="left") for a in kept.axes if a.get_visible()] == ["a"]

    noted = chart_figure("x", [Panel("a", "", times, values), Panel("b", "", [], [], empty_note="n/a"),
                               Panel("c", "", times, values), Panel("d", "", [], [], empty_note="n/a")],
                         columns=2)
    visible = [a for a in noted.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in visible] == ["a", "b", "c", "d"]
    assert "n/a" in [t.get_text() for t in visible[1].texts]


def test_the_png_is_a_png() -> None:
    times, values = series(timedelta(minutes=5))
    assert kpi_charts("x", [Panel("a", "ms", times, values, target=1.0)])[:8] == PNG_SIGNATURE
