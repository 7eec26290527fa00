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



def _overdue_key(uc: UseCase, now: datetime, timebox: timedelta) -> str:
    """One reminder per full week over the time box, counted from when it went over."""
    weeks_over = int((uc.time_in_phase(now) - timebox) / timedelta(weeks=1))
    return f"{uc.slug}:{uc.phase_since.isoformat()}:{weeks_over}"
