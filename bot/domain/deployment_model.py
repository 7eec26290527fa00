"""The state of one deployment: its stages, their waves and votes. Pure data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.changes import Change
from bot.domain.deployment_stop import Stop, from_text
from bot.domain.pipeline import StageSpec
from bot.domain.production import Placement


class DeploymentState(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_active(self) -> bool:
        return self in (DeploymentState.RUNNING, DeploymentState.AWAITING_APPROVAL)


class StageState(StrEnum):
    WAITING = "waiting"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"     # its gate was rejected
    EXPIRED = "expired"       # its gate expired unanswered

    @property
    def is_done(self) -> bool:
        return self not in (StageState.WAITING, StageState.AWAITING_APPROVAL, StageState.RUNNING)


class StepKind(StrEnum):
    RUN = "run"
    HEALTH = "health"


@dataclass(frozen=True)
class Step:
    """The executor work of a running stage: one wave's run or its health check."""

    kind: StepKind
    wave: int | None          # index into StageRun.waves; None for a stage without waves
    due_at: datetime          # not before (a health check waits for the bake time)
    deadline: datetime        # the stage's timeout for this step
    launched: bool = False    # claimed by a worker and started: never started twice
    accepted: bool = False    # a webhook answered 202: waiting for its callback
    follow: str = ""          # what it started elsewhere (a GitHub run): another worker may follow it


@dataclass(frozen=True)
class Vote:
    user_id: str
    approve: bool
    at: datetime
    comment: str = ""


@dataclass(frozen=True)
class WaveRun:
    targets: tuple[str, ...]
    state: StageState = StageState.WAITING
    health: StageState | None = None


@dataclass(frozen=True)
class StageRun:
    spec: StageSpec
    state: StageState = StageState.WAITING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str = ""          # why it stopped short of success: ``stop``, kept as text
    url: str | None = None
    waves: tuple[WaveRun, ...] = ()
    gate_opened_at: datetime | None = None
    votes: tuple[Vote, ...] = ()
    step: Step | None = None
    # What the executor needs to take this stage's change back: saved before the change is made
    # (an intent), kept when the stage passes, cleared once taken back (bot.domain.undo).
    undo: dict[str, str] | None = None
    undo_until: datetime | None = None   # a worker is taking it back until then
    told: tuple[str, ...] | None = None  # who got a direct message about its gate; None: not yet
    reminded: int = 0                    # how many reminders its gate has had
    reminded_at: datetime | None = None  # the last one
    group_ids: tuple[tuple[str, str], ...] = ()  # its gate's groups named by @handle -> their S…

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def approvals(self) -> tuple[Vote, ...]:
        return tuple(v for v in self.votes if v.approve)

    @property
    def approvals_missing(self) -> int:
        required = self.spec.approval.required if self.spec.approval else 0
        return max(0, required - len(self.approvals))

    @property
    def gate_expires_at(self) -> datetime | None:
        if self.gate_opened_at is None or self.spec.approval is None:
            return None
        return self.gate_opened_at + self.spec.approval.expires

    @property
    def gate_news_at(self) -> datetime | None:
        """When the approvers are told next: at once when the gate opens, then a ``remind``
        interval after the last word (one nudge after a night the bot was down, not a burst;
        never at or after the expiry, which is news of its own)."""
        policy = self.spec.approval
        if self.gate_opened_at is None or policy is None:
            return None
        if self.told is None:
            return self.gate_opened_at
        if policy.remind is None:
            return None
        due = (self.reminded_at or self.gate_opened_at) + policy.remind
        expires = self.gate_expires_at
        return None if expires is not None and due >= expires else due

    def targets_done(self) -> int:
        return sum(len(w.targets) for w in self.waves if w.state is StageState.PASSED)

    def targets_total(self) -> int:
        return sum(len(w.targets) for w in self.waves)


# The events whose detail is the people asked, as their user IDs.
PEOPLE_ASKED = frozenset({"approvers_told", "reminded"})


@dataclass(frozen=True)
class Event:
    """One line of the audit trail (and, where it helps, of the deployment's thread)."""

    kind: str                 # requested, approved, rejected, cancelled, expired, timed_out, ...
    at: datetime
    actor: str | None = None  # a user ID; None for the system
    stage: str | None = None
    wave: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Deployment:
    use_case: str
    version: str
    pipeline: str
    requested_by: str
    requested_at: datetime
    channel_id: str
    stages: tuple[StageRun, ...]
    state: DeploymentState = DeploymentState.RUNNING
    id: int | None = None
    kind: str = "deploy"      # "deploy" or "rollback"
    rollback_of: int | None = None
    dry_run: bool = False
    finished_at: datetime | None = None
    detail: str = ""          # why it stopped short of success: ``stop``, kept as text
    revision: int = 0         # optimistic-concurrency counter kept by storage
    override: str = ""        # an admin's reason to pass freeze windows; "": freezes apply
    production: Placement = ()  # what runs where, as far as this deployment knows (dry run: ())
    change: Change | None = None  # what its version is, when known (bot.domain.changes)
    api_token: str = ""       # the API token it was started through for ``requested_by``; "": Slack

    @property
    def needs_undo(self) -> bool:
        """Ended without success while a stage's change (an MLflow alias) still stands."""
        return not self.state.is_active and self.state is not DeploymentState.SUCCEEDED \
            and any(s.undo is not None for s in self.stages)

    @property
    def stop(self) -> Stop | None:
        """Why it stopped short of success (None: it did not, or an older version kept words)."""
        return from_text(self.detail) if self.detail else None

    @property
    def current(self) -> int | None:
        """Index of the stage that is not done yet, if any."""
        return next((i for i, s in enumerate(self.stages) if not s.state.is_done), None)

    @property
    def current_stage(self) -> StageRun | None:
        index = self.current
        return None if index is None else self.stages[index]

    def with_stage(self, index: int, stage: StageRun) -> Deployment:
        stages = list(self.stages)
        stages[index] = stage
        return replace(self, stages=tuple(stages))

    @property
    def undo_due(self) -> datetime | None:
        """When its standing changes are (again) to be taken back: at its end, or when the
        worker that claimed them has had its time (it died). None: nothing to take back."""
        if not self.needs_undo:
            return None
        held = [s.undo_until for s in self.stages if s.undo is not None and s.undo_until]
        return max(held, default=self.finished_at or self.requested_at)

    def next_deadline(self) -> datetime | None:
        """When something time-based happens next: a timeout, a gate's expiry or a bake's end
        (ended: the taking back of what it changed)."""
        stage = self.current_stage
        if not self.state.is_active:
            return self.undo_due
        if stage is None:
            return None
        if stage.state is StageState.AWAITING_APPROVAL:
            times = [t for t in (stage.gate_expires_at, stage.gate_news_at) if t is not None]
            return min(times) if times else None
        if stage.step is None:
            return None
        return stage.step.deadline if stage.step.launched else stage.step.due_at


@dataclass(frozen=True)
class DecisionTokens:
    """The one-time tokens of the decisions a deployment offers now (None: not offered).

    Services mint them, renderers show one button for each: a fact both sides share.
    """

    approve: str | None = None
    reject: str | None = None
    cancel: str | None = None
