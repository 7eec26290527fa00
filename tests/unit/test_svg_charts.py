"""The dashboard's KPI chart (bot/render/svg_charts.py), read back as XML: valid, labelled for
screen readers, no inline style, the target band where the target is on the drawn y-scale, the
y-range by the shared rule, ticks over the whole period, a mark per deployment, every text
escaped, and a chart that says so when there is nothing to draw."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.kpi_chart import Deployed, KpiChart, chart_range
from bot.domain.metrics import MINUS, Point, Target
from bot.render.svg_charts import kpi_chart_text, kpi_svg
from bot.render.time_ticks import time_ticks, value_ticks

NS = {"svg": "http://www.w3.org/2000/svg"}
END = datetime(2026, 1, 5, 12, tzinfo=UTC)
START = END - timedelta(days=30)
HOSTILE = 'Churn <script>alert("x")</script> & "friends"'


AUC_TARGET = Target(">=", 0.83)


def chart(values: list[float], *, target: Target | None = AUC_TARGET, title: str = "Predict churn",
          deployments: tuple[Deployed, ...] = ()) -> KpiChart:
    points = tuple(Point(START + timedelta(days=3 * i + 1), v) for i, v in enumerate(values))
    return KpiChart("churn", title, "auc", "ratio", points, target, START, END, deployments)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def number(label: str) -> float:
    return float(label.replace(MINUS, "-").replace(",", ""))


def y_scale(root: ET.Element) -> tuple[float, float]:
    """The drawn y-scale, read off two of the y-axis's tick labels: (pixels per unit, y of 0)."""
    ticks = [(number(t.text or ""), float(t.get("y", "0")) - 4)
             for t in root.findall("svg:g[@data-axis='y']/svg:text", NS)]
    assert len(ticks) >= 2, ticks
    (v1, y1), (v2, y2) = ticks[0], ticks[-1]
    slope = (y2 - y1) / (v2 - v1)
    return slope, y1 - slope * v1


def value_at(root: ET.Element, y: float) -> float:
    slope, zero = y_scale(root)
    return (y - zero) / slope


def test_the_chart_is_valid_xml_with_a_title_and_a_text_alternative() -> None:
    c = chart([0.84, 0.81, 0.80, 0.79])
    root = parse(kpi_svg(c))

    assert root.get("role") == "img" and root.get("width") == "100%" and root.get("viewBox")
    title, desc = (root.find(f"svg:{tag}", NS) for tag in ("title", "desc"))
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Predict churn — auc"
    assert desc.text == kpi_chart_text(c)
    assert desc.text == ("Predict churn — auc, 6 Dec 2025 – 5 Jan 2026: latest 0.79 ratio on "
                         "16 Dec 2025 12:00 UTC; −0.05 ratio (−6.0%) since 7 Dec 2025 12:00 UTC; "
                         "target ≥ 0.83 ratio, not met; no deployment to production in the period.")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Predict churn" in texts and "0.79 ratio" in texts
    assert "↓ −0.05 ratio (−6.0%) over the period" in texts


def test_no_inline_style_anywhere() -> None:
    svg = kpi_svg(chart([0.8, 0.9], deployments=(Deployed(START + timedelta(days=2), "v1"),)))
    root = parse(svg)
    assert root.find(".//svg:style", NS) is None
    assert all("style" not in element.attrib for element in root.iter())


@pytest.mark.parametrize("target", [Target(">=", 0.83), Target("<=", 0.5)], ids=[">=", "<="])
def test_the_band_runs_from_the_target_to_the_met_edge_on_the_drawn_scale(target: Target) -> None:
    c = chart([0.79, 0.80, 0.81], target=target)
    root = parse(kpi_svg(c))
    [band] = root.findall("svg:rect[@data-band='met']", NS)
    top_y, height = float(band.get("y", "0")), float(band.get("height", "0"))
    upper, lower = value_at(root, top_y), value_at(root, top_y + height)
    bottom, top = chart_range(c)

    if target.better_direction == "up":
        assert (lower, upper) == pytest.approx((target.value, top), abs=1e-3)
    else:
        assert (lower, upper) == pytest.approx((bottom, target.value), abs=1e-3)
    [line] = root.findall("svg:line[@data-target]", NS)
    assert value_at(root, float(line.get("y1", "0"))) == pytest.approx(target.value, abs=1e-3)


def test_the_y_axis_follows_the_shared_rule() -> None:
    """An AUC moving by hundredths near its target: zero, the target and each value in the
    ticks' span, and the plot's edges are the rule's range."""
    c = chart([0.80, 0.81, 0.82])
    root = parse(kpi_svg(c))
    labels = [number(t.text or "") for t in root.findall("svg:g[@data-axis='y']/svg:text", NS)]
    bottom, top = chart_range(c)
    assert labels[0] == 0 and labels == [v for v, _label in value_ticks(bottom, top)]
    assert bottom <= 0 < 0.83 < top
    # every point is drawn where the scale puts its value
    circles = root.findall("svg:g[@data-series='values']/svg:circle", NS)
    assert [value_at(root, float(c.get("cy", "0"))) for c in circles] == \
        pytest.approx([0.80, 0.81, 0.82], abs=1e-3)


