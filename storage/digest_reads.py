"""What a digest reads, narrowed in SQL to its scope and cut to the lines it shows.

A channel's digest reads the use cases homed there and what belongs to them; a channel without
use cases of its own gets the workspace, counted rather than loaded. Every list comes back as
its first ``limit`` rows with its whole length beside them (``count(*) OVER ()``), so the cost
follows what the digest says, not the size of the database (benchmarks/digest_build.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.locks import DeployLock
from bot.domain.production import Production
from bot.domain.usecases import Phase, PhaseChange
from bot.services.ports import CrossingRow, Scope, StoredPoint, StoredTarget
from bot.services.read_ports import (
    AttentionRow,
    DeploymentSummary,
    OverdueRow,
    Page,
    PhaseMoveRow,
    SeriesTail,
)
from storage.deployment_codec import placement_from_json, to_deployment
from storage.deployments import ACTIVE
from storage.kpi_models import MetricCrossingRow, MetricPointRow, MetricTargetRow
from storage.models import (
    DeployLockRow,
    DeploymentRow,
    PhaseChangeRow,
    UseCaseRow,
)

U, D, P, M, C = UseCaseRow, DeploymentRow, PhaseChangeRow, MetricPointRow, MetricCrossingRow
TOTAL = func.count().over().label("total")  # the length of the whole list, on every row
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _narrow(query: Q, scope: Scope) -> Q:
    """A query that reads ``use_cases`` (joined), narrowed to the scope."""
    if scope.channel_id is not None:
        query = query.where(U.channel_id == scope.channel_id)
    if scope.slug is not None:
        query = query.where(U.slug == scope.slug)
    if scope.public_only:
        query = query.where(U.private.is_(False))
    return query


def _newest(series: int, arm: int, where: tuple[Any, ...], limit: int) -> Select[*tuple[Any, ...]]:
    """The newest ``limit`` points matching ``where``, tagged (series, arm) for a UNION ALL."""
    tags: tuple[Any, ...] = (literal_column(str(series)).label("series"),
                             literal_column(str(arm)).label("arm"))
    newest: Select[*tuple[Any, ...]] = (
        select(*tags, M.value, M.unit, M.at, M.id)
        .where(*where).order_by(M.at.desc(), M.id.desc()).limit(limit))
    return select(newest.subquery())


def _page(rows: list[Any], make: Any) -> Page[Any]:
    return Page([make(r) for r in rows], rows[0].total if rows else 0)


class SqlDigestReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, query: Select[*tuple[Any, ...]], scope: Scope) -> list[Any]:
        return list((await self._session.execute(_narrow(query, scope))).all())

    async def has_use_cases(self, channel_id: str) -> bool:
        found = await self._session.scalar(select(U.id).where(U.channel_id == channel_id).limit(1))
        return found is not None

    async def phase_counts(self, scope: Scope) -> dict[str, int]:
        rows = await self._rows(select(U.phase, func.count()).group_by(U.phase), scope)
        return {phase: int(count) for phase, count in rows}

    async def moves(self, scope: Scope, since: datetime, limit: int) -> Page[PhaseMoveRow]:
        rows = await self._rows(
            select(U.slug, U.title, P.from_phase, P.to_phase, P.actor_id, P.at, P.note, TOTAL)
            .join(P, P.use_case_id == U.id)
            .where(P.at > since, P.from_phase.is_not(None))
            .order_by(P.at, P.id).limit(limit), scope)
        return _page(rows, lambda r: PhaseMoveRow(r.slug, r.title, PhaseChange(
            Phase(r.from_phase), Phase(r.to_phase), r.actor_id, r.at, r.note)))

    async def overdue(self, scope: Scope, entered_before: datetime, limit: int) -> Page[OverdueRow]:
        """Use cases in Dev since before ``entered_before``, longest first."""
        rows = await self._rows(
            select(U.slug, U.title, U.owner_id, U.phase_since, TOTAL)
            .where(U.phase == Phase.DEV.value, U.phase_since < entered_before)
            .order_by(U.phase_since, U.slug).limit(limit), scope)
        return _page(rows, lambda r: OverdueRow(r.slug, r.title, r.owner_id, r.phase_since))

    async def waiting(self, scope: Scope, limit: int) -> list[Deployment]:
        """Deployments waiting at a gate (few by nature: at most one active per use case)."""
        rows = (await self._session.scalars(_narrow(
            select(D).join(U, U.id == D.use_case_id)
            .where(D.state == DeploymentState.AWAITING_APPROVAL.value)
            .order_by(D.requested_at, D.id).limit(limit), scope))).all()
        return [to_deployment(r) for r in rows]

    async def deployments(self, scope: Scope, since: datetime,
                          limit: int) -> tuple[Page[DeploymentSummary], dict[str, int]]:
        """The first deployments requested since ``since``, and how many there were per state."""
        since_then = D.requested_at >= since
        rows = await self._rows(
            select(D.id, U.slug, D.version, D.state, D.requested_by, D.requested_at, D.finished_at,
                   D.dry_run, TOTAL)
            .join(U, U.id == D.use_case_id).where(since_then)
            .order_by(D.requested_at, D.id).limit(limit), scope)
        states = await self._rows(
            select(D.state, func.count()).join(U, U.id == D.use_case_id).where(since_then)
            .group_by(D.state), scope)
        page = _page(rows, lambda r: DeploymentSummary(r.id, r.slug, r.version, r.state, r.requested_by,
                                                       r.requested_at, r.finished_at, r.dry_run))
        return page, {state: int(count) for state, count in states}

    async def crossings(self, scope: Scope, since: datetime, limit: int) -> Page[CrossingRow]:
        rows = await self._rows(
            select(U.slug, C.name, C.at, C.met, C.value, C.unit, C.op, C.target, TOTAL)
            .join(C, C.use_case_id == U.id).where(C.at > since)
            .order_by(C.at, C.id).limit(limit), scope)
        return _page(rows, lambda r: CrossingRow(r.slug, r.name, r.at, r.met, r.value, r.unit, r.op,
                                                 r.target))

    async def moved_series(self, scope: Scope, since: datetime, limit: int) -> Page[tuple[str, str]]:
        """KPIs with a value newer than ``since``, as (slug, name), by slug and name."""
        rows = await self._rows(
            select(U.slug, M.name, TOTAL).join(M, M.use_case_id == U.id).where(M.at > since)
            .group_by(U.slug, M.name).order_by(U.slug, M.name).limit(limit), scope)
        return _page(rows, lambda r: (r.slug, r.name))

    async def tails(self, series: list[tuple[str, str]], since: datetime,
                    points: int) -> list[SeriesTail]:
        """Per KPI its newest ``points`` points and the newest one at or before ``since``: one
        statement of two index-ordered arms per KPI, however long each series is."""
        if not series:
            return []
        arms: list[Select[*tuple[Any, ...]]] = []
        for i, (slug, name) in enumerate(series):
            of_series = (M.use_case_id == select(U.id).where(U.slug == slug).scalar_subquery(),
                         M.name == name)
            arms += [_newest(i, 0, of_series, points), _newest(i, 1, (*of_series, M.at <= since), 1)]
        found: dict[tuple[int, int], list[tuple[StoredPoint, int]]] = defaultdict(list)
        for row in await self._session.execute(union_all(*arms)):
            point = StoredPoint(series[row.series][1], row.value, row.unit, row.at)
            found[(row.series, row.arm)].append((point, row.id))
        out = []
        for i, (slug, name) in enumerate(series):
            newest = [p for p, _id in sorted(found[(i, 0)], key=lambda item: (item[0].at, item[1]))]
            before = found[(i, 1)][0][0] if found[(i, 1)] else None
            out.append(SeriesTail(slug, name, newest, before))
        return out

    async def targets(self, slugs: list[str]) -> dict[str, dict[str, StoredTarget]]:
        rows = await self._session.execute(
            select(U.slug, MetricTargetRow.name, MetricTargetRow.op, MetricTargetRow.value,
                   MetricTargetRow.state)
            .join(MetricTargetRow, MetricTargetRow.use_case_id == U.id).where(U.slug.in_(slugs)))
        out: dict[str, dict[str, StoredTarget]] = defaultdict(dict)
        for slug, name, op, value, state in rows:
            out[slug][name] = StoredTarget(name, op, value, state)
        return dict(out)

    # ── what runs in production ────────────────────────────────────────────────────────────

    def _newest_real(self, scope: Scope) -> Select[*tuple[Any, ...]]:
        """Each use case's newest real deployment (it knows what production runs)."""
        return _narrow(select(func.max(D.id)).join(U, U.id == D.use_case_id)
                       .where(D.dry_run.is_(False)).group_by(D.use_case_id), scope)

    async def production(self, scope: Scope, limit: int) -> Page[tuple[str, Production]]:
        """What runs in production per use case, the most recently deployed first."""
        rows = list((await self._session.execute(
            select(D.slug, D.id, D.state, D.production, TOTAL)
            .where(D.id.in_(self._newest_real(scope)), D.production.is_not(None))
            .order_by(D.id.desc()).limit(limit))).all())
        return _page(rows, lambda r: (r.slug, Production(placement_from_json(r.production), r.id,
                                                         r.state in ACTIVE)))

    async def attention(self, scope: Scope, limit: int) -> Page[AttentionRow]:
        """Use cases left in a mix (not while a deployment rolls out) or locked by a failed
        rollback, by slug."""
        mixed = (await self._session.execute(
            select(D.slug, D.id, D.production)
            .where(D.id.in_(self._newest_real(scope)), D.attention.is_(True),
                   D.state.not_in(ACTIVE)))).all()
        locked = await self._rows(
            select(U.slug, DeployLockRow).join(DeployLockRow, DeployLockRow.use_case_id == U.id)
            .where(DeployLockRow.deployment_id.is_not(None)), scope)
        found = {r.slug: AttentionRow(r.slug, Production(placement_from_json(r.production), r.id),
                                      None) for r in mixed}
        for slug, lock in locked:
            seen = found.get(slug)
            found[slug] = AttentionRow(slug, seen.production if seen else None, DeployLock(
                slug, lock.locked_by, lock.locked_at, lock.reason, lock.deployment_id))
        rows = [found[slug] for slug in sorted(found)]
        return Page(rows[:limit], len(rows))
