"""`/deploy status` of a use case or of the workspace: the deployments, and what keeps new ones
from starting -- a lock, a freeze window open now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.deploy_results import RunningNow, UseCaseStatus
from bot.domain.deployment_model import Event
from bot.domain.freezes import RecurringFreeze
from bot.services.freezes import chain_for, frozen_now
from bot.services.ports import UnitOfWork
from bot.services.usecases import load_use_case


async def of_use_case(uow: UnitOfWork, slug: str, recurring: Sequence[RecurringFreeze],
                      now: datetime, tz: str) -> UseCaseStatus:
    """Its active or latest deployment, with its lock and the freeze it is in now (windows that
    meet are followed, so the end shown is when deployments may really start again)."""
    uc = await load_use_case(uow, slug)
    found = await uow.deployments.active_for(uc.slug) or next(
        iter(await uow.deployments.history(uc.slug, limit=1)), None)
    chain = await chain_for(uow, recurring, uc.slug, now)
    production = await uow.deployments.production(uc.slug)
    lock = await uow.deployments.lock(uc.slug)
    events: tuple[Event, ...] = ()
    if found is not None:
        assert found.id is not None
        events = tuple(await uow.deployments.events(found.id))
    return UseCaseStatus(uc.slug, found, events, production, lock, tuple(chain), now, tz)


async def running(uow: UnitOfWork, recurring: Sequence[RecurringFreeze], now: datetime,
                  tz: str) -> RunningNow:
    """The deployments running now and every freeze window open now."""
    active = await uow.deployments.active()
    frozen = await frozen_now(uow, recurring, None, now)
    return RunningNow(tuple(active), tuple(frozen), tz)
