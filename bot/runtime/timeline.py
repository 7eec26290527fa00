"""Time passing at once: the simulator's ``time +3d``, each thing at its own moment, in order.

In production the scheduler's jobs fire at their times (digests, KPI pulls) or poll (reminders
every five minutes, freeze notices every minute) and the deployment engine looks every second
(gate news and expiries, timeouts, lock reminders). A clock moved by days cannot be polled a
second at a time, so each part says when it next has something to do (``next_due``); the clock
is set to the earliest such moment and the same bodies run as in production -- the engine's
tick, the KPI catch-up and the freeze notices (``BotApp.settle``), the reminders job and each
digest's cron job (``Scheduler.run_due``) -- then on to the next moment, up to the target.

A scheduled digest is posted at each fire time crossed, never counted as done: production posts
one missed by less than an hour after a restart, and this clock never restarts, so no fire time
is ever late.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.log_events import get_logger
from bot.runtime.deploy_engine import DeploymentEngine
from bot.runtime.scheduler import Scheduler

log = get_logger(__name__)

# Moments stepped through one by one in a move before KPI fire times are no longer stepped to (a
# KPI pulled every minute, moved six weeks, has 60,480): the newest pull is then made with the
# next other moment or at the target, as after a restart. Every other kind of moment (digests
# come at most hourly, reminders and freezes seldom) is always stepped to.
MAX_MOMENTS = 2000


@dataclass(frozen=True)
class Passed:
    moments: int             # moments stepped through, each with something due
    caught_up: bool = False  # MAX_MOMENTS reached: later KPI pulls were caught up, not stepped


@dataclass
class Timeline:
    scheduler: Scheduler
    engine: DeploymentEngine
    settle: Callable[[], Awaitable[None]]  # BotApp.settle: the engine, pulls, notices, the outbox
    clock: Clock

    async def next_moment(self, until: datetime, *, pulls: bool = True) -> datetime | None:
        """The first moment after now, up to ``until``, that something falls due."""
        now = self.clock.now()
        times = [await self.scheduler.next_due(now, until, pulls=pulls),
                 await self.engine.next_due(now)]
        return min((t for t in times if t is not None and t <= until), default=None)

    async def pass_until(self, until: datetime, move_to: Callable[[datetime], None], *,
                         limit: int = MAX_MOMENTS) -> Passed:
        """Move the clock to ``until`` (via ``move_to``), running what falls due at each moment."""
        await self.settle()  # what is due already
        moments = 0
        while (at := await self.next_moment(until, pulls=moments < limit)) is not None:
            move_to(at)
            await self.settle()
            if await self.scheduler.run_due(at):
                await self.settle()  # deliver what the reminders and digests queued
            moments += 1
        if moments >= limit:
            log.warning("timeline.pulls_caught_up", moments=moments)
        move_to(until)
        await self.settle()
        return Passed(moments, caught_up=moments >= limit)
