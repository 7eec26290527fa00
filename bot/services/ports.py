"""What the services need from storage, declared here and implemented in ``storage/``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from bot.domain.deployment_model import Deployment, Event
from bot.domain.dora import DoraRecord
from bot.domain.locks import DeployLock as DeployLock  # a port's type, from the domain
from bot.domain.production import Production
from bot.log_events import get_logger
from bot.services.deliveries import Delivery
from bot.services.events import AfterCommit
from bot.services.outbox_port import Outbox as Outbox  # re-exported
from bot.services.outbox_port import OutgoingMessage as OutgoingMessage  # re-exported
from bot.services.use_case_ports import ModelLink as ModelLink  # ports of their own, re-exported
from bot.services.use_case_ports import UseCaseRepository as UseCaseRepository

if TYPE_CHECKING:  # only in annotations: read_ports itself uses the types declared here
    from bot.services import freeze_ports, kpi_ports, read_ports, registry_ports

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    method: str
    channel: str
    args: dict[str, Any]
    attempts: int
    created_at: datetime
    update_of: str | None = None
    thread_of: str | None = None
    last_error: str = ""
    link_of: str | None = None


@dataclass(frozen=True)
class Scope:
    """Whose data a read covers: one use case, the use cases homed in one channel, or (neither)
    the whole workspace. Reads filter by it in SQL, so their cost follows it."""

    slug: str | None = None
    channel_id: str | None = None
    public_only: bool = False  # leave out use cases homed in private channels and group DMs


class ConcurrentUpdate(Exception):
    """Somebody else changed the same record between our read and our write."""


class DuplicateDelivery(Exception):
    """This Slack delivery was applied already, here or in another process: change nothing."""


def log_duplicate(key: object) -> None:
    """The one line for a delivery acknowledged without being applied again."""
    log.info("duplicate_delivery", key=key)


class DeliveryLog(Protocol):
    """Which Slack deliveries were handled already (a retry is acknowledged, not applied)."""

    async def first(self, key: str, now: datetime) -> bool: ...
    async def seen(self, key: str) -> bool: ...
    def handling(self, key: str) -> None:
        """The rest of this task works for delivery ``key``: its first commit records it."""


class EndedSessions(Protocol):
    """Dashboard sessions signed out (``POST /logout``) before their 12 hours were up, as every
    process sharing the database sees them."""

    async def end(self, session_id: str, expires_at: datetime, now: datetime) -> None:
        """Record ``session_id`` as ended until ``expires_at``; forget those expired by ``now``."""
    async def ended(self, session_id: str) -> bool: ...


class NotifyPreferences(Protocol):
    """Whether a person wants direct messages about their own deployments (default: yes)."""

    async def enabled(self, user_id: str) -> bool: ...
    async def set(self, user_id: str, enabled: bool, now: datetime) -> None: ...


class DeploymentRepository(Protocol):
    async def add(self, d: Deployment) -> Deployment: ...
    async def save(self, d: Deployment) -> Deployment: ...
    async def get(self, deployment_id: int, *, for_update: bool = False) -> Deployment | None: ...
    async def active_for(self, slug: str) -> Deployment | None: ...
    async def history(self, slug: str, *, limit: int = 10,
                      pipeline: str | None = None) -> list[Deployment]: ...
    async def active(self, *, limit: int = 50) -> list[Deployment]: ...
    async def count_by_state(self) -> dict[str, int]: ...
    async def dora_records(self, moment: datetime, *,
                           slugs: list[str] | None = None) -> list[DoraRecord]: ...
    async def set_lease(self, deployment_id: int, owner: str | None,
                        until: datetime | None) -> None: ...
    async def record(self, d: Deployment, events: tuple[Event, ...]) -> None: ...
    async def events(self, deployment_id: int) -> list[Event]: ...
    async def button_token(self, d: Deployment, stage_index: int, action: str,
                        now: datetime) -> str: ...
    async def token(self, token_id: str) -> ActionToken | None: ...
    async def due(self, now: datetime, *, launch: bool, ended: bool = False,
                  limit: int = 100) -> list[int]: ...
    async def lost(self, now: datetime, *, limit: int = 100) -> list[int]: ...
    async def renew_lease(self, deployment_id: int, owner: str, until: datetime) -> bool: ...
    async def claim_lock_reminders(self, now: datetime,
                                   age: timedelta) -> list[tuple[DeployLock, str]]: ...
    async def lock(self, slug: str) -> DeployLock | None: ...
    async def locks(self, slugs: list[str]) -> list[DeployLock]: ...
    async def set_lock(self, lock: DeployLock) -> None: ...
    async def production(self, slug: str) -> Production | None: ...
    async def productions(self, slugs: list[str]) -> dict[str, Production]: ...
    async def remove_lock(self, slug: str) -> None: ...


@dataclass(frozen=True)
class ActionToken:
    """What a button does, kept on the server; the button only carries ``id``."""

    id: str
    deployment_id: int
    stage_index: int
    version: str
    action: str


class UnitOfWork(Protocol):
    @property
    def use_cases(self) -> UseCaseRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def deployments(self) -> DeploymentRepository: ...
    @property
    def metrics(self) -> MetricRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def digests(self) -> DigestRepository: ...
    @property
    def claims(self) -> ClaimRepository: ...
    @property
    def dora(self) -> read_ports.DoraQueries: ...
    @property
    def digest_reads(self) -> read_ports.DigestReads: ...
    @property
    def audit(self) -> read_ports.AuditReads: ...
    @property
    def dashboard(self) -> read_ports.DashboardReads: ...
    @property
    def kpis(self) -> kpi_ports.KpiRepository: ...
    @property
    def aliases(self) -> registry_ports.ModelAliasRepository: ...
    @property
    def freezes(self) -> freeze_ports.FreezeRepository: ...
    @property
    def notify_prefs(self) -> NotifyPreferences: ...

    def emit(self, event: AfterCommit) -> None:
        """Hand ``event`` on once this unit of work has committed (never if it does not)."""

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def claim_delivery(self) -> Delivery | None:
        """Record, with this transaction, that the Slack delivery this task handles was applied
        (bot.services.deliveries); the first commit of such a task calls it. A delivery another
        handling applied already: ``DuplicateDelivery``, and nothing is committed."""
        ...

    async def commit(self) -> None:
        """Commit what this unit of work wrote (claiming the delivery first), then hand on its
        events."""
        ...


@dataclass(frozen=True)
class StoredPoint:
    name: str
    value: float
    unit: str
    at: datetime


@dataclass(frozen=True)
class StoredTarget:
    name: str
    op: str
    value: float
    state: str | None


@dataclass(frozen=True)
class ApiToken:
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    scopes: tuple[str, ...] = ("metrics:write",)  # what it may do (bot.services.tokens.SCOPES)


class MetricRepository(Protocol):
    async def add_points(self, points: list[tuple[str, StoredPoint]], recorded_by: str,
                         received_at: datetime) -> None: ...
    async def newest_received(self, slug: str, name: str,
                              after: datetime) -> StoredPoint | None: ...
    async def series(self, slug: str, *, since: datetime,
                     before: tuple[datetime, ...] = ()) -> dict[str, list[StoredPoint]]: ...
    async def newest_at(self, slug: str, name: str) -> datetime | None: ...
    async def targets(self, slug: str) -> dict[str, StoredTarget]: ...
    async def set_target(self, slug: str, name: str, op: str, value: float, by: str,
                         at: datetime, state: str | None) -> None: ...
    async def flip_target_state(self, slug: str, name: str, expected: str | None,
                                new: str) -> bool: ...
    async def add_crossing(self, crossing: CrossingRow) -> None: ...


class TokenRepository(Protocol):
    async def create(self, name: str, token_hash: str, now: datetime,
                     scopes: tuple[str, ...] = ("metrics:write",)) -> None: ...
    async def all(self) -> list[ApiToken]: ...
    async def revoke(self, name: str, now: datetime) -> bool: ...
    async def use(self, token_hash: str, now: datetime) -> ApiToken | None: ...


@dataclass(frozen=True)
class DigestSchedule:
    channel_id: str
    cron: str
    timezone: str
    created_by: str
    created_at: datetime


class DigestRepository(Protocol):
    async def schedule(self, channel_id: str) -> DigestSchedule | None: ...
    async def schedules(self) -> list[DigestSchedule]: ...
    async def set_schedule(self, s: DigestSchedule) -> None: ...
    async def remove_schedule(self, channel_id: str) -> bool: ...
    async def claim_run(self, channel_id: str, fire_time: datetime, now: datetime) -> bool: ...
    async def has_run(self, channel_id: str, fire_time: datetime) -> bool: ...
    async def last_run(self, channel_id: str) -> datetime | None: ...


class ClaimRepository(Protocol):
    """Run-once work (a nudge, a reminder, a freeze's start, a registry delivery): the first
    to claim ``(kind, key)`` does it, in any process, in the same transaction as its effects."""

    async def claim(self, kind: str, key: str, now: datetime) -> bool: ...
    async def claimed(self, kind: str, keys: list[str]) -> set[str]: ...


@dataclass(frozen=True)
class CrossingRow:
    """A target crossing as it was announced."""

    slug: str
    name: str
    at: datetime
    met: bool
    value: float
    unit: str
    op: str
    target: float


class GroupDirectory(Protocol):
    """Members of a Slack user group, by ID (``S…``) or handle (``@release-managers``)."""

    async def members(self, group: str) -> frozenset[str]: ...
    async def group_id(self, group: str) -> str | None:
        """The ``S…`` ID of a group named by ``@handle`` (a mention needs it); an ID as is."""


class Directory(Protocol):
    """Who and where: resolves plain ``@name`` / ``#name`` through the Slack Web API."""

    async def user_id(self, name: str) -> str | None: ...
    async def channel_id(self, name: str) -> str | None: ...
