"""The read-only connections heavy jobs read on (``Database.reads``), on SQLite and PostgreSQL.

Long reads must never hold a connection acknowledgements need: they get their own small pool
(on SQLite beside the one writing connection), whose connections refuse to write.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import ManualClock
from bot.domain import usecases
from storage.card_reads import SqlCardReads
from storage.compiled import CompiledReads
from storage.database import Database

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(NOW), read_connections=2)
    yield database
    await database.dispose()


async def test_reads_see_what_was_committed_and_cannot_write(db: Database) -> None:
    async with db.uow() as uow:
        await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1", channel_id="C1",
                                                now=NOW))
        await uow.commit()
    async with db.reads() as uow:
        assert await uow.use_cases.slugs() == ["churn"]
        with pytest.raises((OperationalError, DBAPIError), match="(?i)read.only|readonly"):
            await uow.session.execute(text("DELETE FROM use_cases"))
    async with db.uow() as uow:
        assert await uow.use_cases.slugs() == ["churn"]


async def test_a_long_read_holds_neither_the_writer_nor_the_main_pool(db: Database) -> None:
    """Both read connections busy in open transactions: writes and reads on the main
    connections go on meanwhile (on SQLite too, thanks to WAL)."""
    held = [await db.read_engine.connect() for _ in range(2)]
    try:
        for conn in held:
            await conn.execute(text("SELECT count(*) FROM use_cases"))  # a read in flight
        async with asyncio.timeout(5):
            async with db.uow() as uow:
                await uow.use_cases.add(usecases.create("fraud", "Fraud", creator_id="U1",
                                                        channel_id="C1", now=NOW))
                await uow.commit()
            async with db.uow() as uow:
                assert await uow.use_cases.slugs() == ["fraud"]
    finally:
        for conn in held:
            await conn.close()



async def test_pages_read_beside_the_heavy_jobs(db: Database) -> None:
    """Both heavy-job connections busy (digests asked at once): a dashboard page still reads, on
    read-only connections of its own."""
    async with db.uow() as uow:
        await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1", channel_id="C1",
                                                now=NOW))
        await uow.commit()
    held = [await db.read_engine.connect() for _ in range(2)]
    try:
        for conn in held:
            await conn.execute(text("SELECT count(*) FROM use_cases"))
        async with asyncio.timeout(5), db.page_reads() as uow:
            assert await uow.use_cases.slugs() == ["churn"]
            with pytest.raises((OperationalError, DBAPIError), match="(?i)read.only|readonly"):
                await uow.session.execute(text("DELETE FROM use_cases"))
    finally:
        for conn in held:
            await conn.close()




async def test_the_card_read_never_waits_on_the_event_loop_for_a_lock(
        sqlite_template: Path, tmp_path: Path) -> None:
    """SQLite: `/usecase show` reads right on the event loop, with a busy timeout of 0. When
    SQLite says busy, the read goes to a thread and waits there; the loop runs on meanwhile.
    (Under WAL a reader is hardly ever kept waiting; a rollback journal lets a writer's exclusive
    lock show it.)"""
    path = tmp_path / "bizdevops.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}", ManualClock(NOW))
    async with db.uow() as uow:
        await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1", channel_id="C1",
                                                now=NOW))
        await uow.commit()
    await db.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    reads = CompiledReads(engine)
    cards = SqlCardReads(reads)
    try:
        assert await cards.use_case_card("churn") is not None  # opens the loop's connection
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE use_cases SET title = 'Churn v2'")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(tick())
        reading = asyncio.create_task(cards.use_case_card("churn"))
        await asyncio.sleep(0.3)
        assert not reading.done() and ticks >= 10  # waiting in its thread, not on the loop
        holder.execute("COMMIT")
        card = await asyncio.wait_for(reading, 10)
        ticking.cancel()
        assert card is not None and card.use_case.title == "Churn v2"
    finally:
        holder.close()
        await reads.close()
        await engine.dispose()
