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
from typing import Any

import pytest
from sqlalchemy import column, select, table, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import ManualClock
from bot.domain import usecases
from storage import sqlite_driver
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
    """SQLite: `/usecase show`'s read waits for a lock in its connection's thread; the event
    loop runs on meanwhile. (Under WAL a reader is hardly ever kept waiting; a rollback journal
    lets a writer's exclusive lock show it.)"""
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
        assert await cards.use_case_card("churn") is not None  # opens its connection
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


async def test_card_reads_asked_together_share_trips_and_keep_their_own_answers(
        sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite: reads that arrive while one trip to the thread is under way go on the next one,
    together; each asker gets its own rows, and a read that fails fails alone."""
    path = tmp_path / "bizdevops.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}", ManualClock(NOW))
    trips = 0
    in_thread = sqlite_driver.OneTripConnection.in_thread

    async def counted(self: sqlite_driver.OneTripConnection, work: Any) -> Any:
        nonlocal trips
        trips += 1
        return await in_thread(self, work)

    monkeypatch.setattr(sqlite_driver.OneTripConnection, "in_thread", counted)
    try:
        async with db.uow() as uow:
            for i in range(20):
                await uow.use_cases.add(usecases.create(f"uc-{i}", f"Use case {i}", creator_id="U1",
                                                        channel_id="C1", now=NOW))
            await uow.commit()
        missing = db.compiled.compile(select(table("no_such_table", column("x"))))
        await db.cards.use_case_card("uc-0")  # opens the reads' connection
        trips = 0
        cards = await asyncio.gather(*(db.cards.use_case_card(f"uc-{i}") for i in range(20)),
                                     db.compiled.run([(missing, {})]), return_exceptions=True)
        assert [c.use_case.title for c in cards[:20]] == [f"Use case {i}" for i in range(20)]
        assert isinstance(cards[20], sqlite3.OperationalError)
        assert 1 <= trips < 21  # not one hand-over to the thread per read
    finally:
        await db.dispose()
