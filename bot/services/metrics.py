"""`/metric` and the push API: record values, show KPIs, set targets, DORA metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import dora as dora_maths
from bot.domain import dora_trend
from bot.domain import metrics as kpi
from bot.domain.kpi_chart import Deployed, KpiChart
from bot.domain.metric_results import (
    ChartRequest,
    DoraShown,
    KpiTable,
    MetricRecorded,
    TargetCrossed,
    TargetSet,
)
from bot.domain.usecases import DomainError, NotAllowed, UseCase
from bot.services.commands import Actor, RecordMetric, SetTarget, ShowDora, ShowMetrics
from bot.services.ports import (
    CrossingRow,
    Scope,
    StoredPoint,
    StoredTarget,
    UnitOfWork,
)
from bot.services.usecases import load_use_case

HISTORY = timedelta(days=30)  # "against 30 days ago" needs the value from then
BUSIEST = 20  # use cases listed under the overall DORA report
MOST_MARKS = 50  # deployments marked on a chart: the newest ones


@dataclass(frozen=True)
class NewPoint:
    use_case: str
    name: str
    value: float
    unit: str
    at: datetime


@dataclass
class MetricService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    reads: Callable[[], UnitOfWork] | None = None  # long reads: not on the connections acks need

    def _ensure_recorder(self, uc: UseCase, actor: Actor) -> None:
        if actor.is_admin or actor.user_id == uc.owner_id or uc.role_of(actor.user_id):
            return
        raise NotAllowed("metric_record_not_allowed", owner=uc.owner_id, slug=uc.slug,
                         admins_may=True)

    async def record(self, command: RecordMetric, actor: Actor) -> MetricRecorded:
        point = NewPoint(command.slug, kpi.validate_name(command.name), kpi.parse_value(command.value),
                         kpi.validate_unit(command.unit), self.clock.now())
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
            self._ensure_recorder(uc, actor)
            [judged_by] = await store_points(uow, [point], actor.user_id, self.clock.now())
            await uow.commit()
        return MetricRecorded(uc.slug, point.name, point.value, point.unit, judged_by)

    async def push(self, points: list[NewPoint], token_name: str) -> None:
        """The API: every point or none (one transaction); an unknown use case is a LookupError."""
        async with self.uow() as uow:
            await store_points(uow, points, f"token:{token_name}", self.clock.now())
            await uow.commit()

    async def show(self, command: ShowMetrics) -> tuple[KpiTable, ChartRequest | None]:
        """The KPI table, and a chart of each KPI with points in the last ``days`` (None: none
        has): over the whole period, with the use case's title and deployments to production."""
        now = self.clock.now()
        uc, series, targets, failing, deployed = await self._read(command.slug, command.days, now)
        if command.name is not None:
            if command.name not in series:
                raise DomainError("metric_unknown_kpi", slug=uc.slug,
                                  name=kpi.validate_name(command.name), known=tuple(sorted(series)))
            series = {command.name: series[command.name]}
        summaries, charts = [], []
        for name, stored in sorted(series.items()):
            unit, points, target = _kpi_parts(stored, targets.get(name))
            summary = kpi.summarize(name, unit, points, now=now, days=command.days, target=target)
            if summary is None:
                continue
            summaries.append(summary)
            charts.append(period_chart(uc, name, unit, points, target, now, command.days, deployed))
        table = KpiTable(uc.slug, command.days, tuple(summaries), failing)
        chart = ChartRequest(uc.slug, command.days, charts)
        return table, (chart if any(c.points for c in charts) else None)

    async def _read(self, slug: str, days: int, now: datetime) -> tuple[
            UseCase, dict[str, list[StoredPoint]], dict[str, StoredTarget], dict[str, str],
            list[Deployed]]:
        """A use case's KPIs (and the value from 30 days back), targets, failing sources and
        deployments to production in the last ``days``: one use case's rows, on a read
        connection when there is one."""
        since = now - max(timedelta(days=days), HISTORY) - timedelta(seconds=1)
        async with (self.reads or self.uow)() as uow:
            uc = await load_use_case(uow, slug)
            series = await uow.metrics.series(uc.slug, since=since, before=(now - HISTORY,))
            targets = await uow.metrics.targets(uc.slug)
            failing = {name: status.error for (_slug, name), status
                       in (await uow.kpis.statuses([uc.slug])).items() if status.failing}
            deployed = await uow.dora.deployed(uc.slug, (now - timedelta(days=days), now),
                                               MOST_MARKS)
        return uc, series, targets, failing, deployed

    async def set_target(self, command: SetTarget, actor: Actor) -> TargetSet:
        name, op = kpi.validate_name(command.name), kpi.parse_op(command.op)
        target = kpi.Target(op, kpi.parse_value(command.value))
        now = self.clock.now()
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
            if not (actor.is_admin or actor.user_id == uc.owner_id):
                raise NotAllowed("metric_target_not_allowed", owner=uc.owner_id, slug=uc.slug,
                                 admins_may=True)
            latest = (await uow.metrics.series(uc.slug, since=now - HISTORY)).get(name, [])
            state = None
            if latest:  # the state as of now; only later flips are announced
                state, _ = kpi.crossing(None, target, latest[-1].value)
            await uow.metrics.set_target(uc.slug, name, op, target.value, actor.user_id, now, state)
            await uow.commit()
        if not latest:
            return TargetSet(uc.slug, name, target, None, "")
        return TargetSet(uc.slug, name, target, latest[-1].value, latest[-1].unit)

    async def dora(self, command: ShowDora) -> DoraShown:
        return (await self.dora_with_trend(command))[0]

    async def dora_with_trend(self, command: ShowDora) -> tuple[DoraShown, ChartRequest | None]:
        """This period against the one before, counted in SQL; overall (of the use cases
        anyone may see: none of a private channel), also the busiest use cases, each computed
        from its own records; and the trend over the period's buckets (None without
        deployments). Two counts calls: SQL attributes each failure to one window, so the
        buckets (disjoint) are counted apart from the two periods."""
        now, days = self.clock.now(), timedelta(days=command.days)
        windows = [(now - days, now), (now - 2 * days, now - days)]
        buckets = dora_trend.buckets(now, command.days)
        async with (self.reads or self.uow)() as uow:
            slug = (await load_use_case(uow, command.slug)).slug if command.slug else None
            scope = Scope(slug=slug, public_only=slug is None)
            counts = await uow.dora.counts(scope, windows, now)
            per_bucket = await uow.dora.counts(scope, buckets, now)
            busiest = [] if slug else await uow.dora.busiest(windows[0], BUSIEST, public_only=True)
            history = (await uow.deployments.dora_records(now - 2 * days - HISTORY, slugs=busiest)
                       if busiest else [])
        current, previous = (dora_maths.report(c, since=since, until=until, days=command.days,
                                               use_case=slug)
                             for c, (since, until) in zip(counts, windows, strict=True))
        by_slug = dora_maths.dora_by_use_case(history, now=now, days=command.days)
        per_use_case = [(s, by_slug[s]) for s in busiest if s in by_slug and by_slug[s].deployments]
        card = DoraShown(current, previous, tuple(per_use_case))
        chart = (dora_chart(slug, command.days, dora_trend.trend(buckets, per_bucket), now)
                 if any(c.deployments for c in per_bucket) else None)
        return card, chart


