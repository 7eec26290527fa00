"""KPIs of a use case: validated values, targets, deltas, sparklines and target crossings.

Pure: every function takes the points and ``now`` it needs; nothing here reads a clock or a store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.usecases import DomainError

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
UNIT_MAX = 32
SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 20
MINUS = "−"  # U+2212: a real minus sign reads better than a hyphen in tables

# Plain decimal or scientific notation; no thousands separators, no underscores, no words.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OPS = {">=": ">=", "≥": ">=", "<=": "<=", "≤": "<=", ">": ">", "<": "<"}
_OP_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def validate_name(name: str) -> str:
    if NAME_RE.fullmatch(name):
        return name
    suggestion = name.lower() if NAME_RE.fullmatch(name.lower()) else None
    raise DomainError("metric_name_invalid", name=name, suggestion=suggestion)


def parse_value(text: str) -> float:
    """A finite number written plainly (``0.87``, ``-3``, ``1.5e6``); anything else is refused."""
    raw = text.strip()
    if not raw:
        raise DomainError("metric_value_missing")
    if _NUMBER_RE.fullmatch(raw):
        value = float(raw)
        if math.isfinite(value):
            return value
        raise DomainError("metric_value_too_large", raw=raw)
    if raw.endswith("%") and _NUMBER_RE.fullmatch(raw[:-1]):
        raise DomainError("metric_value_percent", raw=raw)
    if re.fullmatch(r"[+-]?[\d.,_]+", raw):
        raise DomainError("metric_value_separators", raw=raw)
    if raw.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        raise DomainError("metric_value_not_finite", raw=raw)
    raise DomainError("metric_value_not_number", raw=raw)


def validate_unit(unit: str) -> str:
    unit = unit.strip()
    if len(unit) > UNIT_MAX:
        raise DomainError("metric_unit_too_long", length=len(unit), most=UNIT_MAX)
    if any(not ch.isprintable() for ch in unit):
        raise DomainError("metric_unit_not_one_line")
    return unit


def parse_op(text: str) -> str:
    op = _OPS.get(text.strip())
    if op is None:
        raise DomainError("metric_not_a_comparison", text=text)
    return op


def parse_target(text: str) -> tuple[str, float]:
    """A target as typed in a dialog, e.g. ``>= 0.83``: the comparison, then the number."""
    match = re.fullmatch(r"\s*(>=|<=|≥|≤|>|<)\s*(.*)", text)
    if match is None:
        raise DomainError("metric_not_a_target", text=text)
    return parse_op(match.group(1)), parse_value(match.group(2))


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Target:
    op: str      # normalised: ">=", "<=", ">" or "<"
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OP_SYMBOLS:
            raise ValueError(f"unknown comparison {self.op!r}; normalise it with parse_op")

    def is_met(self, v: float) -> bool:
        match self.op:
            case ">=":
                return v >= self.value
            case "<=":
                return v <= self.value
            case ">":
                return v > self.value
            case _:
                return v < self.value

    @property
    def better_direction(self) -> str:
        return "up" if self.op in (">=", ">") else "down"

    @property
    def arrow(self) -> str:
        return "↑" if self.better_direction == "up" else "↓"

    def describe(self) -> str:
        return f"{_OP_SYMBOLS[self.op]} {format_number(self.value)}"


@dataclass(frozen=True)
class Delta:
    absolute: float
    percent: float | None  # relative to |base|, so "up" is positive even from a negative base


def delta(new: float, base: float) -> Delta:
    change = new - base
    return Delta(change, None if base == 0 else change / abs(base) * 100)


@dataclass(frozen=True)
class KpiSummary:
    name: str
    unit: str
    latest: Point
    previous: Delta | None     # latest against the point recorded before it
    week: Delta | None         # latest against the newest point at or before now - 7 days
    month: Delta | None        # ... at or before now - 30 days
    sparkline: str             # the points of the last ``days`` days
    target: Target | None
    target_met: bool | None    # None without a target
    gap: float | None          # |latest - target|: by how much it is met (or missed); >= 0
    count: int                 # points in the last ``days`` days


def summarize(name: str, unit: str, points: Sequence[Point], *, now: datetime, days: int = 30,
              target: Target | None = None) -> KpiSummary | None:
    """The table row of one KPI; None when it has no points at all."""
    if not points:
        return None
    ordered = sorted(points, key=lambda p: p.at)  # stable: of equal times, the last given wins
    latest = ordered[-1]
    previous = delta(latest.value, ordered[-2].value) if len(ordered) > 1 else None
    recent = [p for p in ordered if p.at > now - timedelta(days=days)]
    return KpiSummary(
        name=name, unit=unit, latest=latest, previous=previous,
        week=_against(ordered, latest, now - timedelta(days=7)),
        month=_against(ordered, latest, now - timedelta(days=30)),
        sparkline=sparkline(_buckets(recent, SPARK_WIDTH)),
        target=target,
        target_met=None if target is None else target.is_met(latest.value),
        gap=None if target is None else abs(latest.value - target.value),
        count=len(recent),
    )


def _against(ordered: Sequence[Point], latest: Point, moment: datetime) -> Delta | None:
    # The value "as of" that moment: the newest point not newer than it.
    base = next((p for p in reversed(ordered) if p.at <= moment), None)
    return None if base is None else delta(latest.value, base.value)


def _buckets(points: Sequence[Point], width: int) -> list[float]:
    """At most ``width`` values: equal time slices averaged, empty slices left out."""
    if len(points) <= width:
        return [p.value for p in points]
    start, span = points[0].at, (points[-1].at - points[0].at) / width
    slices: dict[int, list[float]] = {}
    for p in points:
        index = min(int((p.at - start) / span), width - 1) if span else 0
        slices.setdefault(index, []).append(p.value)
    return [sum(vs) / len(vs) for _, vs in sorted(slices.items())]


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """One bar per value (longer series averaged down to ``width``); a flat series sits mid-height."""
    if len(values) > width:
        size = len(values) / width
        values = [_mean(values[int(i * size):int((i + 1) * size)]) for i in range(width)]
    if not values:
        return ""
    lo = min(values)
    span = max(values) / 2 - lo / 2  # halved: the span of huge values of either sign stays finite
    if not 0 < span < math.inf:  # flat (or averaged past what a float holds)
        return SPARK_BARS[3] * len(values)
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[math.floor((v / 2 - lo / 2) / span * top + 0.5)] for v in values)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def crossing(previous_state: str | None, target: Target, value: float) -> tuple[str, bool]:
    """The new target state ("met" or "missed") and whether to announce it.

    Only a flip from a known state is announced: the first value after a target is set only
    establishes the state (the ``target`` reply already shows it), and repeated values on the
    same side stay quiet.
    """
    state = "met" if target.is_met(value) else "missed"
    return state, previous_state is not None and previous_state != state


def format_number(value: float) -> str:
    """Compact: three significant digits below 1,000, whole numbers with separators above."""
    size = abs(value)
    if size == 0:
        return "0"
    text = f"{size:.3g}"
    if 1 <= size < 1e15 and (size >= 1000 or "e" in text):
        text = f"{size:,.0f}"  # .3g would turn 999.7 into "1e+03"
    return MINUS + text if value < 0 else text


def format_delta(d: Delta, unit: str = "", *, arrow: bool = False) -> str:
    """E.g. "+0.05 (+6.7%)", "−3 ms (−1.2%)", "±0 (0%)"; the arrow shows the direction of change."""
    if d.absolute == 0:
        text = with_unit("±0", unit) + ("" if d.percent is None else " (0%)")
        return f"→ {text}" if arrow else text
    sign = "+" if d.absolute > 0 else MINUS
    text = sign + with_unit(format_number(abs(d.absolute)), unit)
    if d.percent is not None:
        text += f" ({sign}{_percent(abs(d.percent))})"
    return f"{'↑' if d.absolute > 0 else '↓'} {text}" if arrow else text


def _percent(value: float) -> str:
    return f"{value:,.0f}%" if value >= 100 else f"{value:.1f}%"


def with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"
