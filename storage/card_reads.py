"""`/usecase show`'s read: five statements compiled once, run in one batch (storage/compiled.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, select

from bot.domain.metrics import Target
from bot.domain.production import Production
from bot.services.use_case_ports import UseCaseCardData
from storage.compiled import CompiledReads
from storage.deployment_codec import placement_from_json
from storage.deployments import ACTIVE
from storage.kpi_models import MetricTargetRow
from storage.models import DeploymentRow, PhaseChangeRow, TeamMemberRow, UseCaseRow
from storage.repositories import to_domain

_SLUG = UseCaseRow.slug == bindparam("slug")
_NEWEST_REAL = (select(func.max(DeploymentRow.id))
                .join(UseCaseRow, UseCaseRow.id == DeploymentRow.use_case_id)
                .where(_SLUG, DeploymentRow.dry_run.is_(False)).scalar_subquery())
_STATEMENTS: tuple[Select[Any], ...] = (  # type: ignore[assignment]
    select(UseCaseRow.__table__).where(_SLUG),
    select(TeamMemberRow.__table__).join(UseCaseRow, UseCaseRow.id == TeamMemberRow.use_case_id)
    .where(_SLUG).order_by(TeamMemberRow.id),
    select(PhaseChangeRow.__table__).join(UseCaseRow, UseCaseRow.id == PhaseChangeRow.use_case_id)
    .where(_SLUG).order_by(PhaseChangeRow.at, PhaseChangeRow.id),
    select(MetricTargetRow.__table__.c.op, MetricTargetRow.__table__.c.value)
    .join(UseCaseRow, UseCaseRow.id == MetricTargetRow.use_case_id)
    .where(_SLUG, MetricTargetRow.name == UseCaseRow.kpi),
    # As SqlDeploymentRepository.production: the newest real deployment, if it placed anything.
    select(DeploymentRow.id, DeploymentRow.state, DeploymentRow.production)
    .where(DeploymentRow.id == _NEWEST_REAL, DeploymentRow.production.is_not(None)),
)


class SqlCardReads:
    def __init__(self, reads: CompiledReads) -> None:
        self._reads = reads
        self._compiled = [reads.compile(statement) for statement in _STATEMENTS]

    async def use_case_card(self, slug: str) -> UseCaseCardData | None:
        values = {"slug": slug}
        found, team, history, target, running = await self._reads.run(
            [(compiled, values) for compiled in self._compiled])
        if not found:
            return None
        production = running[0] if running else None
        return UseCaseCardData(
            to_domain(found[0], team, history),
            Target(target[0].op, target[0].value) if target else None,
            Production(placement_from_json(production.production), production.id,
                       production.state in ACTIVE) if production else None)
