"""aiosqlite, with one trip to its thread per statement instead of four.

aiosqlite runs each sqlite3 call in its worker thread: SQLAlchemy's adapter makes four of them
per statement (open a cursor, execute, fetch, close) and one more per commit or rollback, even
with no transaction open. Each trip hands the GIL to the thread and back and wakes the event
loop; under load that was most of what SQLite cost over PostgreSQL (benchmarks/ack_latency.py).
Here a statement is executed, fetched and closed in one trip, and a commit or rollback with no
transaction open makes none.

Given to SQLAlchemy as ``async_creator`` (``storage.database.make_engine``); the dialect, its
adapter and its error mapping stay SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

Row = tuple[Any, ...]


class OneTripCursor:
    """What SQLAlchemy's aiosqlite adapter uses of a cursor, with every row read at execute."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Row] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> OneTripCursor:
        return await self._run(lambda cursor: cursor.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        return await self._run(lambda cursor: cursor.executemany(sql, parameters))

    async def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []

    async def _run(self, execute: Any) -> OneTripCursor:
        def one_trip(db: sqlite3.Connection) -> tuple[list[Row], Any, int, int | None]:
            cursor = db.cursor()
            try:
                execute(cursor)
                rows = cursor.fetchall() if cursor.description else []
                return rows, cursor.description, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        found = await self._connection.in_thread(one_trip)
        self._rows, self.description, self.rowcount, self.lastrowid = found
        return self


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def in_thread(self, work: Any) -> Any:
        """Run ``work(sqlite3_connection)`` in the connection's thread: one trip."""
        return await self._execute(lambda: work(self._conn))

    async def commit(self) -> None:
        if self._open_transaction():
            await super().commit()

    async def rollback(self) -> None:
        if self._open_transaction():
            await super().rollback()

    async def _connect(self) -> aiosqlite.Connection:
        """As aiosqlite's, but a connection that could not open waits for its thread to stop:
        aiosqlite asks the thread to stop without waiting, and a thread that answers after the
        event loop closed fails with "Event loop is closed" (a missing database file, then exit)."""
        try:
            return await super()._connect()
        except BaseException:
            stopping = getattr(self, "_stopping", None)
            if stopping is not None:
                await asyncio.wait([stopping], timeout=5)
                # It answered; now let it return (a busy machine may not have run it yet).
                await asyncio.to_thread(self._thread.join, 5)
            raise

    def stop(self) -> asyncio.Future[Any] | None:
        self._stopping = super().stop()
        return self._stopping

    def _open_transaction(self) -> bool:
        # Safe from the loop's thread: SQLAlchemy runs one thing at a time on a connection,
        # and reading the flag (sqlite3_get_autocommit) takes no thread check.
        return self._connection is None or self._connection.in_transaction


def connector(database: str, **kwargs: Any) -> OneTripConnection:
    """An unstarted connection to ``database``; SQLAlchemy awaits it, which opens it."""
    connection = OneTripConnection(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does: a pool left open must not hang exit
    return connection
