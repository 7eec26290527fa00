"""Reads on the hot path: Core statements compiled once, run on the driver's own connection.

A read through an ORM session builds its statement, looks up its compiled form by cache key,
hops into a greenlet and (on SQLite) to aiosqlite's thread once per statement: about 1.5 ms of
CPU for `/usecase show`'s five statements, half of the whole answer (benchmarks/hot_path.py).
Here a statement is compiled once per dialect, with its parameters' order and its columns' result
processors (the same SQLAlchemy types the ORM applies), and a batch of them runs:

- on SQLite, on a read-only connection's thread, each batch in one transaction (one snapshot);
  the batches that arrive while a trip is under way go together on the next one. The hand-over
  to the thread and back costs the loop more than the ~20 µs of reading; on the event loop
  itself the reads would cost less still, but a sqlite3 call lets go of the GIL, and taking it
  back behind busy threads (the digests' and the pages' reads) held the loop for 100–260 ms at
  a time (benchmarks/dashboard_pages.py, busy);
- on PostgreSQL, on an asyncpg connection of a small pool of its own (asyncpg prepares each
  statement once per connection).

Only reads, only of committed data: what a unit of work writes is read here once committed.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver

PG_CONNECTIONS = 4  # a read is ~1 ms on the server: four serve thousands a second


class Compiled:
    """One select, compiled for one dialect: its SQL, how to order its parameters, and how to turn
    the driver's rows into named rows of the values the ORM would give."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._names = tuple(compiled.positiontup or ())
        self._binds = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                       for name in set(self._names)}
        columns = list(statement.selected_columns)
        self._processors = [(i, p) for i, c in enumerate(columns)
                            if (p := _result_processor(c.type, dialect))]
        self._row = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name in self._names:
            value, bind = values[name], self._binds[name]
            out.append(bind(value) if bind else value)
        return tuple(out)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        if not self._processors:
            return [self._row(*r) for r in raw]
        rows = []
        for r in raw:
            values = list(r)
            for i, process in self._processors:
                values[i] = process(values[i])
            rows.append(self._row(*values))
        return rows


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The processor SQLAlchemy applies to a column's values. Some want the driver's type code,
    which only a cursor knows (asyncpg's numbers): the driver gives those as Python values
    already (a FLOAT column: a float), so they need none."""
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]
    except (InvalidRequestError, TypeError):  # "Unknown PG numeric type: %d" % None
        return None


Batch = Sequence[tuple[Compiled, Mapping[str, Any]]]


class CompiledReads:
    """Runs batches of compiled reads for one database URL; opened on first use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        self._through_engine = self.dialect.name == "sqlite" and _shared_only(engine)
        self._sqlite: sqlite_driver.OneTripConnection | None = None
        self._waiting: list[tuple[Statements, asyncio.Future[list[list[Any]]]]] = []
        self._trips: asyncio.Task[None] | None = None  # taking reads to the thread, while any wait
        self._pool: Any = None
        self._gone: tuple[type[BaseException], ...] = ()  # set with the pool
        self._opening = asyncio.Lock()

    def compile(self, statement: Select[Any]) -> Compiled:
        return Compiled(statement, self.dialect)

    async def run(self, batch: Batch) -> list[list[Any]]:
        """Each statement's rows, in order."""
        if self._through_engine:
            async with self._engine.connect() as conn:
                return [list((await conn.execute(c.statement, dict(values))).all())
                        for c, values in batch]
        raw = await (self._run_sqlite(batch) if self.dialect.name == "sqlite" else self._run_pg(batch))
        return [compiled.rows(rows) for (compiled, _), rows in zip(batch, raw, strict=True)]

    async def _run_sqlite(self, batch: Batch) -> list[list[Any]]:
        """Reads that arrive while a trip to the connection's thread is under way wait for the
        next one, and go together: under load one hand-over to the thread and back serves many
        answers instead of one each (a hand-over costs the loop more than the reads)."""
        answer: asyncio.Future[list[list[Any]]] = asyncio.get_running_loop().create_future()
        self._waiting.append(([(c.sql, c.parameters(values)) for c, values in batch], answer))
        if self._trips is None:
            self._trips = asyncio.create_task(self._take_trips())
        return await answer

    async def _take_trips(self) -> None:
        group: list[tuple[Statements, asyncio.Future[list[list[Any]]]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                asked = [statements for statements, _answer in group]
                try:
                    connection = self._sqlite or await self._open(self._open_sqlite)
                    done = await connection.in_thread(
                        lambda db, asked=asked: [_one_snapshot(db, s) for s in asked])
                except Exception as error:  # noqa: BLE001 - e.g. no database: said to each asker
                    done = [error] * len(group)
                for (_statements, answer), rows in zip(group, done, strict=True):
                    if answer.done():  # its asker gave up (cancelled)
                        continue
                    if isinstance(rows, Exception):
                        answer.set_exception(rows)
                    else:
                        answer.set_result(rows)
        finally:  # cancelled (shutting down): nobody is left waiting for an answer
            for _statements, answer in [*group, *self._waiting]:
                answer.cancel()
            self._waiting, self._trips = [], None

    async def _run_pg(self, batch: Batch) -> list[list[Any]]:
        pool = self._pool or await self._open(self._open_pg)
        gone = self._gone
        for attempt in (1, 2):
            async with pool.acquire() as connection:
                try:
                    return [await connection.fetch(c.sql, *c.parameters(values))
                            for c, values in batch]
                except gone:
                    # A connection the server closed (a restart, an administrator): the pool
                    # opens another in its place, and a read may be asked again, once.
                    connection.terminate()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def _open(self, opener: Callable[[], Any]) -> Any:
        async with self._opening:
            return await opener()

    async def _open_sqlite(self) -> sqlite_driver.OneTripConnection:
        if self._sqlite is None:
            database = str(self._engine.url.database)
            connection = sqlite_driver.connector(database, timeout=30, isolation_level=None)
            await connection  # opens it
            await connection.in_thread(_read_only)
            self._sqlite = connection
        return self._sqlite

    async def _open_pg(self) -> Any:
        if self._pool is None:
            import asyncpg

            # What a connection the server closed raises (a restart, an administrator).
            self._gone = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                          asyncpg.exceptions.OperatorInterventionError,
                          asyncpg.InternalClientError, OSError)
            args, kwargs = self.dialect.create_connect_args(self._engine.url)
            self._pool = await asyncpg.create_pool(*args, min_size=1, max_size=PG_CONNECTIONS,
                                                   init=_json_codecs, **kwargs)
        return self._pool

    async def close(self) -> None:
        if self._trips is not None:
            self._trips.cancel()
            await asyncio.gather(self._trips, return_exceptions=True)
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


Statements = list[tuple[str, tuple[Any, ...]]]


def _one_snapshot(db: sqlite3.Connection, statements: Statements) -> list[list[Any]] | Exception:
    """One batch's rows, read in one transaction (one snapshot; WAL: never waits on writers);
    its failure is its own, not the other batches' of the trip."""
    try:
        db.execute("BEGIN")
        try:
            return [db.execute(sql, parameters).fetchall() for sql, parameters in statements]
        finally:
            db.execute("COMMIT")
    except Exception as error:  # noqa: BLE001 - handed to the one who asked
        return error


def _shared_only(engine: AsyncEngine) -> bool:
    """An in-memory database exists only on the engine's own connection; URI options go the
    standard driver's way (storage.database.make_engine): both are read through the engine."""
    url = engine.url
    return not url.database or url.database == ":memory:" or bool(url.query)


async def _json_codecs(connection: Any) -> None:
    """JSON columns decoded as SQLAlchemy's asyncpg dialect has them decoded (its own codecs)."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads,
                                        schema="pg_catalog")


def _read_only(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA query_only=ON")
