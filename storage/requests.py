"""Which Slack deliveries were handled already, so a retry is acknowledged but not applied.

A command or a click is recorded in the same transaction as the first change it makes
(bot.services.deliveries, ``SqlUnitOfWork.claim_delivery``), so "applied" and "recorded" can
never disagree: a delivery that failed half-way is not marked handled, and a read-only one
costs no write. Events are recorded up front (their effects are mostly Web API calls, not rows).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import deliveries
from bot.services.deliveries import KEY_LENGTH, Delivery
from bot.services.ports import DuplicateDelivery
from storage.models import ProcessedRequestRow


async def claim_delivery(session: AsyncSession, now: datetime) -> Delivery | None:
    """Add the current delivery's key to the transaction about to commit, the first time.

    Returns the delivery claimed (``deliveries.release`` it if the commit fails). A key there
    already means another handling of this delivery committed first: ``DuplicateDelivery``.
    """
    delivery = deliveries.to_claim()
    if delivery is None:
        return None
    connection = await session.connection()  # not session.execute: no autoflush to blame
    try:
        await connection.execute(insert(ProcessedRequestRow).values(key=delivery.key, at=now))
    except IntegrityError as seen:
        raise DuplicateDelivery(delivery.key) from seen
    return delivery


class RequestLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def first(self, key: str, now: datetime) -> bool:
        """Record ``key`` now: True the first time it is seen (in any process), else False."""
        try:
            async with self._sessions.begin() as session:
                session.add(ProcessedRequestRow(key=key[:KEY_LENGTH], at=now))
        except IntegrityError:
            return False
        return True

    def handling(self, key: str) -> None:
        deliveries.handling(key)

    async def seen(self, key: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(ProcessedRequestRow.key).where(ProcessedRequestRow.key == key[:KEY_LENGTH]))
            return found is not None

    async def forget_before(self, moment: datetime) -> int:
        """Slack retries within minutes; keys older than that only take room."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedRequestRow).where(ProcessedRequestRow.at < moment))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
