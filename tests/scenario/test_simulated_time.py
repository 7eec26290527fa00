"""The simulator's clock keeps its promise: moving it (`time +3d`) runs everything that falls
due on the way, each at its own moment, in order, as production would have: each scheduled
digest posted (never counted as done), each gate reminder and the expiry, each week a Dev use
case is over its time box, each freeze window's start and end, each lock reminder, each KPI pull.

``Simulator.pass_time`` is what the shell's `time` runs (bot/runtime/timeline.py); START
(tests/scenario/conftest.py) is Monday 2 March 2026, 09:00 UTC.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.runtime.timeline import Timeline
from bot.simulator.clocks import move_to
from bot.simulator.shell import Shell, _scripted
from bot.simulator.simulator import Simulator
from storage.models import DigestRunRow
from tests.scenario.conftest import START
from tests.scenario.deploy_helpers import deployment
from tests.scenario.helpers import post_text, posts, reply_text
from tests.scenario.test_digests import digests, schedule
from tests.scenario.test_freeze_policy import RECURRING, gated_sim

GENERAL = "CGENERAL"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def test_a_daily_digest_crossed_three_times_is_posted_three_times_each_on_its_day(
        sim: Simulator, clock: ManualClock) -> None:
    await schedule(sim, "0 9 * * *")  # START is 09:00: the first one is Tuesday's
    step, passed = await sim.pass_time(timedelta(days=3))

    assert [d["blocks"][0]["text"]["text"] for d in digests(sim, GENERAL)] == [
        "📋 BizDevOps digest — Tue 3 Mar 2026", "📋 BizDevOps digest — Wed 4 Mar 2026",
        "📋 BizDevOps digest — Thu 5 Mar 2026"]
    assert [c.args for c in step.calls if c.method == "chat.postMessage"] == digests(sim)
    async with sim.app.db.sessions() as session:
        fired = list(await session.scalars(select(DigestRunRow.fire_time)
                                           .order_by(DigestRunRow.fire_time)))
    assert [f.replace(tzinfo=UTC) for f in fired] == [at(3, 9), at(4, 9), at(5, 9)]
    assert passed.moments == 3 and not passed.caught_up
    assert clock.now() == START + timedelta(days=3)
    text = reply_text(await sim.command("/digest"))
    assert "The last digest here was posted 2026-03-05 09:00 UTC" in text
    assert "Next: 2026-03-06 09:00 UTC" in text


async def test_the_shell_shows_each_digest_that_fell_due(sim: Simulator) -> None:
    out = io.StringIO()
    lines = ['/digest schedule "0 9 * * *" tz=UTC', "time +3d", "time +1h"]
    assert await _scripted(Shell(sim, out, color=False), lines) == 0
    transcript = out.getvalue()
    moved, later = transcript.split("time +3d", 1)[1].split("time +1h", 1)
    assert "(simulated time is now 2026-03-05 09:00 UTC)" in moved
    for day in ("Tue 3 Mar", "Wed 4 Mar", "Thu 5 Mar"):
        assert moved.count(f"📋 BizDevOps digest — {day} 2026") == 1
    assert "BizDevOps digest" not in later  # nothing more fell due in the hour after


async def test_a_waiting_gate_is_reminded_at_each_interval_crossed_then_expires(
        sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")  # the built-in pipeline: remind 4h, expires 24h
    await sim.pass_time(timedelta(days=2))

    async with sim.app.db.uow() as uow:
        events = await uow.deployments.events(1)
    reminded = [e.at for e in events if e.kind == "reminded"]
    assert reminded == [at(2, 13), at(2, 17), at(2, 21), at(3, 1), at(3, 5)]
    assert [e.at for e in events if e.kind == "expired"] == [at(3, 9)]
    assert (await deployment(sim, 1)).state is DeploymentState.EXPIRED
    notes = [post_text(p) for p in posts(sim, GENERAL) if "has waited" in post_text(p)]
    assert [n.split(" for approval")[0].split("has waited ")[1] for n in notes] == [
        "4 hours", "8 hours", "12 hours", "16 hours", "20 hours"]
    asked = [p for p in posts(sim) if p["channel"] == "UALICE"]
    assert len(asked) == 1 + 5  # alice (the owner) was asked, then reminded five times


async def test_a_dev_use_case_over_its_time_box_is_reminded_each_week_it_stays_over(
        sim: Simulator, settings: Settings) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/usecase advance churn "kick-off"')  # in Dev from START
    await sim.pass_time(settings.dev_timebox + timedelta(weeks=2, hours=1))

    overdue = [post_text(p) for p in posts(sim, GENERAL) if "over its" in post_text(p)]
    weeks = settings.dev_timebox // timedelta(weeks=1)
    assert [o.split("in Dev for ")[1].split(" weeks")[0] for o in overdue] == [
        str(weeks), str(weeks + 1), str(weeks + 2)]


async def test_a_lock_is_reminded_of_each_day_it_is_held(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/deploy lock churn "quarter-end"')
    await sim.pass_time(timedelta(days=3, hours=1))
    reminders = [p for p in posts(sim, GENERAL) if "quarter-end" in post_text(p)][1:]
    assert len(reminders) == 3, [post_text(r) for r in reminders]


async def test_a_freeze_window_crossed_in_one_move_is_announced_as_it_begins_and_ends(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        await sim.pass_time(timedelta(days=8))  # the whole weekend, Friday 18:00 to Monday 09:00
        said = [post_text(p) for p in posts(sim, sim.channel)]
        begun = [i for i, s in enumerate(said) if "“weekend” (pipeline file) has begun" in s]
        over = [i for i, s in enumerate(said) if "“weekend” (pipeline file) is over" in s]
        assert len(begun) == 1 and len(over) == 1 and begun[0] < over[0], said
    finally:
        await sim.stop()


def hourly_kpi(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    sqlite3.connect(tmp_path / "warehouse.db").close()  # the source opens it read-only
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite+aiosqlite:///{tmp_path / 'warehouse.db'}")
    sources = tmp_path / "kpis.toml"
    sources.write_text("""
[connections.warehouse]
url_env = "WAREHOUSE_URL"

[[kpis]]
use_case = "churn"
name = "auc"
every = "1h"
source = { kind = "sql", connection = "warehouse", query = "SELECT 0.9" }
""", encoding="utf-8")
    return replace(settings, kpi_sources_path=str(sources))


async def pulled_at(sim: Simulator) -> list[datetime]:
    async with sim.app.db.uow() as uow:
        points = await uow.metrics.series("churn", since=START - timedelta(days=1))
    return [p.at for p in points.get("auc", [])]


async def test_a_kpi_is_pulled_at_each_of_its_fire_times(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(hourly_kpi(settings, tmp_path, monkeypatch), clock=clock) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.pass_time(timedelta(hours=3, minutes=30))
        assert await pulled_at(sim) == [START + timedelta(hours=h) for h in range(4)]


async def test_past_the_limit_pulls_are_caught_up_but_every_digest_still_comes(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(hourly_kpi(settings, tmp_path, monkeypatch), clock=clock) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await schedule(sim, "0 9 * * *")
        timeline = Timeline(sim.app.scheduler, sim.app.engine, sim.app.settle, clock)
        passed = await timeline.pass_until(START + timedelta(days=2, hours=1),
                                           lambda when: move_to(clock, when), limit=3)
        assert passed.caught_up and passed.moments == 3 + 2  # then only the two digests
        assert len(digests(sim, GENERAL)) == 2
        assert await pulled_at(sim) == [*(START + timedelta(hours=h) for h in range(4)),
                                        at(3, 9), at(4, 9), at(4, 10)]  # the newest, each time
