"""Continuous KPIs: where each value comes from, when it is pulled, how a source's health is
followed, and the rule of the ``kpi`` health check that gates a rollout on a business metric.

Pure: fire times take the moment they need, statuses take the result of a pull. The source
adapters (SQL, Prometheus, MLflow) live in ``bot/sources``; the file is read by ``bot/kpis``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.metrics import Target, format_number
from bot.domain.schedule import Schedule

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_EVERY = timedelta(minutes=1)
KPI_CRON_MIN_INTERVAL = timedelta(minutes=1)


class SourceFailure(Exception):
    """A pull that gave no usable number; the message says what came back (never a secret)."""


class SourceKind(StrEnum):
    SQL = "sql"
    PROMETHEUS = "prometheus"
    MLFLOW = "mlflow"


@dataclass(frozen=True)
class SqlSource:
    connection: str              # a name under [connections]
    query: str
    kind: SourceKind = field(default=SourceKind.SQL, init=False)


@dataclass(frozen=True)
class PrometheusSource:
    url: str                     # the server's base URL; the adapter calls {url}/api/v1/query
    query: str                   # an instant query with exactly one sample
    kind: SourceKind = field(default=SourceKind.PROMETHEUS, init=False)


@dataclass(frozen=True)
class MlflowSource:
    """``experiment`` (the newest finished run) or ``model`` + ``alias`` (the run behind it)."""

    metric: str
    experiment: str = ""
    model: str = ""
    alias: str = ""
    kind: SourceKind = field(default=SourceKind.MLFLOW, init=False)


KpiSource = SqlSource | PrometheusSource | MlflowSource


@dataclass(frozen=True)
class Every:
    """A fixed interval, on multiples of it since the Unix epoch: every process computes the
    same fire times, which is what makes the per-(KPI, fire time) claim work."""

    interval: timedelta

    def next_fire(self, after: datetime) -> datetime:
        step = self.interval.total_seconds()
        passed = (after.astimezone(UTC) - _EPOCH).total_seconds()
        return _EPOCH + timedelta(seconds=(math.floor(passed / step) + 1) * step)


KpiSchedule = Every | Schedule


def latest_fire(schedule: KpiSchedule, now: datetime, after: datetime | None = None) -> datetime | None:
    """The newest fire time in ``(after, now]``; the newest at or before ``now`` without ``after``.

    On start-up this is the one missed pull to make: however long the bot was down, once.
    """
    floor = after if after is not None else now - _lookback(schedule, now)
    fire, found = schedule.next_fire(floor), None
    while fire <= now:
        found, fire = fire, schedule.next_fire(fire)
    return found


def _lookback(schedule: KpiSchedule, now: datetime) -> timedelta:
    if isinstance(schedule, Every):
        return schedule.interval
    return timedelta(days=366)  # a cron fires at least once a year, or never


@dataclass(frozen=True)
class KpiSpec:
    use_case: str
    name: str
    source: KpiSource
    schedule: KpiSchedule
    unit: str = ""
    target: Target | None = None
    timeout: timedelta = timedelta(seconds=30)

    @property
    def key(self) -> tuple[str, str]:
        return self.use_case, self.name

    @property
    def recorded_by(self) -> str:
        """What a pulled point says it came from (``metric_points.recorded_by``)."""
        return f"source:{self.source.kind.value}"


@dataclass(frozen=True)
class Connection:
    name: str
    url_env: str                 # the environment variable holding the SQLAlchemy URL


@dataclass(frozen=True)
class KpiSourceSet:
    connections: dict[str, Connection] = field(default_factory=dict)
    kpis: tuple[KpiSpec, ...] = ()

    def find(self, use_case: str, name: str) -> KpiSpec | None:
        return next((k for k in self.kpis if k.key == (use_case, name)), None)

    def of(self, use_case: str | None) -> tuple[KpiSpec, ...]:
        return tuple(k for k in self.kpis if use_case is None or k.use_case == use_case)


NO_SOURCES = KpiSourceSet()


# ── a source's health ──────────────────────────────────────────────────────────────────────

class Change(StrEnum):
    FAILING = "failing"          # announce: the source started failing
    RECOVERED = "recovered"      # announce: it works again


@dataclass(frozen=True)
class SourceStatus:
    failing: bool = False
    last_run: datetime | None = None
    last_value: float | None = None
    error: str = ""              # the latest failure's reason while failing
    since: datetime | None = None  # when it started failing (or recovered)
    last_fire: datetime | None = None  # the newest scheduled fire time claimed


def after_pull(status: SourceStatus | None, value: float | None, error: str,
               now: datetime) -> tuple[SourceStatus, Change | None]:
    """The status after one pull, and what to announce: only the changes, each once."""
    before = status or SourceStatus()
    if value is None:
        since = before.since if before.failing else now
        new = SourceStatus(True, now, before.last_value, error, since, before.last_fire)
        return new, None if before.failing else Change.FAILING
    recovered = before.failing
    new = SourceStatus(False, now, value, "", now if recovered else before.since, before.last_fire)
    return new, Change.RECOVERED if recovered else None


# ── the ``kpi`` health check ───────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class MaxDrop:
    amount: float
    percent: bool = False

    def allowed(self, baseline: float) -> float:
        return abs(baseline) * self.amount / 100 if self.percent else self.amount

    def describe(self) -> str:
        return f"{format_number(self.amount)}%" if self.percent else format_number(self.amount)


class Shortfall(StrEnum):
    """Why the kpi gate failed a wave."""

    NO_FRESH_VALUE = "no_fresh_value"      # nothing newer than the wave: fail closed
    MISSES_TARGET = "misses_target"
    WORSE_THAN_START = "worse_than_start"  # by more than max_drop


@dataclass(frozen=True)
class GateVerdict:
    """The kpi gate's judgement as facts; bot/render/kpi_verdicts.py words it (the step's detail).

    ``worse`` is how much worse than ``baseline`` the fresh value is, when both it and
    ``max_drop`` were there to compare."""

    kpi: str
    unit: str
    fresh: float | None
    target: Target | None = None
    baseline: float | None = None
    max_drop: MaxDrop | None = None
    worse: float | None = None
    failed: Shortfall | None = None

    @property
    def passed(self) -> bool:
        return self.failed is None


def judge(name: str, unit: str, fresh: float | None, *, target: Target | None,
          baseline: float | None, max_drop: MaxDrop | None) -> GateVerdict:
    """The KPI after a wave: pass only on a fresh value that meets the target (if any) and is not
    worse than at the deployment's start by more than ``max_drop``. No value fails (fail closed).

    "Worse" follows the target: down for ``>=``/``>`` (and without a target), up for ``<=``/``<``.
    """
    verdict = GateVerdict(name, unit, fresh, target, baseline, max_drop)
    if fresh is None:
        return replace(verdict, failed=Shortfall.NO_FRESH_VALUE)
    if target is not None and not target.is_met(fresh):
        return replace(verdict, failed=Shortfall.MISSES_TARGET)
    if max_drop is not None and baseline is not None:
        worse = fresh - baseline if target is not None and target.better_direction == "down" \
            else baseline - fresh
        verdict = replace(verdict, worse=worse)
        if worse > max_drop.allowed(baseline):
            return replace(verdict, failed=Shortfall.WORSE_THAN_START)
    return verdict
