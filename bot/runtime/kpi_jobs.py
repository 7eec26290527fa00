"""KPI pulls on schedule: one APScheduler job per KPI, and a catch-up for pulls missed.

Every pull is claimed in the database per (KPI, fire time) first, so however many processes run
the same jobs, each fire time is pulled once; the catch-up (at start-up, then with the
scheduler's minute sync) makes the newest missed pull once, however long the bot was down.
Pulls wait on other systems, so they take turns among slots of their own: a slow warehouse
never holds up a digest, a command's answer or an acknowledgement.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.kpis import KpiSpec, latest_fire
from bot.log_events import get_logger
from bot.runtime.triggers import ScheduleTrigger
from bot.services.kpis import KpiService

log = get_logger(__name__)

PULLS_AT_ONCE = 4
EARLY = timedelta(seconds=5)  # a job may wake a little before its time: it is still that pull


class KpiJobs:
    def __init__(self, kpis: KpiService) -> None:
        self.kpis = kpis
        self._turns = asyncio.Semaphore(PULLS_AT_ONCE)

    def add_to(self, scheduler: AsyncIOScheduler) -> None:
        for kpi in self.kpis.sources.kpis:
            scheduler.add_job(self.fire, ScheduleTrigger(kpi.schedule), args=[kpi],
                              id=f"kpi:{kpi.use_case}:{kpi.name}", replace_existing=True,
                              coalesce=True, max_instances=1, misfire_grace_time=None)

    async def fire(self, kpi: KpiSpec) -> bool:
        """The job: pull for the fire time that just came (if no other process did)."""
        fire_time = latest_fire(kpi.schedule, self.kpis.clock.now() + EARLY)
        if fire_time is None:
            return False
        return await self._pull(kpi, fire_time)

    async def catch_up(self) -> int:
        """Make each KPI's newest unclaimed pull; returns how many this process made."""
        due = await self.kpis.due()
        done = await asyncio.gather(*(self._pull(kpi, fire) for kpi, fire in due))
        return sum(done)

    def next_due(self, after: datetime) -> datetime | None:
        """The first fire time of any KPI after ``after`` (the simulator steps its clock to it)."""
        return min((kpi.schedule.next_fire(after) for kpi in self.kpis.sources.kpis), default=None)

    async def close(self) -> None:
        await self.kpis.reader.close()

    async def _pull(self, kpi: KpiSpec, fire_time: datetime) -> bool:
        async with self._turns:
            try:
                return await self.kpis.pull_scheduled(kpi, fire_time) is not None
            except Exception:  # noqa: BLE001 - one KPI's trouble must not stop the others
                log.exception("kpi.pull_error", use_case=kpi.use_case, kpi=kpi.name)
                return False
