"""APScheduler drives digests and reminders; the database decides who posts.

One cron job per digest schedule (fire times from :class:`bot.domain.schedule.Schedule`, so
daylight-saving changes neither double nor skip a digest), a sync job that picks up schedules
changed by other processes and posts a digest missed by less than an hour, a reminders job, and
a job a second past each minute that announces the freeze windows beginning and ending.
Every post is claimed in the database first: two processes firing together post once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.domain.schedule import Schedule, missed_fire
from bot.log_events import get_logger
from bot.runtime.kpi_jobs import KpiJobs
from bot.runtime.triggers import ScheduleTrigger
from bot.services.digests import DigestService
from bot.services.freeze_notices import FreezeNotices
from bot.services.reminders import ReminderService
from storage.requests import RequestLog

log = get_logger(__name__)

SYNC_EVERY = timedelta(seconds=60)
REMIND_EVERY = timedelta(minutes=5)
# Whether each channel homing use cases is private, asked of Slack again: at start-up (use
# cases from before privacy was recorded) and hourly (a channel made private meanwhile).
PRIVACY_EVERY = timedelta(hours=1)
REMEMBER_DELIVERIES = timedelta(hours=1)
_INSTANT = timedelta(microseconds=1)


class Scheduler:
    def __init__(self, digests: DigestService, reminders: ReminderService, clock: Clock,
                 requests: RequestLog | None = None,
                 heavy_turn: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
                 kpis: KpiJobs | None = None, freezes: FreezeNotices | None = None,
                 privacy: Callable[[], Awaitable[int]] | None = None) -> None:
        self.kpis = kpis
        self.privacy = privacy
        self._background: set[asyncio.Task[Any]] = set()
        self.freezes = freezes
        self._catching_up: asyncio.Task[int] | None = None
        # Digests and reminders take turns with the other heavy work (``Background``): forty
        # channels at 09:00 queue among themselves, not in front of acknowledgements.
        self.heavy_turn = heavy_turn
        self.requests = requests
        self.digests = digests
        self.reminders = reminders
        self.clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[str, Schedule] = {}

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        for job, every, name in ((self.sync, SYNC_EVERY, "digest-sync"),
                                 (self.remind, REMIND_EVERY, "reminders")):
            self._scheduler.add_job(job, "interval", seconds=every.total_seconds(), id=name,
                                    coalesce=True, max_instances=1)
        if self.freezes is not None:  # windows begin and end on whole minutes
            self._scheduler.add_job(self.announce_freezes, "cron", second=1, id="freeze-notices",
                                    coalesce=True, max_instances=1)
        if self.kpis is not None:
            self.kpis.add_to(self._scheduler)
            await self.kpis.kpis.apply_targets()
        if self.privacy is not None:
            self._scheduler.add_job(self.refresh_privacy, "interval", id="privacy",
                                    seconds=PRIVACY_EVERY.total_seconds(), coalesce=True,
                                    max_instances=1)
            self._in_background(self.refresh_privacy(), "privacy-refresh")  # Slack may be slow
        self._scheduler.start()
        await self.sync()
        await self.announce_freezes()

    async def stop(self) -> None:
        tasks = [*self._background, *([self._catching_up] if self._catching_up else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def sync(self) -> int:
        """Match the jobs to the stored schedules and post digests missed within the hour."""
        posted = 0
        if self.requests is not None:  # housekeeping rides along: retries come within minutes
            await self.requests.forget_before(self.clock.now() - REMEMBER_DELIVERIES)
        self._catch_up_kpis()
        stored = await self.digests.schedules()
        for channel, (schedule, last_run) in stored.items():
            if self._scheduler is not None and self._jobs.get(channel) != schedule:
                self._scheduler.add_job(
                    self.fire,
                    ScheduleTrigger(schedule),
                    args=[channel],
                    id=f"digest:{channel}",
                    replace_existing=True,
                    coalesce=True,
                    misfire_grace_time=3600,
                )
            self._jobs[channel] = schedule
            missed = missed_fire(schedule, last_run, self.clock.now())
            if missed is not None and await self._post(channel, missed):
                posted += 1
        for channel in set(self._jobs) - set(stored):
            if self._scheduler is not None and self._scheduler.get_job(f"digest:{channel}"):
                self._scheduler.remove_job(f"digest:{channel}")
            del self._jobs[channel]
        return posted

    async def fire(self, channel: str) -> bool:
        """The cron job: post this channel's digest for the fire time that just passed."""
        stored = await self.digests.schedules()
        if channel not in stored:
            return False
        schedule, _last = stored[channel]
        now = self.clock.now()
        times = schedule.fire_times(now - timedelta(hours=1), now + timedelta(seconds=5))
        if not times:
            return False
        posted = await self._post(channel, times[-1])
        log.info("digest.fire", channel=channel, fire_time=times[-1].isoformat(), posted=posted)
        return posted

    async def catch_up(self) -> None:
        """What fell due by the clock, now (simulator, tests): KPI pulls, freeze notices."""
        if self.kpis is not None:
            await self.kpis.catch_up()
        await self.announce_freezes()

    async def next_due(self, after: datetime, until: datetime, *,
                       pulls: bool = True) -> datetime | None:
        """The first moment in ``(after, until]`` one of these jobs has something to do: a
        digest's or (``pulls``) a KPI's fire time, a freeze window's start or end, a Dev use
        case another week over its time box. Production's jobs fire or poll; the simulator,
        moving its clock days at once, steps from one such moment to the next
        (bot/runtime/timeline.py)."""
        stored = await self.digests.schedules()
        times: list[datetime | None] = [s.next_fire(after) for s, _last in stored.values()]
        times.append(await self.reminders.next_due(after))
        if self.kpis is not None and pulls:
            times.append(self.kpis.next_due(after))
        if self.freezes is not None:
            times.append(await self.freezes.next_due(after, until))
        return min((t for t in times if t is not None and t <= until), default=None)

    async def run_due(self, at: datetime) -> int:
        """At the moment ``at`` (the clock reads it): the reminders job, and the cron job of
        every digest that fires then -- each posted, never counted as done. KPI pulls and
        freeze notices come with :meth:`catch_up`. How many messages this queued."""
        done = await self.remind()
        for channel, (schedule, _last) in (await self.digests.schedules()).items():
            if schedule.next_fire(at - _INSTANT) == at and await self.fire(channel):
                done += 1
        return done

    async def announce_freezes(self) -> int:
        if self.freezes is None:
            return 0
        try:
            return await self.freezes.run()
        except Exception:  # noqa: BLE001 - tried again in a minute; the claims keep it once
            log.exception("freeze.notices_failed")
            return 0

    async def refresh_privacy(self) -> int:
        if self.privacy is None:
            return 0
        try:
            return await self.privacy()
        except Exception:  # noqa: BLE001 - tried again within the hour
            log.exception("privacy.refresh_failed")
            return 0

    def _in_background(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _catch_up_kpis(self) -> None:
        """Pulls missed (down, or a job that woke late) are made in the background: a slow
        source never holds up start-up or the digests."""
        if self.kpis is None or (self._catching_up is not None and not self._catching_up.done()):
            return
        self._catching_up = asyncio.create_task(self.kpis.catch_up(), name="kpi-catch-up")

    async def _post(self, channel: str, fire_time: datetime) -> bool:
        async with self.heavy_turn():
            return await self.digests.run_scheduled(channel, fire_time)

    async def remind(self) -> int:
        async with self.heavy_turn():
            return await self.reminders.run()

    def jobs(self) -> list[Any]:
        return [] if self._scheduler is None else self._scheduler.get_jobs()
