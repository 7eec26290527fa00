"""`/deploy status` of a use case or of the workspace: the deployments, and what keeps new ones
from starting -- a lock, a freeze window open now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.freezes import RecurringFreeze
from bot.render import blocks, deploy_blocks
from bot.render.blocks import Message
from bot.render.deploy_words import lock_words
from bot.render.freeze_blocks import describe, frozen_lines
from bot.render.production_words import production_line
from bot.services.freezes import chain_for, frozen_now
from bot.services.ports import DeployLock, UnitOfWork
from bot.services.usecases import load_use_case


def lock_line(lock: DeployLock | None, now: datetime, tz: str) -> str:
    if lock is None:
        return ""
    words = lock_words(lock, tz, now)
    return f"🔒 {words[0].upper()}{words[1:]}"


async def of_use_case(uow: UnitOfWork, slug: str, recurring: Sequence[RecurringFreeze],
                      now: datetime, tz: str) -> Message:
    """Its active or latest deployment, with its lock and the freeze it is in now (windows that
    meet are followed, so the end shown is when deployments may really start again)."""
    uc = await load_use_case(uow, slug)
    found = await uow.deployments.active_for(uc.slug) or next(
        iter(await uow.deployments.history(uc.slug, limit=1)), None)
    chain = await chain_for(uow, recurring, uc.slug, now)
    running = production_line(await uow.deployments.production(uc.slug), tz)
    notes = [note for note in (f"🎯 *In production:* {running}",
                               lock_line(await uow.deployments.lock(uc.slug), now, tz),
                               f"❄️ Frozen: {describe(chain, tz)}" if chain else "") if note]
    if found is None:
        return blocks.notice("\n".join([*notes, f"No deployments of *{uc.slug}* yet."]))
    assert found.id is not None
    events = await uow.deployments.events(found.id)
    return deploy_blocks.status_message(found, events, now=now, tz=tz, notes=notes)


async def running(uow: UnitOfWork, recurring: Sequence[RecurringFreeze], now: datetime,
                  tz: str) -> Message:
    """The deployments running now and every freeze window open now."""
    active = await uow.deployments.active()
    frozen = await frozen_now(uow, recurring, None, now)
    return deploy_blocks.running_message(active, frozen_lines(frozen, tz))
