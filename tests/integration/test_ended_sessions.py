"""Dashboard sessions signed out (``ended_sessions``, migration 0023) on SQLite and PostgreSQL:
what one process records every other sees, the table keeps no session's id itself, each
sign-out deletes the rows long past their expiry, and the migration's downgrade drops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select

from bot.clock import ManualClock
from storage.database import Database, make_engine
from storage.ended_sessions import GRACE
from storage.migrate import upgrade
from storage.ops_models import EndedSessionRow
from tests.integration.test_migrations import alembic, schema_diff, table_names

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
LATER = START + timedelta(hours=12)


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' connections to one database."""
    first, second = Database(database_url, ManualClock(START)), Database(database_url, ManualClock(START))
    yield first, second
    await first.dispose()
    await second.dispose()


async def rows(db: Database) -> dict[str, datetime]:
    async with db.sessions() as session:
        return {r.id: r.expires_at for r in await session.scalars(select(EndedSessionRow))}


async def test_a_session_ended_in_one_process_is_ended_in_another(
        two: tuple[Database, Database]) -> None:
    here, there = two
    assert not await there.ended_sessions.ended("s-one")  # asked before: nothing cached as alive
    await here.ended_sessions.end("s-one", LATER, START)
    await here.ended_sessions.end("s-one", LATER, START)  # twice (a copy signed out too): one row
    assert await there.ended_sessions.ended("s-one") and await here.ended_sessions.ended("s-one")
    assert not await there.ended_sessions.ended("s-two")
    stored = await rows(here)
    assert list(stored.values()) == [LATER] and "s-one" not in stored
    assert all(len(key) == 64 for key in stored), "an id is kept as its SHA-256"


async def test_a_sign_out_deletes_the_rows_past_their_expiry(two: tuple[Database, Database]) -> None:
    here, there = two
    second = timedelta(seconds=1)
    await here.ended_sessions.end("early", START + timedelta(hours=1), START)
    await here.ended_sessions.end("late", LATER, START)
    await here.ended_sessions.end("next", LATER, START + timedelta(hours=1) + GRACE)
    assert len(await rows(here)) == 3, "expired, but within its grace (another clock may lag)"
    await here.ended_sessions.end("next", LATER, START + timedelta(hours=1) + GRACE + second)
    assert len(await rows(here)) == 2 and not await there.ended_sessions.ended("early")
    await there.ended_sessions.end("last", LATER + GRACE, LATER + GRACE + second)
    assert len(await rows(here)) == 1 and await there.ended_sessions.ended("last")
    assert not await there.ended_sessions.ended("late") and not await there.ended_sessions.ended("next")


async def test_0023_adds_the_table_and_its_downgrade_drops_it(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert "ended_sessions" in await table_names(engine)
        await alembic(engine, command.downgrade, "0022")
        assert "ended_sessions" not in await table_names(engine)
        await upgrade(engine)
        assert "ended_sessions" in await table_names(engine) and await schema_diff(engine) == []
    finally:
        await engine.dispose()
