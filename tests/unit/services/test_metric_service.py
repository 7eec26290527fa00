"""KPI rules (bot/services/metrics.py): who records and who sets targets, and target crossings
announced once, in the order of the series — on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.metric_results import MetricRecorded
from bot.domain.metrics import Target
from bot.domain.usecases import DomainError, NotAllowed, Role, TeamMember
from bot.services.commands import RecordMetric, SetTarget, ShowDora, ShowMetrics
from bot.services.metrics import MetricService, NewPoint
from bot.services.ports import Scope
from bot.services.usecases import UnknownUseCase
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import (
    ADMIN,
    CHANNEL,
    OUTSIDER,
    OWNER,
    SCIENTIST,
    START,
    actor,
    seed,
    texts,
)


@pytest.fixture
async def metrics(db: InMemoryDatabase) -> MetricService:
    await seed(db, team=(TeamMember(SCIENTIST, Role.DATA_SCIENTIST),))
    return MetricService(db.uow, db.clock)


async def series(db: InMemoryDatabase, name: str = "auc") -> list[float]:
    async with db.uow() as uow:
        found = await uow.metrics.series("churn", since=START - timedelta(days=365))
    return [p.value for p in found.get(name, [])]


async def record(metrics: MetricService, value: str, user: str = SCIENTIST) -> MetricRecorded:
    return await metrics.record(RecordMetric("churn", "auc", value), actor(user))


async def test_the_team_the_owner_and_admins_record_values(
        db: InMemoryDatabase, metrics: MetricService, clock: ManualClock) -> None:
    for user in (SCIENTIST, OWNER, ADMIN):
        await record(metrics, "0.8", user)
        clock.advance(timedelta(minutes=1))
    with pytest.raises(NotAllowed) as refused:
        await record(metrics, "0.9", OUTSIDER)
    assert (refused.value.key, refused.value.facts) == (
        "metric_record_not_allowed", {"owner": OWNER, "slug": "churn"})
    with pytest.raises(DomainError) as bad:
        await record(metrics, "high")
    assert (bad.value.key, bad.value.facts) == ("metric_value_not_number", {"raw": "high"})
    with pytest.raises(UnknownUseCase):
        await metrics.record(RecordMetric("nope", "auc", "1"), actor(ADMIN))
    assert await series(db) == [0.8, 0.8, 0.8]


async def test_only_the_owner_or_an_admin_sets_targets(db: InMemoryDatabase, metrics: MetricService) -> None:
    await record(metrics, "0.7")
    with pytest.raises(NotAllowed) as refused:
        await metrics.set_target(SetTarget("churn", "auc", ">=", "0.8"), actor(SCIENTIST))
    assert refused.value.key == "metric_target_not_allowed"
    done = await metrics.set_target(SetTarget("churn", "auc", ">=", "0.8"), actor(OWNER))
    assert (done.target, done.latest) == (Target(">=", 0.8), 0.7)
    async with db.uow() as uow:
        [target] = (await uow.metrics.targets("churn")).values()
    assert (target.op, target.value, target.state) == (">=", 0.8, "missed")  # as of now
    assert texts(db) == []  # setting a target announces nothing


async def test_a_crossing_is_announced_once_in_the_use_cases_channel(
        db: InMemoryDatabase, metrics: MetricService, clock: ManualClock) -> None:
    await metrics.set_target(SetTarget("churn", "auc", ">=", "0.8"), actor(OWNER))
    for value in ("0.7", "0.85", "0.9", "0.6"):  # first value: the state only; then two flips
        clock.advance(timedelta(hours=1))
        await record(metrics, value)
    assert [m.channel for m in db.messages()] == [CHANNEL, CHANNEL]
    assert "reached its target ≥ 0.8: now 0.85" in texts(db)[0]
    assert "fell short of its target ≥ 0.8: now 0.6" in texts(db)[1]
    async with db.uow() as uow:
        page = await uow.digest_reads.crossings(Scope(), START, 10)
    assert [(c.met, c.value) for c in page.rows] == [(True, 0.85), (False, 0.6)]


async def test_a_back_filled_value_changes_no_target_state(
        db: InMemoryDatabase, metrics: MetricService, clock: ManualClock) -> None:
    await metrics.set_target(SetTarget("churn", "auc", ">=", "0.8"), actor(OWNER))
    clock.advance(timedelta(hours=2))
    await metrics.push([NewPoint("churn", "auc", 0.9, "", START + timedelta(hours=2))], "ci")
    await metrics.push([NewPoint("churn", "auc", 0.5, "", START + timedelta(hours=1))], "ci")  # older
    assert await series(db) == [0.5, 0.9]
    assert texts(db) == []


async def test_a_push_is_all_or_nothing(db: InMemoryDatabase, metrics: MetricService) -> None:
    with pytest.raises(LookupError):
        await metrics.push([NewPoint("churn", "auc", 0.9, "", START),
                            NewPoint("nope", "auc", 0.9, "", START)], "ci")
    assert await series(db) == []


async def test_showing_an_unknown_kpi_names_the_known_ones(metrics: MetricService) -> None:
    await record(metrics, "0.8")
    with pytest.raises(DomainError) as unknown:
        await metrics.show(ShowMetrics("churn", "lat"))
    assert (unknown.value.key, unknown.value.facts) == (
        "metric_unknown_kpi", {"slug": "churn", "name": "lat", "known": ("auc",)})
    table, _chart = await metrics.show(ShowMetrics("churn"))
    assert [s.name for s in table.summaries] == ["auc"]


async def test_dora_of_a_use_case_without_deployments_is_all_n_a(metrics: MetricService) -> None:
    shown = await metrics.dora(ShowDora("churn", days=7))
    assert (shown.report.use_case, shown.report.deployments, shown.report.band) == ("churn", 0, "n/a")
