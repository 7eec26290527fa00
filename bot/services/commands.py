"""What people ask for, as data. Parsed by ``handlers/``, carried out by the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.changes import Change
from bot.domain.usecases import Phase, Role


@dataclass(frozen=True)
class UserRef:
    """A user named in a command: an ID when Slack escaped the mention, else a plain name."""

    id: str | None
    name: str = ""


@dataclass(frozen=True)
class ChannelRef:
    id: str | None
    name: str = ""


@dataclass(frozen=True)
class Actor:
    user_id: str
    channel_id: str
    is_admin: bool = False


@dataclass(frozen=True)
class NewUseCase:
    slug: str
    title: str
    domain: str = ""
    owner: UserRef | None = None
    channel: ChannelRef | None = None
    problem: str = ""
    kpi: str = ""
    kpi_target: tuple[str, float] | None = None  # (op, value), validated: set with the use case


@dataclass(frozen=True)
class NewUseCaseDialog:
    """`/usecase new` without arguments: open the "New use case" dialog."""


@dataclass(frozen=True)
class ListUseCases:
    phase: Phase | None = None
    owner: UserRef | None = None
    mine: bool = False


@dataclass(frozen=True)
class ShowUseCase:
    slug: str


@dataclass(frozen=True)
class AdvanceUseCase:
    slug: str
    note: str = ""


@dataclass(frozen=True)
class MoveBack:
    slug: str
    reason: str


@dataclass(frozen=True)
class HandOver:
    slug: str
    new_owner: UserRef


@dataclass(frozen=True)
class AddTeamMember:
    slug: str
    user: UserRef
    role: Role


@dataclass(frozen=True)
class RemoveTeamMember:
    slug: str
    user: UserRef


@dataclass(frozen=True)
class ArchiveUseCase:
    slug: str
    reason: str


@dataclass(frozen=True)
class LinkModel:
    slug: str
    model: str


UseCaseCommand = (
    NewUseCase | NewUseCaseDialog | ListUseCases | ShowUseCase | AdvanceUseCase | MoveBack | HandOver
    | AddTeamMember | RemoveTeamMember | ArchiveUseCase | LinkModel
)


@dataclass(frozen=True)
class StartDeployment:
    slug: str
    version: str
    pipeline: str | None = None
    override: str = ""  # an admin's reason to start despite a freeze window
    change: Change | None = None  # what the version is, when the requester says (the API)
    api_token: str = ""  # the deployments API's token it came through ("": from Slack)


@dataclass(frozen=True)
class FreezeDeployments:
    scope: str          # a use case's slug, or "*": all of them
    duration: timedelta
    reason: str

    @property
    def scope_word(self) -> str:
        return "all" if self.scope == "*" else self.scope


@dataclass(frozen=True)
class UnfreezeDeployments:
    scope: str


@dataclass(frozen=True)
class ListFreezes:
    slug: str | None = None


@dataclass(frozen=True)
class DeploymentStatus:
    slug: str | None = None
    deployment_id: int | None = None


@dataclass(frozen=True)
class DeploymentHistory:
    slug: str


@dataclass(frozen=True)
class ShowChanges:
    """``/deploy changes <slug> [<version>]``: what is not yet in production (None: up to the
    newest known)."""

    slug: str
    version: str | None = None


@dataclass(frozen=True)
class CancelDeployment:
    deployment_id: int
    reason: str = ""


@dataclass(frozen=True)
class RollbackDeployment:
    slug: str


@dataclass(frozen=True)
class LockDeployments:
    slug: str
    reason: str = ""


@dataclass(frozen=True)
class UnlockDeployments:
    slug: str


@dataclass(frozen=True)
class PickVersion:
    """``/deploy <slug>`` without a version: what there is to deploy."""

    slug: str


@dataclass(frozen=True)
class NotifySetting:
    """``/deploy notify [on|off]``: DMs about one's own deployments; None: say the setting."""

    enabled: bool | None = None


DeployCommand = (
    StartDeployment | DeploymentStatus | DeploymentHistory | CancelDeployment | RollbackDeployment
    | LockDeployments | UnlockDeployments | PickVersion | NotifySetting | FreezeDeployments
    | UnfreezeDeployments | ListFreezes | ShowChanges
)


@dataclass(frozen=True)
class RecordMetric:
    slug: str
    name: str
    value: str  # validated by the domain: finite numbers only
    unit: str = ""


@dataclass(frozen=True)
class ShowMetrics:
    slug: str
    name: str | None = None
    days: int = 30


@dataclass(frozen=True)
class ShowSources:
    slug: str | None = None


@dataclass(frozen=True)
class PullKpi:
    slug: str
    name: str


@dataclass(frozen=True)
class SetTarget:
    slug: str
    name: str
    op: str
    value: str


@dataclass(frozen=True)
class ShowDora:
    slug: str | None = None
    days: int = 30


MetricCommand = RecordMetric | ShowMetrics | SetTarget | ShowDora | ShowSources | PullKpi


# ── /digest: always about the channel it is typed in ─────────────────────────────────────────

@dataclass(frozen=True)
class ShowDigestSchedule:
    pass


@dataclass(frozen=True)
class PostDigestNow:
    pass


@dataclass(frozen=True)
class PreviewDigest:
    pass


@dataclass(frozen=True)
class ScheduleDigest:
    cron: str
    tz: str | None = None


@dataclass(frozen=True)
class StopDigest:
    pass


DigestCommand = ShowDigestSchedule | PostDigestNow | PreviewDigest | ScheduleDigest | StopDigest
