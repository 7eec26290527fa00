"""What the `/deploy` commands that change something did, as facts; bot/render/deploy_replies.py
says them to whoever asked (the channel hears it through the deployment's own message)."""

from __future__ import annotations

from dataclasses import dataclass


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
