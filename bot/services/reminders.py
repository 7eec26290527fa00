"""Nudges that must come once: Dev work over its time box. (A gate waiting too long is nudged
by the deployment engine, at the moment its ``remind`` interval says: ``gate_notices``.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.durations import weeks
from bot.domain.metric_results import DevOverdue
from bot.domain.usecases import Phase, UseCase
from bot.services.ports import UnitOfWork

_INSTANT = timedelta(microseconds=1)


@dataclass
class ReminderService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    dev_timebox: timedelta

    async def run(self) -> int:
        return await self.overdue_dev()

    async def overdue_dev(self) -> int:
        """A use case over its Dev time box: one reminder a week in its channel."""
        now, sent = self.clock.now(), 0
        async with self.uow() as uow:
            overdue = await uow.use_cases.find(phase=Phase.DEV, entered_before=now - self.dev_timebox)
            keys = {uc.slug: _overdue_key(uc, now, self.dev_timebox) for uc in overdue}
            done = await uow.claims.claimed("overdue", list(keys.values()))
            for uc in overdue:
                if keys[uc.slug][:120] in done:
                    continue
                if await uow.claims.claim("overdue", keys[uc.slug], now):
                    uow.outbox.post(uc.channel_id, DevOverdue(
                        uc.slug, uc.owner_id, weeks(uc.time_in_phase(now)), weeks(self.dev_timebox)))
                    sent += 1
            await uow.commit()
        return sent

    async def next_due(self, after: datetime) -> datetime | None:
        """The first moment after ``after`` a Dev use case goes (another week) over its time
        box: when :meth:`overdue_dev` next has a reminder to send (the simulator steps to it)."""
        async with self.uow() as uow:
            in_dev = await uow.use_cases.find(phase=Phase.DEV)
        return min((_next_week_over(uc, after, self.dev_timebox) for uc in in_dev), default=None)


def _next_week_over(uc: UseCase, after: datetime, timebox: timedelta) -> datetime:
    """Over the time box just after ``phase_since + timebox`` (``entered_before`` is strict),
    then again at each full week more: each a new key of :func:`_overdue_key`."""
    over = uc.phase_since + timebox + _INSTANT
    if over > after:
        return over
    return over + ((after - over) // timedelta(weeks=1) + 1) * timedelta(weeks=1)


def _overdue_key(uc: UseCase, now: datetime, timebox: timedelta) -> str:
    """One reminder per full week over the time box, counted from when it went over."""
    weeks_over = int((uc.time_in_phase(now) - timebox) / timedelta(weeks=1))
    return f"{uc.slug}:{uc.phase_since.isoformat()}:{weeks_over}"
