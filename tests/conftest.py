"""Shared fixtures: a freshly migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL tests need ``BIZDEVOPS_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Without a server they are skipped — unless ``BIZDEVOPS_REQUIRE_POSTGRES=1`` (CI),
where a missing server fails the run. Each test gets its own database cloned from a migrated
template, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.config import Settings
from storage.database import make_engine
from storage.migrate import upgrade
from tests.servers.mlflow import mlflow_server  # noqa: F401 - real servers, for any test module
from tests.servers.prometheus import prometheus_server  # noqa: F401

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("BIZDEVOPS_TEST_POSTGRES_URL", DEFAULT_PG)
REQUIRE_PG = os.environ.get("BIZDEVOPS_REQUIRE_POSTGRES") == "1"
TEMPLATE = f"bizdevops_tmpl_{uuid.uuid4().hex[:8]}"
T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run set-up code on its own loop in a thread: callable from sync and async fixtures alike."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(statements: list[str]) -> None:
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _pg_url(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# What a test may change besides rows: if any of it differs afterwards, the database is dropped.
_SCHEMA = """
    SELECT string_agg(item, ',' ORDER BY item) FROM (
        SELECT table_name || '.' || column_name || ':' || data_type AS item
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT 'version:' || version_num FROM alembic_version
    ) AS schema
"""


class PostgresDatabases:
    """Empty migrated databases, one per test: cloned from the template, emptied and reused.

    A clone takes ~175 ms and a drop ~75 ms; done for every test that was a quarter of the suite.
    Emptying a used database (TRUNCATE) takes ~60 ms, in a thread while the next test runs.
    One whose schema a test changed (the migration tests) is dropped instead.
    """

    def __init__(self, template: str) -> None:
        self._template = template
        self._clean: list[str] = []
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-reset")
        self._schema = _run(self._inspect(template, empty=False))

    def take(self) -> str:
        with self._lock:
            if self._clean:
                return self._clean.pop()
        name = f"bizdevops_t_{uuid.uuid4().hex[:10]}"
        _run(_admin([f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"']))
        return name

    def give_back(self, name: str) -> None:
        self._worker.submit(self._reset, name)

    def close(self) -> None:
        self._worker.shutdown(wait=True)
        for name in self._clean:
            _run(_drop(name))

    def _reset(self, name: str) -> None:
        try:
            reusable = asyncio.run(self._inspect(name, empty=True)) == self._schema
        except Exception:  # noqa: BLE001 - whatever went wrong, a fresh clone is the safe answer
            reusable = False
        if reusable:
            with self._lock:
                self._clean.append(name)
        else:
            asyncio.run(_drop(name))

    @staticmethod
    async def _inspect(name: str, *, empty: bool) -> str:
        """The schema's fingerprint; with ``empty``, also end leftover sessions and empty every table."""
        if empty:
            await _admin([f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"])
        engine = make_engine(_pg_url(name), poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                schema = (await conn.execute(text(_SCHEMA))).scalar_one()
                if empty:
                    tables = (await conn.execute(text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"))).scalars().all()
                    await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
            return str(schema)
        finally:
            await engine.dispose()


async def _drop(name: str) -> None:
    await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    try:
        _run(_admin([f'CREATE DATABASE "{TEMPLATE}"']))
    except (OSError, Exception) as down:  # noqa: BLE001 - any failure means "no server"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}: {down}")
        pytest.skip(f"PostgreSQL not available at {PG_URL}")
    _run(_migrate(_pg_url(TEMPLATE)))
    databases = PostgresDatabases(TEMPLATE)
    yield databases
    databases.close()
    _run(_admin([f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)']))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@contextmanager
def migrated_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated, empty database of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        path = tmp_path / "bizdevops.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    databases: PostgresDatabases = request.getfixturevalue("pg_databases")
    name = databases.take()
    yield _pg_url(name)
    databases.give_back(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each kind."""
    with migrated_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(Settings(), database_url=database_url, outbox_poll_seconds=0.05)
