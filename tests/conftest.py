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
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from storage.database import make_engine
from storage.migrate import upgrade

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("BIZDEVOPS_TEST_POSTGRES_URL", DEFAULT_PG)
REQUIRE_PG = os.environ.get("BIZDEVOPS_REQUIRE_POSTGRES") == "1"
TEMPLATE = f"bizdevops_tmpl_{uuid.uuid4().hex[:8]}"


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up code on its own loop in a thread: callable from sync and async fixtures alike."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


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


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        _run(_admin([f'CREATE DATABASE "{TEMPLATE}"']))
    except (OSError, Exception) as down:  # noqa: BLE001 - any failure means "no server"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}: {down}")
        pytest.skip(f"PostgreSQL not available at {PG_URL}")
    _run(_migrate(_pg_url(TEMPLATE)))
    yield TEMPLATE
    _run(_admin([f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)']))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bizdevops.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"bizdevops_t_{uuid.uuid4().hex[:10]}"
    await _admin([f'CREATE DATABASE "{name}" TEMPLATE "{template}"'])
    yield _pg_url(name)
    await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(Settings(), database_url=database_url, outbox_poll_seconds=0.05)
