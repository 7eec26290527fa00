"""The storage contract's fixture: one set of tests, run on the in-memory twin (tests/fakes),
SQLite and PostgreSQL, so the twin that service unit tests stand on behaves like storage; and an
empty database of each kind for the migration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import ManualClock
from bot.render.cards import slack_args
from bot.services.events import AfterCommit
from bot.services.ports import UnitOfWork
from bot.services.use_case_ports import CardReads
from storage.database import Database, make_engine
from tests.conftest import migrated_database
from tests.fakes.uow import InMemoryDatabase

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


@dataclass
class Store:
    """What a contract test sees of either storage."""

    kind: str
    uow: Callable[[], UnitOfWork]
    other: Callable[[], UnitOfWork]  # another process's connection to the same data
    backlog: Callable[[], Awaitable[int]]  # committed outbox messages waiting to be sent
    clock: ManualClock
    published: list[AfterCommit] = field(default_factory=list)
    cards: CardReads | None = None  # `/usecase show`'s read, outside a unit of work


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    clock = ManualClock(START)
    if request.param == "memory":
        memory = InMemoryDatabase(clock)

        async def pending() -> int:
            return len(memory.messages())

        yield Store("memory", memory.uow, memory.uow, pending, clock, memory.published,
                    cards=memory.cards)
        return
    with migrated_database(request.param, request, tmp_path) as url:
        published: list[AfterCommit] = []
        db = Database(url, clock, publish=published.extend, words=slack_args)
        other = Database(url, clock, words=slack_args)  # SQLite pools one connection per Database
        try:
            yield Store(request.param, db.uow, other.uow, other.outbox.backlog, clock, published,
                        cards=db.cards)
        finally:
            await other.dispose()
            await db.dispose()


@pytest.fixture
async def empty_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of the same kind with nothing in it (not even ``alembic_version``)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"bizdevops_empty_{uuid.uuid4().hex[:10]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
