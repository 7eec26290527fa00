"""Run-once work (``claims``, the ``reminders`` table): an approval nudge, an overdue reminder,
a freeze's start or end, a registry delivery — whoever inserts ``(kind, key)`` first does it,
in any process, in the same transaction as what it writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, ReminderRow

KEY_LENGTH = 120  # the key column's width: longer keys are cut (the same cut on every read)


async def insert_once(session: AsyncSession, model: type[Base], **values: object) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True for the one writer whose row went in.

    Part of the caller's transaction (rolled back with it), unlike a savepoint, which SQLite's
    driver would commit at once.
    """
    bind = session.bind
    assert bind is not None
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(model).values(**values).on_conflict_do_nothing().returning(model.id))  # type: ignore[attr-defined]
    return result.first() is not None


class SqlClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, kind: str, key: str, now: datetime) -> bool:
        return await insert_once(self._session, ReminderRow, kind=kind, key=key[:KEY_LENGTH],
                                 sent_at=now)

    async def claimed(self, kind: str, keys: list[str]) -> set[str]:
        """Which of these were claimed already (one statement per thousand keys)."""
        found: set[str] = set()
        for start in range(0, len(keys), 1000):
            part = [k[:KEY_LENGTH] for k in keys[start:start + 1000]]
            found |= set(await self._session.scalars(
                select(ReminderRow.key).where(ReminderRow.kind == kind, ReminderRow.key.in_(part))))
        return found
