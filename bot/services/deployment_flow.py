"""Saving a deployment transition and everything it owes the channel, in one transaction.

Every state change goes through :func:`persist`: the new state (guarded by its revision), the
audit events, the edit of the deployment message, thread notes and the closing announcement
all commit together or not at all. Side effects (running executors, stopping a step, refreshing
Home tabs) follow the commit, through the events emitted here (``bot.services.events``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clock import Clock
from bot.domain.deployment_model import DecisionTokens, Deployment, DeploymentState, Event
from bot.domain.deployments import Transition
from bot.render import deploy_blocks
from bot.services import notifications
from bot.services.events import DeploymentChanged, StepStopped, UndoNeeded
from bot.services.ports import ConcurrentUpdate, OutgoingMessage, UnitOfWork

T = TypeVar("T")
TRIES = 5


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
    cancel = await uow.deployments.new_token(d, -1, "cancel", now)
    index = d.current
    if d.state is DeploymentState.AWAITING_APPROVAL and index is not None:
        return DecisionTokens(await uow.deployments.new_token(d, index, "approve", now),
                              await uow.deployments.new_token(d, index, "reject", now), cancel)
    return DecisionTokens(cancel=cancel)


async def post_new(uow: UnitOfWork, d: Deployment, clock: Clock, tz: str,
                   events: tuple[Event, ...] = ()) -> None:
    """The one message a deployment has; later changes edit it in place. ``events``: those of
    the request (a gate that opened at once is said to the requester, as ``persist`` does)."""
    buttons = await buttons_for(uow, d, clock)
    msg = deploy_blocks.deployment_message(d, now=clock.now(), tz=tz, buttons=buttons)
    uow.outbox.add(OutgoingMessage("chat.postMessage", d.channel_id,
                                   {"channel": d.channel_id, **msg.as_args()}, ref=ref(d)))
    await notifications.tell_requester(uow, d, events, ref(d))
    assert d.id is not None
    uow.emit(DeploymentChanged(d.id))


async def persist(uow: UnitOfWork, t: Transition, clock: Clock, tz: str,
                  notes: tuple[str, ...] = ()) -> Deployment:
    """Save ``t``, record its events, edit the message, and add thread notes and announcements."""
    d = await uow.deployments.save(t.deployment)
    await uow.deployments.record(d, t.events)
    assert d.id is not None
    uow.emit(DeploymentChanged(d.id))
    if t.kill:
        uow.emit(StepStopped(d.id))
    if d.needs_undo:
        uow.emit(UndoNeeded(d.id))
    buttons = await buttons_for(uow, d, clock)
    msg = deploy_blocks.deployment_message(d, now=clock.now(), tz=tz, buttons=buttons)
    await uow.outbox.supersede_updates(ref(d))
    uow.outbox.add(OutgoingMessage("chat.update", d.channel_id,
                                   {"channel": d.channel_id, **msg.as_args()}, update_of=ref(d)))
    for note in (*notes, *deploy_blocks.event_notes(t.events)):
        thread(uow, d, note)
    if not d.state.is_active:
        done = deploy_blocks.finished_announcement(d)
        uow.outbox.add(OutgoingMessage("chat.postMessage", d.channel_id,
                                       {"channel": d.channel_id, **done.as_args()}))
    await notifications.tell_requester(uow, d, t.events, ref(d))
    return d


def thread(uow: UnitOfWork, d: Deployment, text: str) -> None:
    msg = deploy_blocks.thread_note(text)
    uow.outbox.add(OutgoingMessage("chat.postMessage", d.channel_id,
                                   {"channel": d.channel_id, **msg.as_args()}, thread_of=ref(d)))


def announce(uow: UnitOfWork, channel: str, text: str) -> None:
    msg = deploy_blocks.thread_note(text)
    uow.outbox.add(OutgoingMessage("chat.postMessage", channel, {"channel": channel, **msg.as_args()}))
