"""Where the bot last knew each MLflow alias to point (``model_aliases``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ops_models import ModelAliasRow


class SqlModelAliasRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def known(self, model: str, alias: str) -> str | None:
        return await self._session.scalar(select(ModelAliasRow.version).where(
            ModelAliasRow.model == model, ModelAliasRow.alias == alias))

    async def remember(self, model: str, alias: str, version: str | None, at: datetime) -> None:
        """``version`` None: the alias points nowhere (it was removed)."""
        if version is None:
            await self._session.execute(delete(ModelAliasRow).where(
                ModelAliasRow.model == model, ModelAliasRow.alias == alias))
            return
        bind = self._session.bind
        assert bind is not None
        insert = (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(
            ModelAliasRow).values(model=model, alias=alias, version=version, at=at)
        await self._session.execute(insert.on_conflict_do_update(
            index_elements=[ModelAliasRow.model, ModelAliasRow.alias],
            set_={"version": version, "at": at}))
