"""What `/metric <slug>` charts and the dashboard draws (bot/services/metrics.py): each KPI over
the whole period with the use case's title, its target and the use case's own deployments to
production in the period — on the in-memory storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.metrics import Target
from bot.services.commands import SetTarget, ShowMetrics
from bot.services.metrics import MetricService, NewPoint, read_charts
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import OWNER, START, actor, seed
from tests.unit.test_dora import FAILED, deployment

DAY = timedelta(days=1)


async def world(db: InMemoryDatabase, clock: ManualClock) -> MetricService:
    """churn ("Churn") with auc over 40 days (every 10 days) and a stale KPI; its deployments
    and another use case's; now is START + 40 days."""
    await seed(db)
    await seed(db, "fraud")
    metrics = MetricService(db.uow, db.clock)
    await metrics.push([NewPoint("churn", "auc", 0.70 + i / 100, "ratio", START + i * 10 * DAY)
                        for i in range(5)] + [NewPoint("churn", "stale", 1, "", START)], "ci")
    clock.advance(40 * DAY)
    await metrics.set_target(SetTarget("churn", "auc", ">=", "0.8"), actor(OWNER))
    now = clock.now()
    history = [deployment(1, now - 35 * DAY), deployment(2, now - 20 * DAY),
               deployment(3, now - 12 * DAY, state=FAILED),
               deployment(4, now - 11 * DAY, use_case="fraud"),
               deployment(5, now - 5 * DAY, dry_run=True), deployment(6, None)]
    async with db.uow() as uow:
        for d in history:
            await uow.deployments.add(replace(d, id=None))
        await uow.commit()
    return metrics


async def test_the_chart_request_carries_title_period_target_and_deployments(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    metrics = await world(db, clock)
    now = clock.now()

    _table, request = await metrics.show(ShowMetrics("churn"))

    assert request is not None and not request.dora
    assert [c.name for c in request.charts] == ["auc", "stale"]
    auc = request.charts[0]
    assert (auc.slug, auc.title, auc.unit, auc.target) == ("churn", "Churn", "ratio", Target(">=", 0.8))
    assert (auc.start, auc.end) == (now - 30 * DAY, now)
    # the points of the last 30 days only (the one 30 days ago is on the edge: left out)
    assert [(p.at, p.value) for p in auc.points] == [
        (START + 20 * DAY, 0.72), (START + 30 * DAY, 0.73), (START + 40 * DAY, 0.74)]
    # churn's real deployments whose production finished in the period: not fraud's, not the
    # dry run, not the one still running, not the one before the period
    assert [(d.version, d.at) for d in auc.deployments] == [
        ("v2", now - 20 * DAY), ("v3", now - 12 * DAY)]
    assert request.charts[1].points == ()  # a KPI quiet in the period: no panel is drawn of it


async def test_one_kpi_and_fewer_days(db: InMemoryDatabase, clock: ManualClock) -> None:
    metrics = await world(db, clock)

    _table, request = await metrics.show(ShowMetrics("churn", "auc", days=15))

    assert request is not None
    [auc] = request.charts
    assert auc.start == clock.now() - 15 * DAY
    assert [d.version for d in auc.deployments] == ["v3"]
    assert [p.value for p in auc.points] == [0.73, 0.74]


async def test_the_dashboards_charts_include_kpis_without_points_in_the_period(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    metrics = await world(db, clock)

    async with db.uow() as uow:
        churn = await uow.use_cases.get("churn")
        assert churn is not None
        charts = await read_charts(uow, churn, 7, clock.now())

    assert [(c.name, len(c.points)) for c in charts] == [("auc", 1), ("stale", 0)]
    assert all(c.title == "Churn" and c.deployments == () for c in charts)
    _table, request = await metrics.show(ShowMetrics("churn", days=7))
    assert request is not None and request.charts == charts
