"""Ad hoc freeze windows (``freezes``): a use case's (its slug) or everybody's ("*")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.freeze_ports import StoredFreeze
from storage.ops_models import FreezeRow


class SqlFreezeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, freeze: StoredFreeze) -> None:
        self._session.add(FreezeRow(scope=freeze.scope, starts_at=freeze.starts_at,
                                    ends_at=freeze.ends_at, reason=freeze.reason,
                                    created_by=freeze.created_by))
        await self._session.flush()

    async def current(self, scopes: list[str] | None, now: datetime) -> list[StoredFreeze]:
        """The windows of these scopes (None: all) not over at ``now`` (index: scope, ends_at)."""
        query = select(FreezeRow).where(FreezeRow.ends_at > now)
        if scopes is not None:
            query = query.where(FreezeRow.scope.in_(scopes))
        return _stored(await self._session.scalars(query.order_by(FreezeRow.starts_at, FreezeRow.id)))

    async def ended(self, since: datetime, now: datetime) -> list[StoredFreeze]:
        """The windows that ended in ``(since, now]`` (index: ends_at)."""
        query = select(FreezeRow).where(FreezeRow.ends_at > since, FreezeRow.ends_at <= now)
        return _stored(await self._session.scalars(query.order_by(FreezeRow.ends_at, FreezeRow.id)))

    async def end(self, scope: str, now: datetime) -> list[int]:
        """Unfreeze: the scope's open windows end now; their ids."""
        done = await self._session.scalars(
            update(FreezeRow).where(FreezeRow.scope == scope, FreezeRow.ends_at > now,
                                    FreezeRow.starts_at <= now).values(ends_at=now)
            .returning(FreezeRow.id))
        return sorted(done)


def _stored(rows: Iterable[FreezeRow]) -> list[StoredFreeze]:
    return [StoredFreeze(r.scope, r.starts_at, r.ends_at, r.reason, r.created_by, r.id)
            for r in rows]
