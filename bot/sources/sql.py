"""A KPI from a SQL database (PostgreSQL or SQLite): one read-only query with a timeout that
must return exactly one finite number.

One small pool per named connection, made on first use. Whatever goes wrong becomes a
:class:`SourceFailure` that names the connection and says what came back or what the database
said, never the URL or its password.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.domain.kpis import SourceFailure, SqlSource
from storage import sqlite_driver

_GRACE = 2.0          # the database's own timeout (or SQLite's interrupt) should fire first
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cut off by statement_timeout
_SHOWN = 40           # characters of a text value quoted in a failure


class SqlReader:
    """Reads :class:`SqlSource` KPIs from the connections named in the KPI file."""

    def __init__(self, connection_urls: Mapping[str, str]) -> None:
        self._urls = dict(connection_urls)
        self._engines: dict[str, AsyncEngine] = {}

    # The timeout is the KPI's, as data: enforced here by the database and asyncio.timeout.
    async def read(self, source: SqlSource, timeout: float) -> float:  # noqa: ASYNC109
        """The query's one number; :class:`SourceFailure` with the reason otherwise."""
        name = source.connection
        engine = self._engine(name)
        try:
            async with asyncio.timeout(timeout + _GRACE):
                rows, width = await _run(engine, source.query, timeout)
        except TimeoutError:
            raise _too_slow(name, timeout) from None
        except DBAPIError as error:
            if _timed_out(error):
                raise _too_slow(name, timeout) from None
            said = _first_line(error.orig) if error.orig is not None else type(error).__name__
            raise SourceFailure(f"the query on `{name}` failed: {self._masked(name, said)}") from None
        except (OSError, SQLAlchemyError) as error:
            said = self._masked(name, _first_line(error))
            raise SourceFailure(f"cannot use the connection `{name}`: {said}") from None
        return single_number(rows, width)

    async def close(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.dispose()

    def _engine(self, name: str) -> AsyncEngine:
        if name not in self._engines:
            if name not in self._urls:
                raise SourceFailure(f"no connection named `{name}` in the KPI file")
            self._engines[name] = _create_engine(self._urls[name])
        return self._engines[name]

    def _masked(self, name: str, text: str) -> str:
        """``text`` without the connection's URL or password, should a driver have echoed them."""
        url = self._urls[name]
        for secret in (url, make_url(url).password):
            if secret:
                text = text.replace(str(secret), "***")
        return text


def single_number(rows: Sequence[Sequence[Any]], width: int) -> float:
    """The one finite number in one row of one column; SourceFailure saying what came instead."""
    if len(rows) != 1:
        got = "no rows" if not rows else f"{len(rows)} rows"
        raise SourceFailure(f"the query returned {got}; it must return exactly one")
    if width != 1:
        raise SourceFailure(f"the query returned {width} columns; it must return exactly one")
    value = rows[0][0]
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
        what = "NaN" if math.isnan(number) else "an infinite number"
    elif value is None:
        what = "NULL"
    elif isinstance(value, bool):
        what = f"a boolean ({str(value).lower()})"
    elif isinstance(value, str):
        what = f"text '{value if len(value) <= _SHOWN else value[:_SHOWN - 1] + '…'}'"
    else:
        what = f"a value of type {type(value).__name__}"
    raise SourceFailure(f"the query returned {what}; it must return a finite number")


async def _run(engine: AsyncEngine, query: str, seconds: float) -> tuple[list[Any], int]:
    """The rows and the number of columns, read-only, cut off after ``seconds``."""
    async with engine.connect() as conn:  # leaving it rolls the transaction back
        if engine.dialect.name == "sqlite":
            return await _sqlite_rows(conn, query, seconds)
        await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}")
        return await _rows(conn, query)


async def _sqlite_rows(conn: AsyncConnection, query: str, seconds: float) -> tuple[list[Any], int]:
    # SQLite has no statement timeout: interrupt the query from here when time is up. Cancelling
    # the task alone would leave it running in the connection's thread, holding the connection.
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection is open
    database = driver._conn  # the sqlite3 connection under aiosqlite's; interrupt() is thread-safe
    stop = asyncio.get_running_loop().call_later(seconds, database.interrupt)
    try:
        return await _rows(conn, query)
    finally:
        stop.cancel()


async def _rows(conn: AsyncConnection, query: str) -> tuple[list[Any], int]:
    # exec_driver_sql: the query goes to the database as written (no `:name` bind parameters).
    result = await conn.exec_driver_sql(query)
    if not result.returns_rows:
        raise SourceFailure("the query returned no rows (it is not a SELECT); it must return exactly one")
    return list(result.fetchall()), len(result.keys())


def _create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    options: dict[str, Any] = {"pool_size": 2, "max_overflow": 3, "pool_pre_ping": True}
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, **options)
    database = parsed.database or ":memory:"
    if database == ":memory:":
        options = {}  # a single shared connection (StaticPool): no pool to size
    elif not parsed.query:  # URI options (`?mode=ro`…) go the standard driver's way
        # mode=rw: a missing file is an error, not a new empty database.
        uri = Path(database).absolute().as_uri() + "?mode=rw"
        options["async_creator"] = lambda: sqlite_driver.connector(uri, uri=True, timeout=5)
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _query_only)
    return engine


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _timed_out(error: DBAPIError) -> bool:
    orig = error.orig
    return getattr(orig, "sqlstate", None) == _QUERY_CANCELED or str(orig) == "interrupted"


def _too_slow(name: str, timeout: float) -> SourceFailure:
    return SourceFailure(f"the query on `{name}` took longer than {timeout:g}s")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
