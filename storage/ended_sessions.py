"""Dashboard sessions signed out before their 12 hours were up (``POST /logout``; the
``ended_sessions`` table, migration 0023), so a copy of the cookie is refused in every process
sharing the database.

Only the sign-out writes, on the main connections, and deletes the rows long past their expiry
as it goes: the table holds at most about a day of sign-outs. The web guard reads on the pages'
own read-only connections, by primary key. An id is kept as its SHA-256: the table never holds
a session's secret. Each process remembers a few ended ids it has seen; ended is for good, so
nothing remembered can let a session through."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.claims import insert_once
from storage.ops_models import EndedSessionRow

REMEMBERED = 1024  # ended ids each process keeps in memory (the oldest forgotten first)
# A row outlives its session by this much before it is deleted: a process whose clock runs
# behind the deleting one's still finds it while it takes the session for unexpired.
GRACE = timedelta(hours=1)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqlEndedSessions:
    def __init__(self, writes: async_sessionmaker[AsyncSession],
                 reads: async_sessionmaker[AsyncSession]) -> None:
        self._writes = writes
        self._reads = reads
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest first

    async def end(self, session_id: str, expires_at: datetime, now: datetime) -> None:
        key = _key(session_id)
        async with self._writes.begin() as session:
            await session.execute(
                delete(EndedSessionRow).where(EndedSessionRow.expires_at < now - GRACE))
            await insert_once(session, EndedSessionRow, id=key, expires_at=expires_at)
        self._remember(key)

    async def ended(self, session_id: str) -> bool:
        key = _key(session_id)
        if key in self._seen:
            return True
        async with self._reads() as session:
            found = await session.scalar(select(EndedSessionRow.id).where(EndedSessionRow.id == key))
        if found is None:
            return False
        self._remember(key)
        return True

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        if len(self._seen) > REMEMBERED:
            del self._seen[next(iter(self._seen))]
