"""One KPI's chart as facts: what the dashboard's SVG (bot/render/svg_charts.py) and the Slack PNG
(bot/render/charts.py) both draw, and the rules they share. Pure.

A chart covers a whole period, ``(start, end]``, even when its points are sparse; it shows the
KPI's points in it, its target (if any) as the side where the target is met, and the use case's
deployments to production in the period.

**The y-range rule** (:func:`y_range`) — a chart must not exaggerate:

- The range always holds every value and the target.
- When the values and the target all share a sign (all ≥ 0 or all ≤ 0) and their spread is less
  than half of their largest magnitude, the range reaches **zero**: a line's height is then in
  proportion to its value, so a change of +1 % moves it about 1 % of the chart's height instead of
  from the bottom to the top (0.82 → 0.83 is no cliff).
- Otherwise (values straddle zero, or spread widely) zero is in the range already or nearly so:
  the lowest value is at most half the largest, so no change can look more than twice its
  relative size; the range is the values' own.
- Then a margin of 5 % of the span on both sides, so no point sits on the chart's edge. A range
  of one value (all points equal, no target or the target equal too) and zero is ``(0, 1)``; of
  one value ``v`` elsewhere, it reaches zero by the rule above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.metrics import Delta, Point, Target, delta

ZERO_WITHIN = 0.5  # reach zero when the spread is below this share of the largest magnitude
MARGIN = 0.05      # of the span, on both sides


@dataclass(frozen=True)
class Deployed:
    """A deployment to production of the chart's use case: when production finished, which
    version it brought (a rollback's: the version it brought back)."""

    at: datetime
    version: str


@dataclass(frozen=True)
class KpiChart:
    """One KPI of one use case over ``(start, end]``; ``points`` in time order, all inside the
    period; ``deployments`` in time order, inside the period."""

    slug: str
    title: str            # the use case's title, as its owner wrote it
    name: str             # the KPI's
    unit: str
    points: tuple[Point, ...]
    target: Target | None
    start: datetime
    end: datetime
    deployments: tuple[Deployed, ...] = ()

    @property
    def higher_is_better(self) -> bool | None:
        """None without a target."""
        return None if self.target is None else self.target.better_direction == "up"


def latest(chart: KpiChart) -> Point | None:
    """The newest point of the period; None without points."""
    return chart.points[-1] if chart.points else None


def change(chart: KpiChart) -> Delta | None:
    """The latest value against the first of the period (what the chart shows moving); None
    with fewer than two points."""
    if len(chart.points) < 2:
        return None
    return delta(chart.points[-1].value, chart.points[0].value)


def target_met(chart: KpiChart) -> bool | None:
    """Whether the latest value meets the target; None without a target or without points."""
    newest = latest(chart)
    if chart.target is None or newest is None:
        return None
    return chart.target.is_met(newest.value)


def y_range(values: Sequence[float], target: float | None = None) -> tuple[float, float]:
    """The y-axis's (bottom, top) for ``values`` and ``target`` by the rule in this module's
    docstring; bottom < top always."""
    shown = [*values, *([] if target is None else [target])]
    if not shown:
        return 0.0, 1.0
    low, high = min(shown), max(shown)
    magnitude = max(abs(low), abs(high))
    if magnitude == 0:
        return 0.0, 1.0
    same_sign = low >= 0 or high <= 0
    if same_sign and high - low < ZERO_WITHIN * magnitude:
        low, high = min(low, 0.0), max(high, 0.0)
    pad = MARGIN * (high - low)
    return low - pad, high + pad


def chart_range(chart: KpiChart) -> tuple[float, float]:
    """:func:`y_range` of the chart's points and target."""
    return y_range([p.value for p in chart.points],
                   None if chart.target is None else chart.target.value)


def met_band(target: Target, bottom: float, top: float) -> tuple[float, float]:
    """The stretch of the range ``(bottom, top)`` where the target is met: from the target to
    the top (higher is better) or from the bottom to the target."""
    if target.better_direction == "up":
        return target.value, top
    return bottom, target.value
