"""Continuous KPI rules (bot/services/kpis.py) on the in-memory storage: each fire time pulled
once, failures and recoveries announced once, crossings like recorded values, who may pull, and
the value the kpi gate judges. The readers here are scripted: the real ones (SQL, Prometheus,
MLflow) are tested against real servers in tests/integration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.kpis import Every, KpiSourceSet, KpiSpec, MaxDrop, Shortfall, SourceFailure, SqlSource
from bot.domain.metrics import Target
from bot.domain.usecases import DomainError, NotAllowed, Role, TeamMember
from bot.render.metric_replies import reply
from bot.runtime.kpi_jobs import KpiJobs
from bot.runtime.triggers import ScheduleTrigger
from bot.services.commands import PullKpi, RecordMetric, ShowMetrics, ShowSources
from bot.services.kpis import KpiService
from bot.services.metrics import MetricService
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, OUTSIDER, SCIENTIST, START, actor, seed, texts

AUC = KpiSpec("churn", "auc", SqlSource("warehouse", "SELECT avg(score) FROM eval"),
              Every(timedelta(hours=1)), unit="ratio", target=Target(">=", 0.83))


class ScriptedReader:
    """Answers each read with the next scripted value; an exception in the script is raised."""

    def __init__(self, *answers: float | Exception) -> None:
        self.answers = list(answers)
        self.reads = 0

    async def read(self, kpi: KpiSpec) -> float:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        pass


def service(db: InMemoryDatabase, reader: ScriptedReader, *kpis: KpiSpec,
            secrets: tuple[str, ...] = ()) -> KpiService:
    return KpiService(db.uow, db.clock, KpiSourceSet(kpis=kpis or (AUC,)), reader, "UTC",
                      secrets=secrets)


async def values(db: InMemoryDatabase, name: str = "auc") -> list[float]:
    async with db.uow() as uow:
        found = await uow.metrics.series("churn", since=START - timedelta(days=365))
    return [p.value for p in found.get(name, [])]


@pytest.fixture(autouse=True)
async def churn(db: InMemoryDatabase) -> None:
    await seed(db, team=(TeamMember(SCIENTIST, Role.DATA_SCIENTIST),))


async def test_each_fire_time_is_pulled_once_and_stored_like_a_recorded_value(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    kpis = service(db, ScriptedReader(0.85, 0.86))
    [(kpi, fire)] = await kpis.due()
    assert fire == START  # 09:00 sharp: the hourly fire time at or before now
    assert (await kpis.pull_scheduled(kpi, fire)) is not None
    assert await kpis.pull_scheduled(kpi, fire) is None  # claimed already: another process's turn
    assert await kpis.due() == []
    clock.advance(timedelta(hours=3, minutes=5))
    [(_kpi, later)] = await kpis.due()
    assert later == START + timedelta(hours=3)  # down for three fire times: the newest, once
    await kpis.pull_scheduled(kpi, later)
    assert await values(db) == [0.85, 0.86]


async def test_a_pulled_value_crossing_its_target_is_announced_once(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    kpis = service(db, ScriptedReader(0.85, 0.80, 0.79))
    await kpis.apply_targets()  # the file's target ">= 0.83"
    for hour in range(3):
        clock.advance(timedelta(hours=1) if hour else timedelta())
        [(kpi, fire)] = await kpis.due()
        await kpis.pull_scheduled(kpi, fire)
    crossings = [t for t in texts(db) if "target" in t]
    assert crossings == ["⚠️ churn · auc fell short of its target ≥ 0.83: now 0.8 ratio"]


async def test_a_failing_source_is_announced_once_and_its_recovery_once(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    reader = ScriptedReader(0.85, SourceFailure("relation \"eval\" does not exist"),
                            SourceFailure("no answer within 35 seconds"), 0.84)
    kpis = service(db, reader)
    for _ in range(4):
        [(kpi, fire)] = await kpis.due()
        await kpis.pull_scheduled(kpi, fire)
        clock.advance(timedelta(hours=1))
    said = texts(db)
    assert len(said) == 2, said
    assert said[0].startswith("🚨 The source of churn · auc (SQL on `warehouse`) is failing: "
                              "relation \"eval\" does not exist")
    assert said[1].startswith("✅ The source of churn · auc works again (failing since")
    assert said[1].endswith("now 0.84 ratio.")
    assert await values(db) == [0.85, 0.84]  # failures record nothing


async def test_secrets_in_a_failure_are_masked(db: InMemoryDatabase) -> None:
    reader = ScriptedReader(SourceFailure("login failed for hunter2@db"))
    kpis = service(db, reader, secrets=("hunter2",))
    pulled = await kpis.pull(PullKpi("churn", "auc"), actor(SCIENTIST))
    assert pulled.value is None and pulled.error == "login failed for •••@db"
    assert all("hunter2" not in t for t in texts(db))


async def test_the_team_pulls_now_and_outsiders_are_told_who_may(db: InMemoryDatabase) -> None:
    kpis = service(db, ScriptedReader(0.9, 0.91))
    for user in (SCIENTIST, ADMIN):
        pulled = await kpis.pull(PullKpi("churn", "auc"), actor(user))
        assert (pulled.kpi.key, pulled.error) == (("churn", "auc"), "")
    with pytest.raises(NotAllowed) as refused:
        await kpis.pull(PullKpi("churn", "auc"), actor(OUTSIDER))
    assert (refused.value.key, refused.value.facts) == (
        "kpi_pull_not_allowed", {"owner": "U_OWNER", "slug": "churn"})
    with pytest.raises(DomainError) as unknown:
        await kpis.pull(PullKpi("churn", "precision"), actor(SCIENTIST))
    assert (unknown.value.key, unknown.value.facts) == (
        "kpi_without_source", {"slug": "churn", "name": "precision", "known": ("auc",)})
    assert await values(db) == [0.9, 0.91]


async def test_sources_list_schedule_last_value_and_health(db: InMemoryDatabase) -> None:
    kpis = service(db, ScriptedReader(SourceFailure("connection refused")))
    before = await kpis.list_sources(ShowSources("churn"))
    [(kpi, status, upcoming)] = before.sources
    assert (before.slug, kpi.key, status) == ("churn", ("churn", "auc"), None)
    assert upcoming == kpi.schedule.next_fire(db.clock.now())
    await kpis.pull(PullKpi("churn", "auc"), actor(ADMIN))
    [(_kpi, status, _upcoming)] = (await kpis.list_sources(ShowSources())).sources
    assert status is not None and status.failing and status.error == "connection refused"


async def test_metric_show_marks_a_failing_source(db: InMemoryDatabase) -> None:
    metrics = MetricService(db.uow, db.clock)
    await metrics.record(RecordMetric("churn", "auc", "0.85"), actor(SCIENTIST))
    await service(db, ScriptedReader(SourceFailure("HTTP 503"))).pull(
        PullKpi("churn", "auc"), actor(ADMIN))
    table, _chart = await metrics.show(ShowMetrics("churn"))
    assert table.failing == {"auc": "HTTP 503"}


async def test_the_gate_pulls_a_fresh_value_and_compares_it_with_the_start(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    kpis = service(db, ScriptedReader(0.90, 0.86))
    await kpis.apply_targets()
    await kpis.pull(PullKpi("churn", "auc"), actor(ADMIN))  # 0.90 before the deployment
    started = clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=30))
    verdict = await kpis.judge("churn", "auc", MaxDrop(2, percent=True), started, clock.now())
    assert verdict.failed is Shortfall.WORSE_THAN_START
    assert (verdict.fresh, verdict.baseline, verdict.unit) == (0.86, 0.9, "ratio")


async def test_the_gate_on_a_kpi_without_source_needs_a_value_newer_than_the_wave(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    metrics = MetricService(db.uow, db.clock)
    kpis = service(db, ScriptedReader())
    await metrics.record(RecordMetric("churn", "ctr", "0.05"), actor(SCIENTIST))
    ran = clock.now() + timedelta(seconds=1)
    clock.advance(timedelta(minutes=5))
    stale = await kpis.judge("churn", "ctr", None, START, ran)
    assert stale.failed is Shortfall.NO_FRESH_VALUE
    await metrics.record(RecordMetric("churn", "ctr", "0.06"), actor(SCIENTIST))
    fresh = await kpis.judge("churn", "ctr", MaxDrop(0.005), START, ran)
    assert fresh.passed, fresh


async def test_a_source_failing_during_the_gate_fails_the_wave(db: InMemoryDatabase) -> None:
    kpis = service(db, ScriptedReader(SourceFailure("HTTP 500")))
    verdict = await kpis.judge("churn", "auc", None, START, db.clock.now())
    assert verdict.failed is Shortfall.NO_FRESH_VALUE


async def test_the_scheduled_job_pulls_the_fire_time_it_woke_for(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    jobs = KpiJobs(service(db, ScriptedReader(0.85, 0.86)))
    trigger = ScheduleTrigger(AUC.schedule)
    nine = clock.now()
    assert trigger.get_next_fire_time(None, nine) == nine  # on the hour: this one is due now
    assert trigger.get_next_fire_time(nine, nine) == nine + timedelta(hours=1)
    clock.advance(-timedelta(seconds=2))  # APScheduler may wake a moment early
    assert await jobs.fire(AUC) is True
    clock.advance(timedelta(seconds=3))
    assert await jobs.catch_up() == 0, "the job's pull was the 09:00 one: nothing left to catch up"
    clock.advance(timedelta(hours=1))
    assert await jobs.catch_up() == 1
    assert await values(db) == [0.85, 0.86]


async def test_a_kpi_of_a_use_case_that_is_gone_records_nothing_and_says_so(
        db: InMemoryDatabase) -> None:
    class DeletingReader(ScriptedReader):  # the use case goes while its source answers
        async def read(self, kpi: KpiSpec) -> float:
            db.committed.use_cases.delete("churn")
            return await super().read(kpi)

    kpis = service(db, DeletingReader(0.9))
    pulled = await kpis.pull_scheduled(AUC, START)
    assert pulled is not None and pulled.value is None and pulled.use_case_gone
    assert await values(db) == []
    assert "failed: there is no use case `churn`" in reply(pulled).text
