"""A SQL KPI source against real databases: a SQLite file and a PostgreSQL "warehouse" of its own.

One finite number passes; anything else, a write, a slow query or a database error is a
SourceFailure that says what happened, names the connection and never shows the password.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.domain.kpis import SourceFailure, SqlSource
from bot.sources.sql import SqlReader, single_number
from tests.conftest import PG_URL, REQUIRE_PG, _admin

PASSWORD = "s3cret-pw-4711"  # put in the PostgreSQL URL (trust auth ignores it); it must never show


@dataclass
class Warehouse:
    kind: str
    url: str
    password: str
    reader: SqlReader

    async def read(self, query: str, seconds: float = 10) -> float:
        return await self.reader.read(SqlSource("warehouse", query), seconds)

    async def failure(self, query: str, seconds: float = 10) -> str:
        with pytest.raises(SourceFailure) as failed:
            await self.read(query, seconds)
        return str(failed.value)

    async def scalar(self, query: str) -> object:
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text(query))).scalar_one()
        finally:
            await engine.dispose()


async def _fill(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE churn_eval (customer INTEGER, score NUMERIC(6, 3))"))
            await conn.execute(text("INSERT INTO churn_eval VALUES (1, 0.8), (2, 0.85), (3, 0.9)"))
    finally:
        await engine.dispose()


async def _postgres_warehouse() -> tuple[str, str]:
    """A database of its own on the test server: its name and URL (with a password)."""
    name = f"bizdevops_warehouse_{uuid.uuid4().hex[:10]}"
    try:
        await _admin([f'CREATE DATABASE "{name}"'])
    except Exception as down:  # noqa: BLE001 - any failure means "no server"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}: {down}")
        pytest.skip(f"PostgreSQL not available at {PG_URL}")
    url = make_url(PG_URL).set(database=name)
    url = url if url.password else url.set(password=PASSWORD)
    return name, url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Warehouse]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'warehouse.db'}"
    else:
        name, url = await _postgres_warehouse()
    reader = SqlReader({"warehouse": url})
    try:
        await _fill(url)
        yield Warehouse(request.param, url, make_url(url).password or "", reader)
    finally:
        await reader.close()
        if name:
            await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


# ── numbers ──────────────────────────────────────────────────────────────────────────────────

async def test_one_number_is_read(warehouse: Warehouse) -> None:
    assert await warehouse.read("SELECT avg(score) FROM churn_eval") == pytest.approx(0.85)
    # No bind parameters, no %-formatting: the query goes to the database as written.
    assert await warehouse.read("SELECT max(score) FROM churn_eval WHERE ':x ? %s' <> '%'") \
        == pytest.approx(0.9)


@pytest.mark.parametrize(("query", "value"), [
    ("SELECT count(*) FROM churn_eval", 3.0),
    ("SELECT -42", -42.0),
    ("SELECT CAST(0.83 AS NUMERIC(4, 2))", 0.83),
    ("SELECT 1.5e6", 1.5e6),
])
async def test_ints_and_decimals_are_numbers(warehouse: Warehouse, query: str, value: float) -> None:
    assert await warehouse.read(query) == pytest.approx(value)


@pytest.mark.parametrize(("query", "problem"), [
    ("SELECT score FROM churn_eval", "the query returned 3 rows; it must return exactly one"),
    ("SELECT score FROM churn_eval WHERE customer > 99",
     "the query returned no rows; it must return exactly one"),
    ("SELECT customer, score FROM churn_eval WHERE customer = 1",
     "the query returned 2 columns; it must return exactly one"),
    ("SELECT max(score) FROM churn_eval WHERE customer > 99",
     "the query returned NULL; it must return a finite number"),
    ("SELECT 'abc'", "the query returned text 'abc'; it must return a finite number"),
    ("SELECT 9e999", "the query returned an infinite number; it must return a finite number"),
])
async def test_anything_but_one_number_fails_saying_what_came(warehouse: Warehouse, query: str,
                                                              problem: str) -> None:
    assert await warehouse.failure(query) == problem


async def test_nan_fails(warehouse: Warehouse) -> None:
    # SQLite stores NaN as NULL; PostgreSQL has it.
    query = "SELECT CAST('NaN' AS DOUBLE PRECISION)" if warehouse.kind == "postgresql" else "SELECT 0.0 / 0"
    nan = "NaN" if warehouse.kind == "postgresql" else "NULL"
    assert await warehouse.failure(query) == f"the query returned {nan}; it must return a finite number"


# ── read-only, with a timeout ────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("query", [
    "INSERT INTO churn_eval VALUES (4, 0.1)",
    "UPDATE churn_eval SET score = 0",
    "DELETE FROM churn_eval RETURNING score",
    "CREATE TABLE sneaky (x INTEGER)",
])
async def test_a_write_is_refused(warehouse: Warehouse, query: str) -> None:
    problem = await warehouse.failure(query)
    refusal = ("in a read-only transaction" if warehouse.kind == "postgresql"
               else "attempt to write a readonly database")
    assert problem.startswith("the query on `warehouse` failed: ") and refusal in problem
    assert await warehouse.scalar("SELECT count(*) FROM churn_eval WHERE score > 0") == 3


async def test_a_slow_query_times_out_and_the_connection_goes_on(warehouse: Warehouse) -> None:
    slow = ("SELECT pg_sleep(5)" if warehouse.kind == "postgresql" else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n")
    started = time.monotonic()
    assert await warehouse.failure(slow, seconds=1) == "the query on `warehouse` took longer than 1s"
    assert time.monotonic() - started < 3
    for _ in range(3):  # every pooled connection still works: the slow query was stopped
        assert await warehouse.read("SELECT count(*) FROM churn_eval", seconds=1) == 3


# ── errors ───────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("query", "said"), [
    ("SELECT * FROM missing_table", "missing_table"),
    ("SELEC 1", "SELEC"),
    ("SELECT 1; SELECT 2", ""),
])
async def test_a_bad_query_names_the_connection_and_what_the_database_said(
        warehouse: Warehouse, query: str, said: str) -> None:
    problem = await warehouse.failure(query)
    assert problem.startswith("the query on `warehouse` failed: ") and said in problem
    assert warehouse.url not in problem
    assert not warehouse.password or warehouse.password not in problem


async def test_the_secret_is_masked_even_when_the_database_repeats_it(warehouse: Warehouse) -> None:
    secret = warehouse.password or warehouse.url  # a SQLite URL has no password: mask it whole
    problem = await warehouse.failure(f'SELECT * FROM "{secret}"')
    assert problem == {"postgresql": 'the query on `warehouse` failed: relation "***" does not exist',
                       "sqlite": "the query on `warehouse` failed: no such table: ***"}[warehouse.kind]


async def test_a_missing_sqlite_file_fails_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    reader = SqlReader({"lake": f"sqlite+aiosqlite:///{missing}"})
    try:
        with pytest.raises(SourceFailure, match="^the query on `lake` failed: unable to open database file$"):
            await reader.read(SqlSource("lake", "SELECT 1"), 5)
    finally:
        await reader.close()
    assert not missing.exists()


async def test_a_server_that_is_down_names_the_connection_not_the_url() -> None:
    reader = SqlReader({"mart": f"postgresql+asyncpg://kpi:{PASSWORD}@127.0.0.1:1/mart"})
    try:
        with pytest.raises(SourceFailure, match="^cannot use the connection `mart`: ") as failed:
            await reader.read(SqlSource("mart", "SELECT 1"), 5)
    finally:
        await reader.close()
    assert PASSWORD not in str(failed.value)


async def test_an_unknown_connection_fails() -> None:
    with pytest.raises(SourceFailure, match="^no connection named `nope` in the KPI file$"):
        await SqlReader({}).read(SqlSource("nope", "SELECT 1"), 5)


@pytest.mark.parametrize(("value", "number"), [
    (1, 1.0), (0.5, 0.5), (Decimal("0.83"), 0.83), (-3, -3.0),
])
def test_single_number_takes_ints_floats_and_decimals(value: object, number: float) -> None:
    assert single_number([(value,)], 1) == number


@pytest.mark.parametrize(("value", "what"), [
    (True, "a boolean (true)"), (float("nan"), "NaN"), (Decimal("NaN"), "NaN"),
    (float("-inf"), "an infinite number"), (b"1", "a value of type bytes"),
    ("x" * 50, "text '" + "x" * 39 + "…'"),
])
def test_single_number_says_what_came_instead(value: object, what: str) -> None:
    with pytest.raises(SourceFailure) as failed:
        single_number([(value,)], 1)
    assert str(failed.value) == f"the query returned {what}; it must return a finite number"