def test_time_ticks_cover_the_whole_period_even_with_sparse_points() -> None:
    c = chart([0.8])  # one point, on the period's second day
    root = parse(kpi_svg(c))
    moments = [datetime.fromisoformat(t.get("data-at", ""))
               for t in root.findall("svg:g[@data-axis='x']/svg:text", NS)]
    assert len(moments) >= 3
    assert all(START <= m <= END for m in moments)
    assert moments[-1] - moments[0] >= timedelta(days=21), "spread over the month, not the point"


def test_one_mark_per_deployment_with_its_version() -> None:
    deployed = (Deployed(START + timedelta(days=5), "1.0.0"),
                Deployed(START + timedelta(days=20), "1.1.0-with-a-very-long-name"))
    root = parse(kpi_svg(chart([0.8, 0.85], deployments=deployed)))
    marks = root.findall("svg:g[@data-deployment]", NS)
    assert [m.get("data-deployment") for m in marks] == ["1.0.0", "1.1.0-with-a-very-long-name"]
    for mark in marks:
        assert len(mark.findall("svg:line", NS)) == 1
        assert (mark.findtext("svg:title", namespaces=NS) or "").endswith("UTC")
    assert [m.findtext("svg:text", namespaces=NS) for m in marks] == ["1.0.0", "1.1.0-with-a-ve…"]
    assert "2 deployments to production in the period" in kpi_chart_text(
        chart([0.8], deployments=deployed))


def test_hostile_titles_and_versions_are_escaped() -> None:
    svg = kpi_svg(chart([0.8, 0.9], title=HOSTILE,
                        deployments=(Deployed(START + timedelta(days=2), '<img src=x onerror="y">&'),)))
    root = parse(svg)
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    assert root.findtext("svg:title", namespaces=NS) == f"{HOSTILE} — auc"
    assert [e.tag.split("}")[1] for e in root.iter()].count("script") == 0
    [mark] = root.findall("svg:g[@data-deployment]", NS)
    assert mark.get("data-deployment") == '<img src=x onerror="y">&'


def test_an_empty_series_says_there_is_no_data_yet() -> None:
    c = chart([], deployments=(Deployed(START + timedelta(days=2), "1.0.0"),))
    root = parse(kpi_svg(c))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "No values in this period yet" in texts and "no data yet" in texts
    assert root.find("svg:g[@data-series]", NS) is None
    assert root.find("svg:rect[@data-band]", NS) is None
    assert "no values yet" in (root.findtext("svg:desc", namespaces=NS) or "")
    assert len(root.findall("svg:g[@data-deployment]", NS)) == 1


def test_without_a_target_there_is_no_band_and_the_sentence_says_none() -> None:
    c = chart([120, 100], target=None)
    root = parse(kpi_svg(c))
    assert root.find("svg:rect[@data-band]", NS) is None
    assert "target" not in kpi_chart_text(c)
    assert re.search(r"−20 ratio \(−16\.7%\)", kpi_chart_text(c))


@pytest.mark.parametrize(("span", "label"), [
    (timedelta(hours=2), r"\d{2}:\d{2}"), (timedelta(days=1), r"\d{2}:\d{2}|\d{1,2} \w{3}"),
    (timedelta(days=7), r"\d{1,2} \w{3}"), (timedelta(days=90), r"\w{3} \d{4}"),
    (timedelta(days=800), r"\w{3} \d{4}|\d{4}"), (timedelta(days=4000), r"\d{4}")])
def test_time_ticks_are_round_and_few_at_any_span(span: timedelta, label: str) -> None:
    ticks = time_ticks(END - span, END)
    assert 2 <= len(ticks) <= 7, ticks
    assert all(END - span <= at <= END for at, _text in ticks)
    assert all(re.fullmatch(label, text) for _at, text in ticks), ticks
    assert all(at.second == 0 and at.microsecond == 0 for at, _text in ticks)


def test_a_long_series_keeps_its_shape_in_bounded_markup() -> None:
    """43,200 values (one a minute for 30 days), a spike among them: the line still reaches the
    lowest and the highest value, in at most four points per pixel column."""
    values = [0.8 + (i % 60) / 6000 for i in range(43_200)]
    values[20_000] = 0.95
    points = tuple(Point(START + timedelta(minutes=i), v) for i, v in enumerate(values))
    c = replace(chart([]), points=points)
    root = parse(kpi_svg(c))
    [line] = root.findall("svg:g[@data-series='values']/svg:polyline", NS)
    ys = [float(pair.split(",")[1]) for pair in (line.get("points") or "").split()]
    assert len(ys) <= 4 * 600
    assert value_at(root, min(ys)) == pytest.approx(0.95, abs=1e-3)
    assert value_at(root, max(ys)) == pytest.approx(0.8, abs=1e-3)
