"""What the people who may pass a gate hear: a direct message with its buttons when it opens, a
reminder (in the thread and by direct message) each ``remind`` interval it waits, and, when
it is decided, expires or its deployment is cancelled, every one of those messages updated to
say so, without buttons.

Who is told is decided by the engine (``DeploymentRuns.sweep``: group members come from Slack,
outside any transaction) and saved on the stage with these messages, so each is sent once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.approvers import Approvers, of_gate
from bot.domain.deploy_cards import ApprovalDecided, ApprovalRequest, GateReminder
from bot.domain.deployment_machine import GateNews, GateNotice
from bot.domain.deployment_model import DecisionTokens, Deployment, StageState
from bot.log_events import get_logger
from bot.services.ports import GroupDirectory, UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class Audience:
    people: tuple[str, ...]                 # to be asked by direct message
    group_ids: tuple[tuple[str, str], ...]  # the gate's groups named by @handle -> their IDs


async def audience(uow: Callable[[], UnitOfWork], groups: GroupDirectory | None,
                   admins: frozenset[str], d: Deployment) -> Audience:
    """Everyone but the requester who may pass the gate ``d`` waits at and wants direct
    messages, and the IDs its groups' mentions need: asked of Slack here, outside any
    transaction."""
    async with uow() as reading:
        uc = await reading.use_cases.get(d.use_case)
    stage = d.current_stage
    if uc is None or stage is None or stage.spec.approval is None:
        return Audience((), ())
    approvers = of_gate(stage.spec.approval, uc.owner_id, admins, d.requested_by)
    members: dict[str, frozenset[str]] = {}
    ids: list[tuple[str, str]] = []
    for group in approvers.groups:
        try:
            members[group] = await groups.members(group) if groups else frozenset()
            found = await groups.group_id(group) if groups and group.startswith("@") else None
        except Exception:  # noqa: BLE001 - the message names the group: it still hears of it
            log.warning("gate.group_unknown", deployment_id=d.id, group=group)
            continue
        if found:
            ids.append((group, found))
    people = approvers.people(members)
    async with uow() as reading:
        wanted = tuple([p for p in people if await reading.notify_prefs.enabled(p)])
    return Audience(wanted, tuple(ids))


def dm_ref(d: Deployment, index: int, user: str, n: int) -> str:
    """The ``n``-th direct message (0: the request, then each reminder) to ``user`` about a gate."""
    return f"gate:{d.id}:{index}:{user}:{n}"


async def say(uow: UnitOfWork, d: Deployment, notice: GateNotice, approvers: Approvers | None,
              clock: Clock, tz: str, *, message_ref: str) -> tuple[GateReminder, ...]:
    """Queue the direct messages ``notice`` calls for; returns the thread's note, if any.
    ``message_ref``: the deployment's message, which each direct message links to."""
    stage = d.stages[notice.index]
    told = stage.told or ()
    now = clock.now()
    notes: tuple[GateReminder, ...] = ()
    if notice.news is GateNews.REMINDER:
        notes = (GateReminder(stage.name, now - (stage.gate_opened_at or now), approvers),)
    if not told:
        return notes
    waiting = stage.state is StageState.AWAITING_APPROVAL
    tokens = await _tokens(uow, d, notice.index, clock) if waiting else DecisionTokens()
    if notice.news is GateNews.CHANGED:  # each request and reminder says where the gate is now
        said = [_current(d, notice.index, tokens, clock, tz, reminder=n > 0) for n in (0, 1)]
        for user in told:
            for n in range(stage.reminded + 1):
                ref = dm_ref(d, notice.index, user, n)
                await uow.outbox.supersede_updates(ref)
                uow.outbox.edit(ref, user, said[min(n, 1)], link_of=message_ref)
        return notes
    reminder = notice.news is GateNews.REMINDER
    request = ApprovalRequest(d, notice.index, tokens, now, tz, reminder)
    for user in told:
        uow.outbox.post(user, request, link_of=message_ref,
                        ref=dm_ref(d, notice.index, user, stage.reminded if reminder else 0))
    return notes


def _current(d: Deployment, index: int, tokens: DecisionTokens, clock: Clock, tz: str, *,
             reminder: bool) -> ApprovalRequest | ApprovalDecided:
    if d.stages[index].state is StageState.AWAITING_APPROVAL:
        return ApprovalRequest(d, index, tokens, clock.now(), tz, reminder)
    return ApprovalDecided(d, index, tz)


async def _tokens(uow: UnitOfWork, d: Deployment, index: int, clock: Clock) -> DecisionTokens:
    now = clock.now()
    return DecisionTokens(await uow.deployments.button_token(d, index, "approve", now),
                          await uow.deployments.button_token(d, index, "reject", now))