# The DORA trend's panels have the elite band's edge as their target (in the panels' units:
# per week, %, hours, hours).
ELITE = {
    dora_maths.FREQUENCY: kpi.Target(">=", 7),
    dora_maths.CHANGE_FAILURE_RATE: kpi.Target("<=", 5),
    dora_maths.LEAD_TIME: kpi.Target("<", 24),
    dora_maths.TIME_TO_RESTORE: kpi.Target("<", 1),
}


def period_chart(uc: UseCase, name: str, unit: str, points: list[kpi.Point],
                 target: kpi.Target | None, now: datetime, days: int,
                 deployed: list[Deployed]) -> KpiChart:
    """One KPI over the last ``days`` up to ``now``: only the points inside the period."""
    start = now - timedelta(days=days)
    return KpiChart(uc.slug, uc.title, name, unit, tuple(p for p in points if p.at > start),
                    target, start, now, tuple(deployed))


def dora_chart(slug: str | None, days: int, lines: list[dora_trend.TrendLine],
               now: datetime) -> ChartRequest:
    """A panel per DORA metric, named by its key, over the whole period; the target line is
    where "elite" starts."""
    start = now - timedelta(days=days)
    charts = [KpiChart(slug or "", "", line.metric, "",
                       tuple(kpi.Point(at, value) for at, value in zip(line.times, line.values,
                                                                      strict=True)),
                       ELITE[line.metric], start, now)
              for line in lines]
    return ChartRequest(slug, days, charts, dora=True)


