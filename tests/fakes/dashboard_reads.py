"""The web dashboard's lists in memory (``storage/dashboard_reads.py``), by the same rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.dashboard import DeploymentFilter, PortfolioFilter
from bot.domain.deployment_model import Deployment, Event
from bot.domain.usecases import Phase, UseCase
from bot.services.ports import StoredPoint
from bot.services.read_ports import DeploymentSummary
from bot.services.use_case_ports import Sight
from tests.fakes.reads import _summary
from tests.fakes.tables import Tables
from tests.fakes.use_cases import seen


def _selected(uc: UseCase, where: PortfolioFilter, sight: Sight) -> bool:
    search = where.search.casefold()
    return (seen(uc, sight) and where.owner_id in (None, uc.owner_id)
            and where.domain in (None, uc.domain) and where.channel_id in (None, uc.channel_id)
            and (not search or search in uc.slug.casefold() or search in uc.title.casefold()))


class MemoryDashboardReads:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def _use_cases(self) -> list[UseCase]:
        return [row.use_case for row in self._tables.use_cases]

    async def portfolio(self, where: PortfolioFilter, sight: Sight, after: str | None,
                        limit: int) -> list[UseCase]:
        found = [uc for uc in self._use_cases()
                 if _selected(uc, where, sight) and (after is None or uc.slug > after)
                 and (uc.phase is where.phase if where.phase else uc.phase is not Phase.ARCHIVED)]
        return sorted(found, key=lambda uc: uc.slug)[:limit]

    async def phase_counts(self, where: PortfolioFilter, sight: Sight) -> dict[str, int]:
        counts: dict[str, int] = {}
        for uc in self._use_cases():
            if _selected(uc, where, sight):
                counts[uc.phase.value] = counts.get(uc.phase.value, 0) + 1
        return counts

    async def watched(self, slugs: list[str]) -> dict[str, list[StoredPoint]]:
        kpis = {uc.slug: uc.kpi for uc in self._use_cases() if uc.slug in slugs}
        wanted = {(slug, kpi) for slug, kpi in kpis.items() if kpi} | {
            key for key in self._tables.targets.rows if key[0] in slugs}
        newest: dict[tuple[str, str], tuple[tuple[datetime, int], StoredPoint]] = {}
        for i, row in self._tables.points.rows.items():
            key, order = (row.slug, row.point.name), (row.point.at, i)
            if key in wanted and (key not in newest or newest[key][0] < order):
                newest[key] = (order, row.point)
        out: dict[str, list[StoredPoint]] = {}
        for (slug, _name), (_order, point) in sorted(newest.items()):
            out.setdefault(slug, []).append(point)
        return out

    async def deployments(self, where: DeploymentFilter, sight: Sight, before: int | None,
                          limit: int) -> list[DeploymentSummary]:
        homes = {uc.slug: uc for uc in self._use_cases()}
        found = [row.deployment for row in self._tables.deployments
                 if seen(homes[row.deployment.use_case], sight)
                 and where.use_case in (None, row.deployment.use_case)
                 and where.result in (None, row.deployment.state)
                 and (where.since is None or row.deployment.requested_at > where.since)
                 and (where.until is None or row.deployment.requested_at <= where.until)
                 and (before is None or (row.deployment.id or 0) < before)]
        found.sort(key=lambda d: d.id or 0, reverse=True)
        return [_summary(d) for d in found[:limit]]

    async def story(self, slug: str, upto: int | None, limit: int) -> list[Deployment]:
        found = [row.deployment for row in self._tables.deployments
                 if row.deployment.use_case == slug
                 and (upto is None or (row.deployment.id or 0) <= upto)]
        found.sort(key=lambda d: d.id or 0, reverse=True)
        return found[:limit]

    async def trails(self, deployment_ids: Sequence[int]) -> dict[int, list[Event]]:
        out: dict[int, list[Event]] = {i: [] for i in deployment_ids}
        for _id, row in sorted(self._tables.events.rows.items()):
            if row.deployment_id in out:
                out[row.deployment_id].append(row.event)
        return out
