"""What the long reads return and the ports that serve them: a digest's lists, each cut to
what it shows, and DORA counted by SQL aggregates (``storage/digest_reads.py``,
``storage/dora.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bot.domain.audit import AuditEvent, AuditFilter
from bot.domain.dashboard import DeploymentFilter, PortfolioFilter
from bot.domain.deployment_model import Deployment, Event
from bot.domain.dora import DoraCounts
from bot.domain.kpi_chart import Deployed
from bot.domain.locks import DeployLock
from bot.domain.production import Production
from bot.domain.usecases import PhaseChange, UseCase
from bot.services.ports import CrossingRow, Scope, StoredPoint, StoredTarget
from bot.services.use_case_ports import Sight

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The first rows of a longer list, in order, and how long the whole list is."""

    rows: list[T]
    total: int


@dataclass(frozen=True)
class PhaseMoveRow:
    slug: str
    title: str
    change: PhaseChange


@dataclass(frozen=True)
class OverdueRow:
    slug: str
    title: str
    owner_id: str
    phase_since: datetime


@dataclass(frozen=True)
class DeploymentSummary:
    """A deployment as a digest lists it: plain columns, no stages."""

    id: int
    slug: str
    version: str
    state: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    dry_run: bool
    kind: str = "deploy"
    pipeline: str = ""


@dataclass(frozen=True)
class SeriesTail:
    """What a digest shows of one KPI: its newest points, and the newest one at or before the
    start of the digest's period (the value "back then")."""

    slug: str
    name: str
    newest: list[StoredPoint]  # oldest first
    before: StoredPoint | None


@dataclass(frozen=True)
class AttentionRow:
    """A use case someone must look at: production left in a mix or unknown, or locked by a
    rollback that failed (either or both)."""

    slug: str
    production: Production | None
    lock: DeployLock | None


class DigestReads(Protocol):
    """What a digest reads, narrowed in SQL to its scope and cut to what it shows."""

    async def has_use_cases(self, channel_id: str) -> bool: ...
    async def phase_counts(self, scope: Scope) -> dict[str, int]: ...
    async def moves(self, scope: Scope, since: datetime, limit: int) -> Page[PhaseMoveRow]: ...
    async def overdue(self, scope: Scope, entered_before: datetime,
                      limit: int) -> Page[OverdueRow]: ...
    async def waiting(self, scope: Scope, limit: int) -> list[Deployment]: ...
    async def deployments(self, scope: Scope, since: datetime,
                          limit: int) -> tuple[Page[DeploymentSummary], dict[str, int]]: ...
    async def crossings(self, scope: Scope, since: datetime, limit: int) -> Page[CrossingRow]: ...
    async def moved_series(self, scope: Scope, since: datetime,
                           limit: int) -> Page[tuple[str, str]]: ...
    async def tails(self, series: list[tuple[str, str]], since: datetime,
                    points: int) -> list[SeriesTail]: ...
    async def targets(self, slugs: list[str]) -> dict[str, dict[str, StoredTarget]]: ...
    async def production(self, scope: Scope, limit: int) -> Page[tuple[str, Production]]: ...
    async def attention(self, scope: Scope, limit: int) -> Page[AttentionRow]: ...


class DoraQueries(Protocol):
    async def counts(self, scope: Scope, windows: Sequence[tuple[datetime, datetime]],
                     now: datetime) -> list[DoraCounts]:
        """Per window (since, until]; the windows must not overlap (SQL attributes each failure
        to the first window it falls in). A few statements, plus one per window."""
        ...
    async def busiest(self, window: tuple[datetime, datetime], limit: int, *,
                      public_only: bool = False) -> list[str]:
        """The busiest use cases (``public_only``: of those homed in public channels)."""
        ...
    async def deployed(self, slug: str, window: tuple[datetime, datetime],
                       limit: int) -> list[Deployed]:
        """The use case's deployments to production (no dry runs) whose production finished
        in the window (since, until], oldest first; the newest ``limit`` of them. Its cost
        follows the one use case's deployments, not the workspace's."""
        ...


class AuditReads(Protocol):
    async def events(self, where: AuditFilter, after: tuple[datetime, int, int] | None,
                     limit: int) -> list[AuditEvent]:
        """Up to ``limit`` events matching ``where`` after ``after`` (an event's ``key``), in
        order of time; the cost of a page follows the page, not the size of the trail."""
        ...



class DashboardReads(Protocol):
    """The web dashboard's lists, each narrowed in SQL to what one person may see (``sight``)
    and keyset-paged, so a page costs what it shows."""

    async def portfolio(self, where: PortfolioFilter, sight: Sight, after: str | None,
                        limit: int) -> list[UseCase]:
        """Use cases (without team or history) by slug, after ``after``."""
        ...
    async def phase_counts(self, where: PortfolioFilter, sight: Sight) -> dict[str, int]:
        """How many use cases ``where`` selects in each phase (its own phase ignored)."""
        ...
    async def watched(self, slugs: list[str]) -> dict[str, list[StoredPoint]]:
        """Per use case of ``slugs``, the newest value of each KPI somebody watches (its
        success KPI, and every KPI with a target), by name; none for a KPI without values."""
        ...
    async def deployments(self, where: DeploymentFilter, sight: Sight, before: int | None,
                          limit: int) -> list[DeploymentSummary]:
        """Deployments newest first (by id), those before ``before``."""
        ...
    async def story(self, slug: str, upto: int | None, limit: int) -> list[Deployment]:
        """One use case's deployments newest first (by id), those up to ``upto`` (any id: one
        of another use case's only marks where to start)."""
        ...
    async def trails(self, deployment_ids: Sequence[int]) -> dict[int, list[Event]]:
        """Each deployment's events in order, in one statement (a page shows several)."""
        ...
