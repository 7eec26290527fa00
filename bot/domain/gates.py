"""Approval gates: votes, a rejection with its reason, expiry. Transitions of the deployment
state machine (``bot.domain.deployments``), like the others: ``(deployment, ..., now)`` in, a
:class:`Transition` out, refusals raised as ``DomainError``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.domain.deployment_model import Deployment, DeploymentState, Event, StageRun, StageState, Vote
from bot.domain.deployments import StaleResult, Transition, active_stage, end, start_stage
from bot.domain.mrkdwn import escape
from bot.domain.usecases import Conflict, DomainError, NotAllowed


def approve(d: Deployment, index: int, user_id: str, now: datetime, *, eligible: bool,
            approvers_text: str, comment: str = "") -> Transition:
    stage = active_stage(d, index, StageState.AWAITING_APPROVAL)
    _ensure_gate_open(d, stage, now)
    policy = stage.spec.approval
    assert policy is not None
    _check_voter(d, stage, user_id, eligible=eligible, approvers_text=approvers_text)
    voted = replace(stage, votes=(*stage.votes, Vote(user_id, True, now, comment)))
    d = d.with_stage(index, voted)
    events: tuple[Event, ...] = (Event("approved", now, user_id, stage.name, detail=comment),)
    if len(voted.approvals) < policy.required:
        return Transition(d, events)
    passed = start_stage(d, index, now)
    return Transition(passed, (*events, Event("gate_passed", now, stage=stage.name)))


def _ensure_gate_open(d: Deployment, stage: StageRun, now: datetime) -> None:
    """A click that arrives after the gate expired (e.g. before the expiry sweep ran) is too late."""
    if stage.gate_expires_at is not None and now >= stage.gate_expires_at:
        raise StaleResult(f"The approval for {stage.name} of deployment {d.id} has expired.")


def _check_voter(d: Deployment, stage: StageRun, user_id: str, *, eligible: bool,
                 approvers_text: str) -> None:
    policy = stage.spec.approval
    assert policy is not None
    if any(v.user_id == user_id for v in stage.votes):
        raise Conflict(f"You already approved {stage.name} of deployment {d.id}; "
                          "one vote per person.")
    if user_id == d.requested_by and not policy.allow_self:
        raise NotAllowed(f"You requested deployment {d.id}, so you cannot approve it; "
                         f"ask {approvers_text}.")
    if not eligible:
        raise NotAllowed(f"Only {approvers_text} may approve {stage.name} of deployment {d.id}.")


def reject(d: Deployment, index: int, user_id: str, reason: str, now: datetime, *,
           eligible: bool, approvers_text: str) -> Transition:
    stage = active_stage(d, index, StageState.AWAITING_APPROVAL)
    _ensure_gate_open(d, stage, now)
    if not eligible:
        raise NotAllowed(f"Only {approvers_text} may reject {stage.name} of deployment {d.id}.")
    if not reason.strip():
        raise DomainError("A rejection needs a reason.")
    voted = replace(stage, votes=(*stage.votes, Vote(user_id, False, now, reason.strip())))
    ended = end(d.with_stage(index, voted), DeploymentState.REJECTED, StageState.CANCELLED,
                 now, f"rejected by <@{user_id}>: {escape(reason.strip())}")
    return Transition(ended, (Event("rejected", now, user_id, stage.name, detail=reason.strip()),))


def expire(d: Deployment, now: datetime) -> Transition:
    index = d.current
    stage = d.current_stage
    if stage is None or stage.state is not StageState.AWAITING_APPROVAL:
        raise StaleResult("no gate is waiting")
    expires_at = stage.gate_expires_at
    if expires_at is None or expires_at > now:
        raise StaleResult("the gate has not expired")
    assert index is not None
    ended = end(d, DeploymentState.EXPIRED, StageState.CANCELLED, now,
                 f"the approval for {stage.name} expired")
    return Transition(ended, (Event("expired", now, stage=stage.name),))
