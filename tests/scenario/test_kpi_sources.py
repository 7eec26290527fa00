"""Continuous KPIs end to end: a KPI source file, a real SQLite "warehouse" file read by the SQL
source, pulls on the (simulated) schedule through the real app, crossings and source failures
announced once in the channel, `/metric sources`, `/metric pull`, two processes pulling once, and
a rollout whose `kpi` health check sees the business KPI drop and rolls back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.render.deploy_stop_words import kept_stop
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import (
    deploy,
    history,
    load,
    new_use_case,
    thread,
    write_pipeline,
)
from tests.scenario.helpers import post_text, posts, reply_text

HOUR = timedelta(hours=1)


class Warehouse:
    """A SQLite file holding model scores, changed by the test as a data engineer would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.set_auc(0.85)

    def set_auc(self, value: float) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS churn_eval (score REAL)")
            db.execute("DELETE FROM churn_eval")
            db.execute("INSERT INTO churn_eval VALUES (?)", (value,))

    def drop(self) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("DROP TABLE churn_eval")

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.path}"


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    house = Warehouse(tmp_path / "warehouse.db")
    monkeypatch.setenv("TEST_WAREHOUSE_URL", house.url)
    return house


KPI_FILE = """
[connections.warehouse]
url_env = "TEST_WAREHOUSE_URL"

[[kpis]]
use_case = "churn"
name = "auc"
unit = "ratio"
every = "1h"
target = ">= 0.83"
source = { kind = "sql", connection = "warehouse", query = "SELECT avg(score) FROM churn_eval" }
"""


def with_kpis(settings: Settings, directory: Path, pipeline: str | None = None) -> Settings:
    path = directory / "kpis.toml"
    path.write_text(KPI_FILE, encoding="utf-8")
    settings = replace(settings, kpi_sources_path=str(path))
    if pipeline is not None:
        settings = replace(settings, pipelines_path=str(write_pipeline(directory, pipeline)))
    return settings


@asynccontextmanager
async def kpi_sim(settings: Settings, clock: ManualClock, tmp_path: Path,
                  pipeline: str | None = None) -> AsyncIterator[Simulator]:
    async with Simulator(with_kpis(settings, tmp_path, pipeline), clock=clock) as sim:
        await new_use_case(sim)
        await sim.app.kpis.kpis.apply_targets()
        yield sim


def channel_texts(sim: Simulator) -> list[str]:
    return [post_text(p) for p in posts(sim, sim.channel)]


async def next_hour(sim: Simulator, clock: ManualClock) -> None:
    clock.advance(HOUR)
    await sim.app.settle()  # what falls due by the clock: the scheduled pull


