"""Which Slack deliveries were handled already, so a retry is acknowledged but not applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ProcessedRequestRow


class RequestLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def first(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` is seen (in any process); False for a repeat."""
        try:
            async with self._sessions.begin() as session:
                session.add(ProcessedRequestRow(key=key[:80], at=now))
        except IntegrityError:
            return False
        return True

    async def forget_before(self, moment: datetime) -> int:
        """Slack retries within minutes; keys older than that only take room."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedRequestRow).where(ProcessedRequestRow.at < moment))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
