from __future__ import annotations

from sqlalchemy import text

from storage.database import make_engine
from storage.migrate import head_revision


async def test_database_is_migrated(database_url: str) -> None:
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM use_cases"))
        assert count == 0
        version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == head_revision()
    await engine.dispose()
