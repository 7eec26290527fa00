"""Saving a deployment transition and everything it owes people, in one transaction.

Every state change goes through :func:`persist`: the new state (guarded by its revision), the
audit events, the edit of the deployment message (naming who may pass the gate it waits at),
thread notes, the direct messages of that gate's approvers and of the requester, and the end's
announcement all commit together or not at all. Side effects (running executors, stopping a
step, refreshing Home tabs) follow the commit, through the events emitted here
(``bot.services.events``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.clock import Clock
from bot.domain.approvers import Approvers, of_gate
from bot.domain.deploy_cards import DeploymentCard, DeploymentEnded, ThreadNote, event_notes
from bot.domain.deployment_machine import Transition
from bot.domain.deployment_model import DecisionTokens, Deployment, DeploymentState, Event
from bot.domain.endings import ending
from bot.domain.usecases import UseCase
from bot.services import gate_notices, notifications
from bot.services.events import DeploymentChanged, DeploymentFinished, StepStopped, UndoNeeded
from bot.services.ports import ConcurrentUpdate, DeployLock, UnitOfWork

T = TypeVar("T")
TRIES = 5


@dataclass(frozen=True)
class Books:
    """What keeping a deployment's books needs besides the unit of work: the time, the time
    zone dates are said in, and the admins (who may pass a default gate; told of a failed
    rollback)."""

    clock: Clock
    timezone: str
    admins: frozenset[str] = frozenset()


async def retried(attempt: Callable[[], Awaitable[T]], *, tries: int = TRIES) -> T:
    """Run ``attempt`` (one transaction: read, decide, guarded save) again while another writer
    got in first: each try decides on what is stored now. The last ConcurrentUpdate propagates."""
    for _ in range(tries - 1):
        try:
            return await attempt()
        except ConcurrentUpdate:
            await asyncio.sleep(random.uniform(0, 0.02))  # spread out writers that collided
    return await attempt()


def ref(d: Deployment) -> str:
    return f"deployment:{d.id}"


async def buttons_for(uow: UnitOfWork, d: Deployment, clock: Clock) -> DecisionTokens:
    if not d.state.is_active:
        return DecisionTokens()
    now = clock.now()
    cancel = await uow.deployments.button_token(d, -1, "cancel", now)
    index = d.current
    if d.state is DeploymentState.AWAITING_APPROVAL and index is not None:
        return DecisionTokens(await uow.deployments.button_token(d, index, "approve", now),
                              await uow.deployments.button_token(d, index, "reject", now), cancel)
    return DecisionTokens(cancel=cancel)


def waiting_for(d: Deployment, uc: UseCase | None, admins: frozenset[str]) -> Approvers | None:
    """Who may pass the gate ``d`` waits at (its requester left out), if it waits at one; its
    groups by ID once they are known (a mention needs it)."""
    stage = d.current_stage
    if d.state is not DeploymentState.AWAITING_APPROVAL or stage is None or uc is None \
            or stage.spec.approval is None:
        return None
    found = of_gate(stage.spec.approval, uc.owner_id, admins, d.requested_by)
    ids = dict(stage.group_ids)
    return replace(found, groups=tuple(ids.get(g, g) for g in found.groups))


async def post_new(uow: UnitOfWork, d: Deployment, books: Books,
                   events: tuple[Event, ...] = (), uc: UseCase | None = None) -> None:
    """The one message a deployment has; later changes edit it in place. ``events``: those of
    the request (a gate that opened at once is said to the requester, as ``persist`` does)."""
    uc = uc or await uow.use_cases.get(d.use_case)
    approvers = waiting_for(d, uc, books.admins)
    uow.outbox.post(d.channel_id, await _card(uow, d, books, approvers), ref=ref(d))
    await notifications.tell_requester(uow, d, events, ref(d), approvers)
    assert d.id is not None
    uow.emit(DeploymentChanged(d.id))


async def _card(uow: UnitOfWork, d: Deployment, books: Books,
                approvers: Approvers | None) -> DeploymentCard:
    buttons = await buttons_for(uow, d, books.clock)
    return DeploymentCard(d, books.clock.now(), books.timezone, buttons, approvers)


async def persist(uow: UnitOfWork, t: Transition, books: Books, notes: tuple[ThreadNote, ...] = (), *,
                  announce_end: bool = True) -> Deployment:
    """Save ``t``, record its events, edit the message, and add thread notes, direct messages
    and the end's announcement (unless the caller has more to say first: ``announce_end``)."""
    d = await uow.deployments.save(t.deployment)
    await uow.deployments.record(d, t.events)
    assert d.id is not None
    uow.emit(DeploymentChanged(d.id))
    if t.kill:
        uow.emit(StepStopped(d.id))
    if d.needs_undo:
        uow.emit(UndoNeeded(d.id))
    waits = d.state is DeploymentState.AWAITING_APPROVAL or t.gate is not None
    uc = await uow.use_cases.get(d.use_case) if waits else None
    approvers = waiting_for(d, uc, books.admins)
    card = await _card(uow, d, books, approvers)
    await uow.outbox.supersede_updates(ref(d))
    uow.outbox.edit(ref(d), d.channel_id, card)
    if t.gate is not None:
        notes += await gate_notices.say(uow, d, t.gate, approvers, books.clock, books.timezone,
                                        message_ref=ref(d))
    for note in (*notes, *event_notes(t.events, books.timezone)):
        thread(uow, d, note)
    if announce_end and not d.state.is_active:
        await end(uow, d, books)
    await notifications.tell_requester(uow, d, t.events, ref(d), approvers)
    return d


async def end(uow: UnitOfWork, d: Deployment, books: Books,
              rollback: Deployment | None = None) -> None:
    """The end, announced once: what runs where, naming who must act; a failed rollback also
    locks the use case, with the lock naming it, until someone has looked."""
    uc = await uow.use_cases.get(d.use_case)
    facts = ending(d, owner=uc.owner_id if uc else d.requested_by, admins=books.admins,
                   rollback=rollback)
    if facts.locked:
        if await uow.deployments.lock(d.use_case) is not None:
            await uow.deployments.remove_lock(d.use_case)  # this lock says more: it replaces it
        await uow.deployments.set_lock(DeployLock(d.use_case, "", books.clock.now(), d.detail, d.id))
    uow.outbox.post(d.channel_id, DeploymentEnded(d, facts))
    assert d.id is not None
    took = (d.finished_at or books.clock.now()) - d.requested_at
    uow.emit(DeploymentFinished(d.id, d.pipeline, d.state.value, max(took.total_seconds(), 0.0)))


def thread(uow: UnitOfWork, d: Deployment, note: ThreadNote) -> None:
    """A note in the deployment's thread."""
    uow.outbox.reply(ref(d), d.channel_id, note)


def announce(uow: UnitOfWork, channel: str, note: ThreadNote) -> None:
    """A note in the channel, outside any thread."""
    uow.outbox.post(channel, note)
