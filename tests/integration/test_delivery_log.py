"""A Slack delivery's key is written with the first change it makes, on SQLite and PostgreSQL:
a second handling of the same delivery cannot commit, a read-only one writes nothing, and one
that failed leaves no key behind (so Slack's retry of it is applied)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.domain import usecases
from bot.services.deliveries import handling
from bot.services.ports import DuplicateDelivery
from storage.database import Database
from storage.models import ProcessedRequestRow, UseCaseRow

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
T = TypeVar("T")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(START))
    yield database
    await database.dispose()


async def as_delivery(key: str, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` the way a listener runs: in its own context, handling ``key``."""
    async def run() -> T:
        handling(key)
        return await work()
    return await asyncio.create_task(run(), context=contextvars.Context())


async def count(db: Database, model: type[UseCaseRow] | type[ProcessedRequestRow]) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def create(db: Database, slug: str) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create(slug, "t", creator_id="U1", channel_id="C1",
                                                    now=START))
            await uow.commit()
    return work


async def test_the_first_change_records_the_delivery_and_a_second_handling_cannot_commit(
    db: Database,
) -> None:
    await as_delivery("trigger:1", create(db, "churn"))
    with pytest.raises(DuplicateDelivery):
        await as_delivery("trigger:1", create(db, "churn-again"))
    assert await count(db, UseCaseRow) == 1  # the second one's change was rolled back with it
    assert await db.requests.seen("trigger:1")


async def test_later_commits_of_the_same_delivery_go_through(db: Database) -> None:
    async def two_changes() -> None:
        await create(db, "one")()
        await create(db, "two")()
    await as_delivery("trigger:2", two_changes)
    assert await count(db, UseCaseRow) == 2
    assert await count(db, ProcessedRequestRow) == 1


async def test_a_read_only_delivery_writes_nothing(db: Database) -> None:
    async def read() -> None:
        async with db.uow() as uow:
            await uow.use_cases.find()
    await as_delivery("trigger:3", read)
    assert not await db.requests.seen("trigger:3")
    assert await count(db, ProcessedRequestRow) == 0


async def test_a_delivery_that_failed_leaves_no_key_and_its_retry_is_applied(db: Database) -> None:
    async def fails_half_way() -> None:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create("churn", "t", creator_id="U1", channel_id="C1",
                                                    now=START))
            raise RuntimeError("the process hit a bug before committing")
    with pytest.raises(RuntimeError):
        await as_delivery("trigger:4", fails_half_way)
    assert not await db.requests.seen("trigger:4")
    await as_delivery("trigger:4", create(db, "churn"))
    assert await count(db, UseCaseRow) == 1


async def test_work_outside_any_delivery_records_nothing(db: Database) -> None:
    await asyncio.create_task(create(db, "scheduled")(), context=contextvars.Context())
    assert await count(db, ProcessedRequestRow) == 0


@pytest.mark.postgres  # SQLite has one writer at a time: nothing would run at once
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_processes_handling_one_delivery_at_once_apply_it_once(
    database_url: str,
) -> None:
    """Two Database objects are two processes' pools: both transactions are open at once, the
    second one's key waits for the first to commit and then fails."""
    first, second = Database(database_url, ManualClock(START)), Database(database_url, ManualClock(START))
    both_open = asyncio.Barrier(2)

    def racing(db: Database, slug: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            async with db.uow() as uow:
                await uow.use_cases.add(usecases.create(slug, "t", creator_id="U1",
                                                        channel_id="C1", now=START))
                await both_open.wait()
                await uow.commit()
        return work

    try:
        results = await asyncio.gather(as_delivery("trigger:5", racing(first, "alpha")),
                                       as_delivery("trigger:5", racing(second, "bravo")),
                                       return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["DuplicateDelivery", "NoneType"]
        assert await count(first, UseCaseRow) == 1
    finally:
        await first.dispose()
        await second.dispose()
