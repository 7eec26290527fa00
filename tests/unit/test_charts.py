"""KPI charts as PNG: readable time ticks at any spacing, the target's met side shaded; and the
improvements shared with the dashboard's SVG (the use case's title, the latest value and change,
the whole period, the shared y-range rule, deployments marked), read back from the figure."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import matplotlib.dates as mdates
import pytest
from matplotlib.axes import Axes

from bot.domain.kpi_chart import Deployed, KpiChart, chart_range
from bot.domain.metric_results import ChartRequest
from bot.domain.metrics import Point, Target
from bot.render.charts import Panel, chart_figure, kpi_charts
from bot.render.kpi_chart_words import kpi_chart_text
from bot.render.metric_charts import ALT_TEXT_MAX, ChartUpload, chart_upload

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


# ── the improvements shared with the dashboard's SVG ─────────────────────────────────────────

AUC_TARGET = Target(">=", 0.83)


def kpi_request(values: list[float], *, target: Target | None = AUC_TARGET,
                deployments: tuple[Deployed, ...] = ()) -> ChartRequest:
    end = START + timedelta(days=30)
    points = tuple(Point(START + timedelta(days=3 * i + 1), v) for i, v in enumerate(values))
    return ChartRequest("churn", 30, [KpiChart("churn", "Predict churn & <retention>", "auc",
                                               "ratio", points, target, START, end, deployments)])


def drawn(request: ChartRequest) -> tuple[ChartUpload, Axes]:
    upload = chart_upload(request)
    figure = chart_figure(upload.title, upload.panels, columns=upload.columns)
    figure.canvas.draw()
    [axes] = figure.axes
    return upload, axes


def test_a_kpi_png_is_titled_with_the_use_cases_title_and_says_its_latest_value_and_change() -> None:
    upload, axes = drawn(kpi_request([0.84, 0.81, 0.79]))

    assert upload.title == "Predict churn & <retention> — auc, last 30 days"
    assert axes.figure is not None and axes.figure.texts[0].get_text() == upload.title  # type: ignore[union-attr]
    assert axes.get_title(loc="left") == "auc"
    assert axes.get_title(loc="right") == "0.79 ratio · ↓ −0.05 ratio (−6.0%) over the period"
    assert upload.alt_text == kpi_chart_text(kpi_request([0.84, 0.81, 0.79]).charts[0])


def test_a_kpi_png_covers_the_whole_period_and_follows_the_shared_y_rule() -> None:
    request = kpi_request([0.80, 0.81])  # two points early in the month
    _upload, axes = drawn(request)

    left, right = (mdates.num2date(x) for x in axes.get_xlim())
    assert (left, right) == (START, START + timedelta(days=30))
    assert axes.get_ylim() == pytest.approx(chart_range(request.charts[0]))
    assert axes.get_ylim()[0] <= 0, "+1% near 0.8 is no cliff: the axis reaches zero"
    low, high = band(axes)
    assert low == pytest.approx(0.83) and high == pytest.approx(axes.get_ylim()[1])


def test_a_kpi_png_marks_each_deployment_with_its_version() -> None:
    deployed = (Deployed(START + timedelta(days=5), "1.0.0"),
                Deployed(START + timedelta(days=20), "1.1.0-with-a-very-long-name"))
    _upload, axes = drawn(kpi_request([0.8, 0.85, 0.9], deployments=deployed))

    marks = [line for line in axes.get_lines() if line.get_gid() == "deployment"]
    assert [line.get_xdata()[0] for line in marks] == [d.at for d in deployed]  # type: ignore[index]
    labels = [t.get_text() for t in axes.texts if t.get_gid() == "deployment"]
    assert labels == ["1.0.0", "1.1.0-with-a-ve…"]


def test_the_alt_text_is_cut_to_slacks_limit() -> None:
    many = ChartRequest("churn", 30, [replace(kpi_request([0.8, 0.9]).charts[0], name=f"kpi{i}")
                                      for i in range(12)])
    upload = chart_upload(many)
    assert len(upload.alt_text) == ALT_TEXT_MAX and upload.alt_text.endswith("…")
    assert upload.title == "Predict churn & <retention> — KPIs, last 30 days"
