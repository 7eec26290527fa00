"""Digest schedules and the claim of each (channel, fire time)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.ports import DigestSchedule
from storage.claims import insert_once
from storage.models import DigestRunRow, DigestScheduleRow


class SqlDigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def schedule(self, channel_id: str) -> DigestSchedule | None:
        row = await self._session.get(DigestScheduleRow, channel_id)
        return None if row is None else _schedule(row)

    async def schedules(self) -> list[DigestSchedule]:
        rows = await self._session.scalars(select(DigestScheduleRow).order_by(DigestScheduleRow.channel_id))
        return [_schedule(r) for r in rows]

    async def set_schedule(self, s: DigestSchedule) -> None:
        row = await self._session.get(DigestScheduleRow, s.channel_id)
        if row is None:
            self._session.add(DigestScheduleRow(channel_id=s.channel_id, cron=s.cron,
                                                timezone=s.timezone, created_by=s.created_by,
                                                created_at=s.created_at))
        else:
            row.cron, row.timezone, row.created_by, row.created_at = (
                s.cron, s.timezone, s.created_by, s.created_at)
        await self._session.flush()

    async def remove_schedule(self, channel_id: str) -> bool:
        result = await self._session.execute(
            delete(DigestScheduleRow).where(DigestScheduleRow.channel_id == channel_id)
            .returning(DigestScheduleRow.channel_id))
        return result.scalar_one_or_none() is not None

    async def claim_run(self, channel_id: str, fire_time: datetime, now: datetime) -> bool:
        """True for the one process that records this (channel, fire time) first."""
        return await insert_once(self._session, DigestRunRow, channel_id=channel_id, fire_time=fire_time,
                                       posted_at=now)

    async def has_run(self, channel_id: str, fire_time: datetime) -> bool:
        return await self._session.scalar(
            select(DigestRunRow.id).where(DigestRunRow.channel_id == channel_id,
                                          DigestRunRow.fire_time == fire_time)) is not None

    async def last_run(self, channel_id: str) -> datetime | None:
        """When the last digest of this channel was posted (scheduled or `now`)."""
        return await self._session.scalar(
            select(func.max(DigestRunRow.posted_at)).where(DigestRunRow.channel_id == channel_id))


def _schedule(row: DigestScheduleRow) -> DigestSchedule:
    return DigestSchedule(row.channel_id, row.cron, row.timezone, row.created_by, row.created_at)
