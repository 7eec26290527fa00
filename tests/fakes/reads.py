"""The long reads in memory: a digest's lists (``storage/digest_reads.py``) and DORA
(``storage/dora.py``), counted by the domain's own definition rather than re-implemented."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.domain.audit import PHASE_CHANGED, AuditEvent, AuditFilter
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.dora import DoraCounts, as_record, production_finished, window_counts
from bot.domain.kpi_chart import Deployed
from bot.domain.production import Production, unsettled
from bot.domain.usecases import Phase, UseCase
from bot.services.ports import CrossingRow, Scope, StoredTarget
from bot.services.read_ports import (
    AttentionRow,
    DeploymentSummary,
    OverdueRow,
    Page,
    PhaseMoveRow,
    SeriesTail,
)
from tests.fakes.tables import Tables

T = TypeVar("T")
Window = tuple[datetime, datetime]  # (since, until]


def _page(rows: list[T], limit: int) -> Page[T]:
    """The first ``limit`` rows and the whole length; like SQL's ``count(*) OVER ()``, which
    is read off the first row, a page without rows says 0."""
    first = rows[:limit]
    return Page(first, len(rows) if first else 0)


def _summary(d: Deployment) -> DeploymentSummary:
    assert d.id is not None
    return DeploymentSummary(d.id, d.use_case, d.version, d.state.value, d.requested_by,
                             d.requested_at, d.finished_at, d.dry_run, d.kind, d.pipeline)


class _Scoped:
    """Reads narrowed to a scope by the use case each row belongs to."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def _use_cases(self, scope: Scope) -> dict[str, UseCase]:
        return {row.use_case.slug: row.use_case for row in self._tables.use_cases
                if scope.slug in (None, row.use_case.slug)
                and scope.channel_id in (None, row.use_case.channel_id)
                and not (scope.public_only and row.use_case.private)}

    def _deployments(self, scope: Scope, keep: Callable[[Deployment], bool]) -> list[Deployment]:
        """The scope's deployments that ``keep`` keeps, in the order they were requested."""
        mine = self._use_cases(scope)
        found = [row.deployment for row in self._tables.deployments
                 if row.deployment.use_case in mine and keep(row.deployment)]
        return sorted(found, key=lambda d: (d.requested_at, d.id))


class MemoryDigestReads(_Scoped):
    async def has_use_cases(self, channel_id: str) -> bool:
        return bool(self._use_cases(Scope(channel_id=channel_id)))

    async def phase_counts(self, scope: Scope) -> dict[str, int]:
        return dict(Counter(uc.phase.value for uc in self._use_cases(scope).values()))

    async def moves(self, scope: Scope, since: datetime, limit: int) -> Page[PhaseMoveRow]:
        mine = self._use_cases(scope)
        changes = sorted(((row.change.at, i), row) for i, row in self._tables.phase_changes.rows.items()
                         if row.slug in mine and row.change.at > since
                         and row.change.from_phase is not None)
        return _page([PhaseMoveRow(row.slug, mine[row.slug].title, row.change)
                      for _order, row in changes], limit)

    async def overdue(self, scope: Scope, entered_before: datetime, limit: int) -> Page[OverdueRow]:
        late = sorted((uc for uc in self._use_cases(scope).values()
                       if uc.phase is Phase.DEV and uc.phase_since < entered_before),
                      key=lambda uc: (uc.phase_since, uc.slug))
        return _page([OverdueRow(uc.slug, uc.title, uc.owner_id, uc.phase_since) for uc in late],
                     limit)

    async def waiting(self, scope: Scope, limit: int) -> list[Deployment]:
        return self._deployments(
            scope, lambda d: d.state is DeploymentState.AWAITING_APPROVAL)[:limit]

    async def deployments(self, scope: Scope, since: datetime,
                          limit: int) -> tuple[Page[DeploymentSummary], dict[str, int]]:
        found = self._deployments(scope, lambda d: d.requested_at >= since)
        return _page([_summary(d) for d in found], limit), dict(Counter(d.state.value for d in found))

    async def crossings(self, scope: Scope, since: datetime, limit: int) -> Page[CrossingRow]:
        mine = self._use_cases(scope)
        found = sorted(((c.at, i), c) for i, c in self._tables.crossings.rows.items()
                       if c.slug in mine and c.at > since)
        return _page([c for _order, c in found], limit)

    async def moved_series(self, scope: Scope, since: datetime,
                           limit: int) -> Page[tuple[str, str]]:
        mine = self._use_cases(scope)
        moved = {(row.slug, row.point.name) for row in self._tables.points
                 if row.slug in mine and row.point.at > since}
        return _page(sorted(moved), limit)

    async def tails(self, series: list[tuple[str, str]], since: datetime,
                    points: int) -> list[SeriesTail]:
        out = []
        for slug, name in series:
            newest_first = [p for _order, p in sorted(
                (((row.point.at, i), row.point) for i, row in self._tables.points.rows.items()
                 if (row.slug, row.point.name) == (slug, name)), reverse=True)]
            before = next((p for p in newest_first if p.at <= since), None)
            out.append(SeriesTail(slug, name, newest_first[:points][::-1], before))
        return out

    async def targets(self, slugs: list[str]) -> dict[str, dict[str, StoredTarget]]:
        out: dict[str, dict[str, StoredTarget]] = {}
        for (slug, name), target in self._tables.targets.rows.items():
            if slug in slugs:
                out.setdefault(slug, {})[name] = target
        return out


    def _newest_real(self, scope: Scope) -> dict[str, Deployment]:
        newest: dict[str, Deployment] = {}
        for d in self._deployments(scope, lambda d: not d.dry_run):
            if d.use_case not in newest or (newest[d.use_case].id or 0) < (d.id or 0):
                newest[d.use_case] = d
        return {slug: d for slug, d in newest.items() if d.production}

    async def production(self, scope: Scope, limit: int) -> Page[tuple[str, Production]]:
        newest = sorted(self._newest_real(scope).values(), key=lambda d: d.id or 0, reverse=True)
        return _page([(d.use_case, Production(d.production, d.id or 0, d.state.is_active))
                      for d in newest], limit)

    async def attention(self, scope: Scope, limit: int) -> Page[AttentionRow]:
        found = {slug: AttentionRow(slug, Production(d.production, d.id or 0), None)
                 for slug, d in self._newest_real(scope).items()
                 if unsettled(d.production) and not d.state.is_active}
        for row in self._tables.locks:
            slug = row.lock.use_case
            if slug in self._use_cases(scope) and row.lock.after_failed_rollback:
                seen = found.get(slug)
                found[slug] = AttentionRow(slug, seen.production if seen else None, row.lock)
        rows = [found[slug] for slug in sorted(found)]
        return Page(rows[:limit], len(rows))


