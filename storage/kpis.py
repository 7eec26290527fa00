"""Continuous KPIs: the claim of each (KPI, fire time) and each source's health.

A claim is an insert that only one process wins (the unique key); a status write is guarded by
the ``failing`` flag it read, so a failure or a recovery is announced by one pull only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.kpis import SourceStatus
from storage.kpi_models import KpiPullRow, KpiSourceStatusRow
from storage.models import UseCaseRow

_STATUS = KpiSourceStatusRow


class SqlKpiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _insert(self, model: type[Any]) -> Any:
        bind = self._session.bind
        assert bind is not None
        return (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(model)

    async def _use_case_id(self, slug: str) -> int | None:
        return await self._session.scalar(select(UseCaseRow.id).where(UseCaseRow.slug == slug))

    async def claim_pull(self, slug: str, name: str, fire_time: datetime, now: datetime) -> bool:
        use_case_id = await self._use_case_id(slug)
        if use_case_id is None:
            return False
        won = await self._session.execute(
            self._insert(KpiPullRow).values(use_case_id=use_case_id, name=name, fire_time=fire_time,
                                            claimed_at=now)
            .on_conflict_do_nothing().returning(KpiPullRow.id))
        if won.first() is None:
            return False
        insert = self._insert(_STATUS).values(use_case_id=use_case_id, name=name, failing=False,
                                              error="", last_fire=fire_time)
        await self._session.execute(insert.on_conflict_do_update(
            index_elements=[_STATUS.use_case_id, _STATUS.name],
            set_={"last_fire": insert.excluded.last_fire},
            where=or_(_STATUS.last_fire.is_(None), _STATUS.last_fire < insert.excluded.last_fire)))
        return True

    async def statuses(self, slugs: Collection[str]) -> dict[tuple[str, str], SourceStatus]:
        rows = await self._session.execute(
            select(UseCaseRow.slug, _STATUS).join(UseCaseRow, UseCaseRow.id == _STATUS.use_case_id)
            .where(UseCaseRow.slug.in_(list(slugs))))
        return {(slug, row.name): SourceStatus(row.failing, row.last_run, row.last_value, row.error,
                                               row.since, row.last_fire)
                for slug, row in rows}

    async def save_status(self, slug: str, name: str, status: SourceStatus, *,
                          was_failing: bool | None) -> bool:
        use_case_id = await self._use_case_id(slug)
        if use_case_id is None:
            return False
        values = {"failing": status.failing, "last_run": status.last_run,
                  "last_value": status.last_value, "error": status.error, "since": status.since}
        if was_failing is not None:
            changed = await self._session.execute(
                update(_STATUS).where(_STATUS.use_case_id == use_case_id, _STATUS.name == name,
                                      _STATUS.failing == was_failing).values(**values))
            return bool(changed.rowcount)  # type: ignore[attr-defined]
        inserted = await self._session.execute(
            self._insert(_STATUS).values(use_case_id=use_case_id, name=name,
                                         last_fire=status.last_fire, **values)
            .on_conflict_do_nothing().returning(_STATUS.name))
        return inserted.first() is not None

    async def forget_pulls_before(self, moment: datetime) -> None:
        await self._session.execute(delete(KpiPullRow).where(KpiPullRow.claimed_at < moment))
