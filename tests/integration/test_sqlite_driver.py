"""The one-trip aiosqlite connection behind SQLAlchemy: same results, fewer trips to its thread."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.database import make_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every trip to a connection's thread, by what it ran."""
    made: list[str] = []
    original = sqlite_driver.OneTripConnection._execute

    async def counted(self: sqlite_driver.OneTripConnection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.OneTripConnection, "_execute", counted)
    return made


async def test_rows_rowcount_and_lastrowid_come_back_as_sqlite_gives_them(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await conn.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id, name"))
        assert returned.all() == [(4, "d")]
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.all() == [(1, "a"), (2, "b!"), (3, "c!"), (4, "d")]
        many = await conn.execute(text("SELECT id FROM t ORDER BY id"))
        assert many.fetchmany(3) == [(1,), (2,), (3,)]
        assert many.fetchone() == (4,)
        assert many.fetchone() is None


async def test_a_rollback_undoes_the_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))
        await conn.rollback()
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 0


async def test_errors_are_sqlalchemys_and_leave_the_connection_usable(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        await conn.rollback()
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
        await conn.rollback()
        assert await conn.scalar(text("SELECT name FROM t")) == "x"


async def test_a_read_is_one_trip_and_a_write_adds_only_its_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT count(*) FROM t"))
        await conn.rollback()  # nothing is open: no trip
    assert len(trips) == 1

    trips.clear()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('y')"))
    assert trips == ["<lambda>", "commit"]


async def test_a_connection_that_cannot_open_has_stopped_its_thread_when_it_says_so(
    tmp_path: Path,
) -> None:
    """aiosqlite asks the thread to stop without waiting: answering a loop that closed meanwhile
    (a test ending, a process exiting) failed with "Event loop is closed" in that thread."""
    connection = sqlite_driver.connector(str(tmp_path / "no" / "such" / "dir.db"))
    with pytest.raises(sqlite3.OperationalError):
        await connection
    assert not connection._thread.is_alive()