class MemoryDoraQueries(_Scoped):
    async def counts(self, scope: Scope, windows: Sequence[Window],
                     now: datetime) -> list[DoraCounts]:
        """The domain's counts of the scope's deployments; SQL's aggregates are tested equal."""
        mine = self._deployments(scope, lambda _d: True)
        return [window_counts(mine, since=since, until=until, now=now) for since, until in windows]

    async def busiest(self, window: Window, limit: int, *, public_only: bool = False) -> list[str]:
        """Most production deployments (no dry runs) in the window first; ties: the older use
        case."""
        since, until = window
        shown = self._use_cases(Scope(public_only=public_only))
        counts = Counter(row.deployment.use_case for row in self._tables.deployments
                         if not row.deployment.dry_run and row.deployment.use_case in shown
                         and (at := production_finished(as_record(row.deployment))) is not None
                         and since < at <= until)
        age = {row.use_case.slug: row.id for row in self._tables.use_cases}
        counted = sorted(counts.items(), key=lambda item: (-item[1], age[item[0]]))
        return [slug for slug, _n in counted[:limit]]


    async def deployed(self, slug: str, window: Window, limit: int) -> list[Deployed]:
        """The domain's "production finished" of the use case's real deployments."""
        since, until = window
        found = sorted((at, row.deployment.id or 0, row.deployment.version)
                       for row in self._tables.deployments
                       if row.deployment.use_case == slug and not row.deployment.dry_run
                       and (at := production_finished(as_record(row.deployment))) is not None
                       and since < at <= until)
        return [Deployed(at, version) for at, _id, version in found[-limit:] if limit > 0]


class MemoryAuditReads:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def events(self, where: AuditFilter, after: tuple[datetime, int, int] | None,
                     limit: int) -> list[AuditEvent]:
        found = [*self._moves(), *self._deployment_events()]
        kept = [e for e in found
                if (where.since is None or e.at > where.since)
                and (where.until is None or e.at <= where.until)
                and (where.use_case is None or e.use_case == where.use_case)
                and self._seen(e.use_case, where.channels)
                and (after is None or e.key > after)]
        return sorted(kept, key=lambda e: e.key)[:limit]

    def _seen(self, slug: str, channels: frozenset[str] | None) -> bool:
        row = self._tables.use_cases.get(slug)
        return channels is None or row is None or not row.use_case.private \
            or row.use_case.channel_id in channels

    def _moves(self) -> list[AuditEvent]:
        return [AuditEvent(i, row.change.at, row.change.actor_id, row.slug, None, PHASE_CHANGED,
                           None, None, row.change.note,
                           moved=(row.change.from_phase and row.change.from_phase.value,
                                  row.change.to_phase.value))
                for i, row in self._tables.phase_changes.rows.items()]

    def _deployment_events(self) -> list[AuditEvent]:
        found = []
        for event_id, row in self._tables.events.rows.items():
            d, e = self._tables.deployments.rows[row.deployment_id].deployment, row.event
            found.append(AuditEvent(event_id, e.at, e.actor, d.use_case, row.deployment_id, e.kind,
                                    e.stage, e.wave, e.detail, d.version, d.pipeline, d.dry_run,
                                    d.kind == "rollback"))
        return found
