"""What a running deployment posts, as facts (cards): its one message, edited in place; notes
in its thread; its end; the direct messages of a gate's approvers and of its requester; the
reminder of an old lock. bot/render/deploy_card_words.py words each one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.approvers import Approvers
from bot.domain.deployment_model import DecisionTokens, Deployment, DeploymentState, Event, StageState
from bot.domain.endings import Ending
from bot.domain.freezes import FreezeWindow
from bot.domain.locks import DeployLock

# ── the deployment's message and its end ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class DeploymentCard:
    """The one message a deployment has, with its buttons and who may pass the gate it waits at."""

    deployment: Deployment
    now: datetime
    tz: str
    buttons: DecisionTokens
    approvers: Approvers | None = None


@dataclass(frozen=True)
class DeploymentEnded:
    """The end, said once in the channel."""

    deployment: Deployment
    ending: Ending


# ── notes in its thread ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class EventNote:
    """An event the message does not show well enough (a gate opened, a freeze passed on
    purpose, a step timed out)."""

    event: Event
    tz: str  # the freeze windows an override passed are shown in it


def event_notes(events: Sequence[Event], tz: str) -> tuple[EventNote, ...]:
    """The events that deserve a thread note; an executor's failure has its own (output and all)."""
    return tuple(EventNote(e, tz) for e in events
                 if e.kind in ("gate_opened", "override") or (e.kind == "timed_out" and e.stage))


@dataclass(frozen=True)
class GateReminder:
    stage: str
    waited: timedelta
    approvers: Approvers | None  # who may pass it (None: not said)


@dataclass(frozen=True)
class StepOutput:
    """What an executor said of a step: its detail, the tail of its output, a link to its run."""

    stage: str
    health: bool            # the health check (else the run)
    wave: int | None        # from 0
    lines: tuple[str, ...]
    detail: str
    url: str | None = None


@dataclass(frozen=True)
class StepLost:
    stage: str


@dataclass(frozen=True)
class FrozenStage:
    """A stage that has not started meets a freeze: it waits for the window to end, unless the
    deployment is a rollback (``passes``), which restores a known-good version."""

    stage: str
    chain: tuple[FreezeWindow, ...]
    tz: str
    passes: bool = False


@dataclass(frozen=True)
class RollingBack:
    targets: int
    version: str
    rollback_id: int


@dataclass(frozen=True)
class TakenOver:
    """Another worker follows the run (``run``) the stopped worker started."""

    stage: str
    run: str


@dataclass(frozen=True)
class LockReminder:
    lock: DeployLock
    tz: str
    now: datetime


ThreadNote = (EventNote | GateReminder | StepOutput | StepLost | FrozenStage | RollingBack
              | TakenOver | LockReminder)

# ── direct messages ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ApprovalRequest:
    """Asks one person to decide a gate, with its buttons; a reminder after ``remind``."""

    deployment: Deployment
    index: int
    tokens: DecisionTokens
    now: datetime
    tz: str
    reminder: bool = False


@dataclass(frozen=True)
class ApprovalDecided:
    """What became of a gate someone was asked to decide: their request, without its buttons."""

    deployment: Deployment
    index: int
    tz: str


@dataclass(frozen=True)
class RequesterNews:
    """What the requester hears of their own deployment: it waits at a gate, or it ended."""

    deployment: Deployment
    stage: str | None = None          # where it waits or stopped
    by: str | None = None             # who rejected or cancelled it
    approvers: Approvers | None = None  # who may pass the gate it waits at


def requester_news(d: Deployment, events: Sequence[Event],
                   approvers: Approvers | None = None) -> RequesterNews | None:
    """The news of this transition, or None when it is nothing the requester is told about: a
    step that goes on, or a cancellation they made themselves. A failure's reason is the
    message's: the DM links to it."""
    kinds = {e.kind: e for e in events}
    if d.state is DeploymentState.AWAITING_APPROVAL and "gate_opened" in kinds:
        return RequesterNews(d, kinds["gate_opened"].stage or None, approvers=approvers)
    if d.state.is_active:
        return None
    if d.state is DeploymentState.CANCELLED:
        cancelled = kinds.get("cancelled")
        if cancelled is None or cancelled.actor in (None, d.requested_by):
            return None
        return RequesterNews(d, by=cancelled.actor)
    if d.state in (DeploymentState.REJECTED, DeploymentState.EXPIRED):
        ended = kinds.get(d.state.value)
        by = ended.actor if ended and d.state is DeploymentState.REJECTED else None
        return RequesterNews(d, ended.stage or None if ended else None, by=by or None)
    if d.state is DeploymentState.FAILED:
        stopped = next((s for s in d.stages if s.state in
                        (StageState.FAILED, StageState.TIMED_OUT)), None)
        return RequesterNews(d, stopped.name if stopped else None)
    return RequesterNews(d) if d.state is DeploymentState.SUCCEEDED else None