async def test_a_kpi_pulled_on_schedule_crosses_its_target_and_is_announced_once(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    async with kpi_sim(settings, clock, tmp_path) as sim:
        await sim.app.settle()
        shown = reply_text(await sim.command("/metric show churn auc"))
        assert "0.85 ratio" in shown and "✅" in shown
        warehouse.set_auc(0.80)
        await next_hour(sim, clock)
        warehouse.set_auc(0.79)
        await next_hour(sim, clock)
        crossings = [t for t in channel_texts(sim) if "target" in t]
        assert len(crossings) == 1, crossings
        assert "churn · auc fell short of its target ≥ 0.83: now 0.8 ratio" in crossings[0]
        shown = reply_text(await sim.command("/metric show churn auc"))
        assert "0.79 ratio" in shown and "❌" in shown
        assert sim.fake.calls_to("files.completeUploadExternal"), "the chart of the pulled series"


async def test_a_failing_source_is_announced_once_and_its_recovery_once(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    async with kpi_sim(settings, clock, tmp_path) as sim:
        await sim.app.settle()
        warehouse.drop()
        await next_hour(sim, clock)
        await next_hour(sim, clock)
        said = reply_text(await sim.command("/metric sources churn"))
        assert "failing since" in said and "churn_eval" in said
        assert "its source is failing" in reply_text(await sim.command("/metric show churn"))
        warehouse.set_auc(0.86)
        await next_hour(sim, clock)
        await next_hour(sim, clock)
        about_source = [t for t in channel_texts(sim) if "The source of" in t]
        assert len(about_source) == 2, about_source
        assert "is failing" in about_source[0] and "churn_eval" in about_source[0]
        assert "works again" in about_source[1] and "0.86 ratio" in about_source[1]
        assert warehouse.url not in "".join(channel_texts(sim))


async def test_metric_pull_pulls_now_for_the_team_and_refuses_others(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    async with kpi_sim(settings, clock, tmp_path) as sim:
        warehouse.set_auc(0.91)
        said = reply_text(await sim.command("/metric pull churn auc"))
        assert "Pulled churn · auc from SQL on `warehouse`: 0.91 ratio, recorded." in said
        sim.switch_user("bob")
        refused = reply_text(await sim.command("/metric pull churn auc"))
        assert "Only the owner" in refused and "may pull its KPIs" in refused
        typo = reply_text(await sim.command("/metric pull churn"))
        assert "/metric pull <slug> <name>" in typo


@pytest.mark.postgres
async def test_two_processes_on_postgresql_pull_each_fire_time_once(
        pg_settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    settings = with_kpis(pg_settings, tmp_path)
    async with Simulator(settings, clock=clock) as one, Simulator(settings, clock=clock) as two:
        await new_use_case(one)  # its settle makes the first pull
        for _ in range(3):
            clock.advance(HOUR)
            pulled = await asyncio.gather(one.app.kpis.catch_up(), two.app.kpis.catch_up())
            assert sorted(pulled) == [0, 1], "one process pulled, the other found it claimed"
        async with one.app.db.uow() as uow:
            points = (await uow.metrics.series("churn", since=clock.now() - 5 * HOUR))["auc"]
        assert len(points) == 4


KPI_GATED = """
[pipelines.rollout]
[[pipelines.rollout.stages]]
name = "deploy"
run = { executor = "dry-run" }
waves = ["1", "100%"]
targets = 4
bake = "10m"
health = { executor = "kpi", name = "auc", max_drop = "2%" }
on_failure = "rollback"
"""


async def test_a_rollout_whose_kpi_drops_is_rolled_back(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    async with kpi_sim(settings, clock, tmp_path, KPI_GATED) as sim:
        await sim.app.settle()
        good = await deploy(sim, "/deploy churn 1.0.0")
        clock.advance(timedelta(minutes=11))
        await sim.app.settle()
        clock.advance(timedelta(minutes=11))
        await sim.app.settle()
        assert (await load(sim, good)).state is DeploymentState.SUCCEEDED
        assert any("KPI `auc` is 0.85 ratio: meets its target" in n for n in thread(sim, good))

        clock.advance(HOUR)
        bad = await deploy(sim, "/deploy churn 2.0.0")
        warehouse.set_auc(0.83)  # still on target, but 0.02 below 0.85: more than 2 % of it
        clock.advance(timedelta(minutes=11))
        await sim.app.settle()

        failed = await load(sim, bad)
        assert failed.state is DeploymentState.FAILED
        assert ("KPI `auc` is 0.83 ratio, 0.02 ratio worse than 0.85 ratio at the start "
                "(allowed: 2%)") in kept_stop(failed.detail)
        [rollback] = [d for d in await history(sim) if d.kind == "rollback"]
        assert (rollback.version, rollback.rollback_of) == ("1.0.0", bad)


SLOW_KPI_FILE = KPI_FILE.replace('query = "SELECT avg(score) FROM churn_eval"', (
    'query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"'
)).replace('every = "1h"', 'every = "1h"\ntimeout = "4s"')


async def test_a_slow_source_never_holds_up_an_acknowledgement(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    path = tmp_path / "slow.toml"
    path.write_text(SLOW_KPI_FILE, encoding="utf-8")
    async with Simulator(replace(settings, kpi_sources_path=str(path)), clock=clock) as sim:
        await sim.command('/usecase new churn "Predict churn"', wait=False)
        pulling = asyncio.create_task(sim.app.kpis.catch_up())  # as the scheduler starts it
        await asyncio.sleep(0.2)
        step = await sim.command("/usecase list", wait=False)
        assert step.status == 200 and "churn" in reply_text(step)
        assert not pulling.done(), "the answer came while the pull still ran"
        assert await pulling == 1
        said = reply_text(await sim.command("/metric sources churn"))
        assert "failing" in said and "took longer than 4s" in said, "the timeout is the reason"
