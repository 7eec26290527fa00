"""Approval gates: votes, a rejection with its reason, expiry. Transitions of the deployment
state machine (``bot.domain.deployment_machine``), like the others: ``(deployment, ..., now)`` in, a
:class:`Transition` out, refusals raised as ``DomainError``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.domain.approvers import Approvers, of_gate
from bot.domain.deployment_machine import (
    GateNews,
    GateNotice,
    StaleResult,
    Transition,
    active_stage,
    end,
    start_stage,
)
from bot.domain.deployment_model import Deployment, DeploymentState, Event, StageRun, StageState, Vote
from bot.domain.deployment_stop import Stop, StopKind
from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.pipeline import ApprovalSpec


def may_decide(policy: ApprovalSpec, owner_id: str, admins: frozenset[str], user_id: str, *,
               is_admin: bool, in_groups: frozenset[str]) -> bool:
    """Whether ``user_id`` (a member of ``in_groups``) may pass or refuse a gate of ``policy``:
    one of its approvers, or any admin where the pipeline names nobody. Whether the requester
    may vote on their own deployment is checked with the vote."""
    everyone = of_gate(policy, owner_id, admins)
    return everyone.includes(user_id, in_groups) or (everyone.by_default and is_admin)


def approve(d: Deployment, index: int, user_id: str, now: datetime, *, eligible: bool,
            approvers: Approvers | None, comment: str = "") -> Transition:
    """``approvers``: who may decide besides the requester (None: the stage has no gate)."""
    stage = active_stage(d, index, StageState.AWAITING_APPROVAL)
    _ensure_gate_open(d, stage, now)
    policy = stage.spec.approval
    assert policy is not None
    _check_voter(d, stage, user_id, eligible=eligible, approvers=approvers)
    voted = replace(stage, votes=(*stage.votes, Vote(user_id, True, now, comment)))
    d = d.with_stage(index, voted)
    events: tuple[Event, ...] = (Event("approved", now, user_id, stage.name, detail=comment),)
    changed = GateNotice(index, GateNews.CHANGED)
    if len(voted.approvals) < policy.required:
        return Transition(d, events, gate=changed)
    passed = start_stage(d, index, now)
    return Transition(passed, (*events, Event("gate_passed", now, stage=stage.name)), gate=changed)


def _ensure_gate_open(d: Deployment, stage: StageRun, now: datetime) -> None:
    """A click that arrives after the gate expired (e.g. before the expiry sweep ran) is too late."""
    if stage.gate_expires_at is not None and now >= stage.gate_expires_at:
        raise StaleResult("gate_expired", stage=stage.name, deployment=d.id)


def _check_voter(d: Deployment, stage: StageRun, user_id: str, *, eligible: bool,
                 approvers: Approvers | None) -> None:
    policy = stage.spec.approval
    assert policy is not None
    if any(v.user_id == user_id for v in stage.votes):
        raise Conflict("already_voted", stage=stage.name, deployment=d.id)
    if user_id == d.requested_by and not policy.allow_self:
        raise NotAllowed("own_deployment", deployment=d.id, approvers=approvers)
    if not eligible:
        raise NotAllowed("may_not_approve", stage=stage.name, deployment=d.id, approvers=approvers)


def reject(d: Deployment, index: int, user_id: str, reason: str, now: datetime, *,
           eligible: bool, approvers: Approvers | None) -> Transition:
    stage = active_stage(d, index, StageState.AWAITING_APPROVAL)
    _ensure_gate_open(d, stage, now)
    if not eligible:
        raise NotAllowed("may_not_reject", stage=stage.name, deployment=d.id, approvers=approvers)
    if not reason.strip():
        raise DomainError("reason_required")
    voted = replace(stage, votes=(*stage.votes, Vote(user_id, False, now, reason.strip())))
    ended = end(d.with_stage(index, voted), DeploymentState.REJECTED, StageState.REJECTED,
                 now, Stop(StopKind.REJECTED, stage.name, user_id, reason.strip()))
    return Transition(ended, (Event("rejected", now, user_id, stage.name, detail=reason.strip()),),
                      gate=GateNotice(index, GateNews.CHANGED))


def expire(d: Deployment, now: datetime) -> Transition:
    index = d.current
    stage = d.current_stage
    if stage is None or stage.state is not StageState.AWAITING_APPROVAL:
        raise StaleResult("no_gate_waiting")
    expires_at = stage.gate_expires_at
    if expires_at is None or expires_at > now:
        raise StaleResult("gate_not_expired")
    assert index is not None
    ended = end(d, DeploymentState.EXPIRED, StageState.EXPIRED, now,
                Stop(StopKind.EXPIRED, stage.name))
    return Transition(ended, (Event("expired", now, stage=stage.name),),
                      gate=GateNotice(index, GateNews.CHANGED))


def _waiting_gate(d: Deployment, now: datetime) -> tuple[int, StageRun]:
    index, stage = d.current, d.current_stage
    if stage is None or index is None or stage.state is not StageState.AWAITING_APPROVAL:
        raise StaleResult("no_gate_waiting")
    if stage.gate_expires_at is not None and now >= stage.gate_expires_at:
        raise StaleResult("gate_expired_already")
    return index, stage


def tell(d: Deployment, people: tuple[str, ...], now: datetime,
         group_ids: tuple[tuple[str, str], ...] = ()) -> Transition:
    """The gate that opened is said to ``people`` (who may decide it and want to hear): each
    gets a direct message, once; saved first, so two processes never tell twice. ``group_ids``:
    the gate's groups named by handle, with the IDs their mentions need."""
    index, stage = _waiting_gate(d, now)
    if stage.told is not None:
        raise StaleResult("approvers_told_already")
    told = d.with_stage(index, replace(stage, told=people, group_ids=group_ids))
    event = Event("approvers_told", now, stage=stage.name, detail=" ".join(people))
    return Transition(told, (event,), gate=GateNotice(index, GateNews.OPENED))


def remind(d: Deployment, now: datetime) -> Transition:
    """The gate still waits after another ``remind`` interval: nudge once for this interval."""
    index, stage = _waiting_gate(d, now)
    due = stage.gate_news_at
    if stage.told is None or due is None or due > now:
        raise StaleResult("no_reminder_due")
    nudged = d.with_stage(index, replace(stage, reminded=stage.reminded + 1, reminded_at=now))
    event = Event("reminded", now, stage=stage.name, detail=" ".join(stage.told))
    return Transition(nudged, (event,), gate=GateNotice(index, GateNews.REMINDER))


def news_due(d: Deployment, now: datetime) -> GateNews | None:
    """What the current gate's approvers are due to hear now, if anything (an expiry first)."""
    stage = d.current_stage
    if stage is None or stage.state is not StageState.AWAITING_APPROVAL:
        return None
    if stage.gate_expires_at is not None and now >= stage.gate_expires_at:
        return None
    due = stage.gate_news_at
    if due is None or due > now:
        return None
    return GateNews.OPENED if stage.told is None else GateNews.REMINDER