async def store_points(uow: UnitOfWork, points: list[NewPoint], by: str,
                       now: datetime) -> list[kpi.Target | None]:
    """Save the points, and announce each target crossing once (guarded per target); for each
    point, the target it was judged against (None: none, or a back-fill).

    A value older than the newest one already stored (a back-fill) changes no target state:
    crossings follow the series in time, not in the order values arrive.
    """
    newest = {(p.use_case, p.name): await uow.metrics.newest_at(p.use_case, p.name)
              for p in points}
    await uow.metrics.add_points(
        [(p.use_case, StoredPoint(p.name, p.value, p.unit, p.at)) for p in points], by, now)
    judged: list[kpi.Target | None] = []
    targets_by_slug: dict[str, dict[str, StoredTarget]] = {}
    for p in points:
        if p.use_case not in targets_by_slug:
            targets_by_slug[p.use_case] = await uow.metrics.targets(p.use_case)
        stored = targets_by_slug[p.use_case].get(p.name)
        latest = newest[(p.use_case, p.name)]
        if stored is None or (latest is not None and p.at < latest):
            judged.append(None)
            continue
        newest[(p.use_case, p.name)] = p.at
        target = kpi.Target(stored.op, stored.value)
        state, announce = kpi.crossing(stored.state, target, p.value)
        flipped = await uow.metrics.flip_target_state(p.use_case, p.name, stored.state, state)
        targets_by_slug[p.use_case][p.name] = StoredTarget(p.name, stored.op, stored.value, state)
        if announce and flipped:
            await uow.metrics.add_crossing(CrossingRow(p.use_case, p.name, p.at, state == "met",
                                                       p.value, p.unit, target.op, target.value))
            uc = await load_use_case(uow, p.use_case)
            uow.outbox.post(uc.channel_id, TargetCrossed(uc.slug, p.name, p.unit, p.value, target,
                                                         state == "met"))
        judged.append(target)
    return judged


async def read_charts(uow: UnitOfWork, uc: UseCase, days: int, now: datetime) -> list[KpiChart]:
    """Each KPI of ``uc`` over the last ``days`` (those without points in it too), with its
    title, target and deployments to production: what the dashboard draws, read in the caller's
    unit of work (its page's one). Whoever calls it checks that the reader may see the use case."""
    since = now - max(timedelta(days=days), HISTORY) - timedelta(seconds=1)
    series = await uow.metrics.series(uc.slug, since=since, before=(now - HISTORY,))
    targets = await uow.metrics.targets(uc.slug)
    deployed = await uow.dora.deployed(uc.slug, (now - timedelta(days=days), now), MOST_MARKS)
    return [period_chart(uc, name, *_kpi_parts(stored, targets.get(name)), now, days, deployed)
            for name, stored in sorted(series.items())]


def _kpi_parts(stored: list[StoredPoint], target: StoredTarget | None
               ) -> tuple[str, list[kpi.Point], kpi.Target | None]:
    """A KPI's unit (the newest one given), its points, its target: what a table and a chart
    are drawn from."""
    unit = next((p.unit for p in reversed(stored) if p.unit), "")
    return (unit, [kpi.Point(p.at, p.value) for p in stored],
            kpi.Target(target.op, target.value) if target else None)
