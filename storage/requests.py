"""Which Slack deliveries were handled already, so a retry is acknowledged but not applied.

A command or a click is recorded in the same transaction as the first change it makes, so
"applied" and "recorded" can never disagree: a delivery that failed half-way is not marked
handled, and a read-only one costs no write. Events are recorded up front (their effects are
mostly Web API calls, not rows).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.ports import DuplicateDelivery
from storage.models import ProcessedRequestRow


@dataclass
class Delivery:
    key: str
    claimed: bool = False  # a commit on its behalf carries (or carried) the key


# The delivery the current task handles; tasks it starts inherit it with the asyncio context.
_current: ContextVar[Delivery | None] = ContextVar("slack_delivery", default=None)


def handling(key: str) -> None:
    """Mark the rest of this task as work on behalf of the Slack delivery ``key``."""
    _current.set(Delivery(_stored(key)))


def _stored(key: str) -> str:
    return key[:80]  # the column's width; Slack's ids are far shorter


async def record_with_commit(session: AsyncSession, now: datetime) -> Delivery | None:
    """Add the current delivery's key to the transaction about to commit, the first time.

    Returns the delivery claimed (``release`` it if the commit fails). A key there already
    means another handling of this delivery committed first: raises ``DuplicateDelivery``.
    """
    delivery = _current.get()
    if delivery is None or delivery.claimed:
        return None
    delivery.claimed = True
    connection = await session.connection()  # not session.execute: no autoflush to blame
    try:
        await connection.execute(insert(ProcessedRequestRow).values(key=delivery.key, at=now))
    except IntegrityError as seen:
        raise DuplicateDelivery(delivery.key) from seen
    return delivery


def release(delivery: Delivery | None) -> None:
    if delivery is not None:
        delivery.claimed = False


class RequestLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def first(self, key: str, now: datetime) -> bool:
        """Record ``key`` now: True the first time it is seen (in any process), else False."""
        try:
            async with self._sessions.begin() as session:
                session.add(ProcessedRequestRow(key=_stored(key), at=now))
        except IntegrityError:
            return False
        return True

    def handling(self, key: str) -> None:
        handling(key)

    async def seen(self, key: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(ProcessedRequestRow.key).where(ProcessedRequestRow.key == _stored(key)))
            return found is not None

    async def forget_before(self, moment: datetime) -> int:
        """Slack retries within minutes; keys older than that only take room."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedRequestRow).where(ProcessedRequestRow.at < moment))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
