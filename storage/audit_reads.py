"""The audit export's reads (``bot.services.read_ports.AuditReads``): deployment events with
their deployment, a page at a time in order of time, keyset-paged on (at, id) — by the index on
the events' time, or by one use case's deployments (``deployments.slug``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.audit import AuditEvent, AuditFilter
from storage.models import DeploymentEventRow, DeploymentRow

E, D = DeploymentEventRow, DeploymentRow


class SqlAuditReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def events(self, where: AuditFilter, after: tuple[datetime, int] | None,
                     limit: int) -> list[AuditEvent]:
        query = (select(E.id, E.at, E.actor, D.slug, E.deployment_id, E.kind, E.stage, E.wave,
                        E.detail, D.version, D.pipeline, D.dry_run, D.kind)
                 .join(D, D.id == E.deployment_id))
        if where.since is not None:
            query = query.where(E.at > where.since)
        if where.until is not None:
            query = query.where(E.at <= where.until)
        if where.use_case is not None:
            query = query.where(D.slug == where.use_case)
        if after is not None:
            query = query.where(tuple_(E.at, E.id) > tuple_(*after))
        rows = await self._session.execute(query.order_by(E.at, E.id).limit(limit))
        return [AuditEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] or "", r[9], r[10],
                           bool(r[11]), r[12] == "rollback") for r in rows]
