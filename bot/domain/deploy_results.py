"""What the `/deploy` commands did or read, as facts; bot/render/deploy_replies.py
says them to whoever asked (the channel hears it through the deployment's own message)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.deployment_model import Deployment, Event
from bot.domain.freezes import FreezeWindow
from bot.domain.locks import DeployLock
from bot.domain.pipeline import Pipeline
from bot.domain.production import Production
from bot.domain.usecases import UseCase


@dataclass(frozen=True)
class DeploymentStarted:
    deployment_id: int
    slug: str
    version: str
    channel: str          # where its message and thread are
    dry_run: bool = False


@dataclass(frozen=True)
class RollbackStarted:
    deployment_id: int
    slug: str
    version: str          # the version it goes back to
    channel: str


@dataclass(frozen=True)
class DeploymentCancelled:
    deployment_id: int
    slug: str
    version: str


@dataclass(frozen=True)
class DeploysLocked:
    slug: str


@dataclass(frozen=True)
class DeploysUnlocked:
    slug: str


@dataclass(frozen=True)
class GateApproved:
    """A vote for a gate (the Approve button); the gate passes once enough have voted."""

    deployment_id: int
    stage: str
    slug: str
    version: str


@dataclass(frozen=True)
class GateRejected:
    deployment_id: int
    slug: str
    version: str


@dataclass(frozen=True)
class GateToReject:
    """The gate a Reject button is about, for its reason dialog: the clicker may reject it."""

    deployment_id: int
    stage: str
    slug: str
    version: str


@dataclass(frozen=True)
class NotifyPreference:
    """`/deploy notify [on|off]`: whether one's own deployments are told by direct message."""

    enabled: bool
    changed: bool  # set just now (else only asked)


DeployResult = (DeploymentStarted | RollbackStarted | DeploymentCancelled | DeploysLocked
                | DeploysUnlocked | GateApproved | GateRejected | NotifyPreference)


# ── what `/deploy status` and `/deploy history` read (``tz``: the one times are shown in) ─────

@dataclass(frozen=True)
class DeploymentShown:
    """`/deploy status <id>`: the deployment and its audit trail."""

    deployment: Deployment
    events: tuple[Event, ...]
    now: datetime
    tz: str


@dataclass(frozen=True)
class UseCaseStatus:
    """`/deploy status <slug>`: its active or latest deployment (None: never deployed) with its
    audit trail, what runs in production, its lock and the freeze windows holding it now (one
    after the other: the last one's end is when deployments may start again)."""

    slug: str
    latest: Deployment | None
    events: tuple[Event, ...]
    production: Production | None
    lock: DeployLock | None
    frozen: tuple[FreezeWindow, ...]
    now: datetime
    tz: str


@dataclass(frozen=True)
class RunningNow:
    """`/deploy status`: the deployments under way and the freeze windows open now."""

    active: tuple[Deployment, ...]
    frozen: tuple[FreezeWindow, ...]
    tz: str


@dataclass(frozen=True)
class DeployHistory:
    """`/deploy history <slug>`: its latest deployments, newest first."""

    slug: str
    deployments: tuple[Deployment, ...]
    tz: str


DeployStatus = DeploymentShown | UseCaseStatus | RunningNow
# Whatever a `/deploy` command the service runs answers (bot/render/deploy_replies.py words it).
DeployAnswer = DeployResult | DeployStatus | DeployHistory


@dataclass(frozen=True)
class DeployForm:
    """The deploy dialog of a use case (bot/render/dialog_views.py): the versions to pick from, the
    pipelines (``default``: its own), the freeze windows holding it now (only admins get this
    far), and who asks (a gate they would pass themselves is not theirs to pass)."""

    use_case: UseCase
    versions: tuple[str, ...]
    pipelines: tuple[Pipeline, ...]
    default: str
    channel: str          # where the command was typed: the answer goes there
    frozen: tuple[FreezeWindow, ...]
    admins: frozenset[str]
    requester: str
    tz: str
