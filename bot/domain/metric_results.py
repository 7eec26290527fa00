"""What `/metric`, KPI sources and `/digest` did, and what they post, as facts;
bot/render/metric_replies.py says them.

The services (bot/services/metrics.py, kpis.py, digests.py, reminders.py) return or post one of
these, never words: the handler that ran the command names the renderer, and the outbox words
a card as it is queued (bot/render/cards.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.dora import DoraReport
from bot.domain.kpi_chart import KpiChart
from bot.domain.kpis import KpiSpec, SourceStatus
from bot.domain.metrics import KpiSummary, Target
from bot.domain.schedule import Schedule

# ── `/metric` ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class MetricRecorded:
    """`/metric record`; ``target``: the one the value was judged against (None: no target,
    or a back-filled value, which judges none)."""

    slug: str
    name: str
    value: float
    unit: str
    target: Target | None


@dataclass(frozen=True)
class TargetSet:
    """`/metric target`; ``latest``: the KPI's newest value of the last 30 days, if any."""

    slug: str
    name: str
    target: Target
    latest: float | None
    unit: str


@dataclass(frozen=True)
class KpiTable:
    """`/metric <slug>`: a row per KPI; ``failing``: KPIs whose source fails now, with why."""

    slug: str
    days: int
    summaries: tuple[KpiSummary, ...]
    failing: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DoraShown:
    """`/metric dora`: this period, the one before (the card shows the changes), and (overall)
    the busiest use cases."""

    report: DoraReport
    previous: DoraReport
    per_use_case: tuple[tuple[str, DoraReport], ...] = ()


@dataclass(frozen=True)
class KpiPulled:
    """One pull of a KPI's source: the value stored (with the target it was judged against),
    or why there is none: the source's error, or its use case gone (nothing recorded)."""

    kpi: KpiSpec
    value: float | None
    error: str = ""
    target: Target | None = None
    use_case_gone: bool = False


@dataclass(frozen=True)
class SourceListing:
    """`/metric sources`: each KPI with a source, its health and its next pull."""

    slug: str | None  # None: all use cases
    tz: str
    sources: tuple[tuple[KpiSpec, SourceStatus | None, datetime | None], ...]


@dataclass(frozen=True)
class ChartRequest:
    """A chart to upload after the reply: a panel per KPI of one use case over the last ``days``
    (`/metric <slug>`: each with the use case's title and its deployments to production), or
    (``dora``, `/metric dora`) per DORA metric, named by its key with the elite band's edge as
    its target."""

    slug: str | None  # None: all use cases
    days: int
    charts: list[KpiChart]
    dora: bool = False


# ── posted in a use case's channel ─────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TargetCrossed:
    slug: str
    name: str
    unit: str
    value: float
    target: Target
    met: bool


@dataclass(frozen=True)
class SourceFailing:
    kpi: KpiSpec
    error: str


@dataclass(frozen=True)
class SourceRecovered:
    kpi: KpiSpec
    value: float
    failing_since: datetime | None
    tz: str


@dataclass(frozen=True)
class DevOverdue:
    """A use case over its Dev time box: the weekly nudge to its owner."""

    slug: str
    owner_id: str
    weeks_in_dev: float
    timebox_weeks: float


# ── `/digest` ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class DigestScheduleShown:
    """`/digest`: the channel's schedule (None: none) and when the last digest was posted."""

    schedule: Schedule | None
    set_by: str
    upcoming: datetime | None
    last_posted: datetime | None
    tz: str


@dataclass(frozen=True)
class DigestScheduled:
    schedule: Schedule
    upcoming: datetime


@dataclass(frozen=True)
class DigestsOff:
    removed: bool  # False: none was scheduled


MetricResult = (MetricRecorded | TargetSet | KpiTable | DoraShown | KpiPulled | SourceListing
                | DigestScheduleShown | DigestScheduled | DigestsOff)
