"""Who wants direct messages about their own deployments (``notify_preferences``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ops_models import NotifyPreferenceRow


class SqlNotifyPreferences:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enabled(self, user_id: str) -> bool:
        """No row: the default, on."""
        found = await self._session.scalar(select(NotifyPreferenceRow.enabled).where(
            NotifyPreferenceRow.user_id == user_id))
        return True if found is None else bool(found)

    async def set(self, user_id: str, enabled: bool, now: datetime) -> None:
        bind = self._session.bind
        assert bind is not None
        insert = (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(
            NotifyPreferenceRow).values(user_id=user_id, enabled=enabled, updated_at=now)
        await self._session.execute(insert.on_conflict_do_update(
            index_elements=[NotifyPreferenceRow.user_id],
            set_={"enabled": enabled, "updated_at": now}))
