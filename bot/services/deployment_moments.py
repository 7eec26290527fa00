"""When the deployment engine next has something time-based to do.

A gate's approvers to tell or remind, a gate's expiry, a step's timeout or a bake's end (each
deployment's ``next_deadline``, stored as ``next_at``), or a lock to remind of. The engine polls
for these every second; the simulator, moving its clock days at once, steps to each of them
instead (bot/runtime/timeline.py), so each happens at its own moment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.services.ports import UnitOfWork

ACTIVE_LIMIT = 500  # a simulator's or a test's deployments; production never asks


async def next_due(uow: Callable[[], UnitOfWork], after: datetime,
                   lock_age: timedelta) -> datetime | None:
    """The first such moment after ``after``, or None."""
    async with uow() as work:
        active = await work.deployments.active(limit=ACTIVE_LIMIT)
        slugs = [uc.slug for uc in await work.use_cases.find(include_archived=True)]
        locks = await work.deployments.locks(slugs) if slugs else []
    times = [t for d in active if (t := d.next_deadline()) is not None and t > after]
    times += [_next_reminder(lock.locked_at, after, lock_age) for lock in locks]
    return min(times, default=None)


def _next_reminder(locked_at: datetime, after: datetime, age: timedelta) -> datetime:
    """A lock is reminded of at each full ``age`` it has been held (``claim_lock_reminders``)."""
    if locked_at + age > after:
        return locked_at + age
    return locked_at + ((after - locked_at) // age + 1) * age
