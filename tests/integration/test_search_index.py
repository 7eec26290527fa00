"""The portfolio's search by trigrams on PostgreSQL (migration 0022): read through the index it
answers what the scan answers, and a database where pg_trgm cannot be had migrates without it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from bot.clock import ManualClock
from bot.domain import usecases
from bot.domain.dashboard import PortfolioFilter
from bot.services.use_case_ports import Sight
from storage.database import Database, make_engine
from storage.migrate import check_schema, upgrade
from tests.conftest import PG_URL, _admin, _pg_url
from tests.integration.conftest import START

pytestmark = pytest.mark.postgres

TITLES = {"churn": "Churn model", "fraud": "Fraud alerts", "promo": "Promo 100% off",
          "chat": "Chatbot answers", "score": "Under_score"}
SEARCHES = ("CHURN", "100%", "0%o", "ch", "_s", "model", "alerts", "zzz")


async def _seed(db: Database) -> None:
    async with db.uow() as uow:
        for slug, title in TITLES.items():
            await uow.use_cases.add(usecases.create(slug, title, creator_id="U1",
                                                    channel_id="C1", now=START))
        await uow.commit()


async def _found(db: Database, search: str) -> list[str]:
    async with db.uow() as uow:
        found = await uow.dashboard.portfolio(PortfolioFilter(search=search), Sight(), None, 50)
        counts = await uow.dashboard.phase_counts(PortfolioFilter(search=search), Sight())
    assert sum(counts.values()) == len(found)
    return [uc.slug for uc in found]


async def _plan(db: Database, sql: str, parameters: Any) -> str:
    async with db.engine.connect() as conn:
        return "\n".join((await conn.exec_driver_sql(f"EXPLAIN {sql}", parameters)).scalars())


@pytest.fixture
async def migrated(pg_databases: object) -> AsyncIterator[str]:
    name = f"bizdevops_search_{uuid.uuid4().hex[:10]}"
    await _admin([f'CREATE DATABASE "{name}"'])
    try:
        url = _pg_url(name)
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


async def test_the_index_answers_what_the_scan_answers(migrated: str) -> None:
    db = Database(migrated, ManualClock(START))
    try:
        await _seed(db)
        scanned = {term: await _found(db, term) for term in SEARCHES}
        assert scanned["CHURN"] == ["churn"] and scanned["100%"] == ["promo"]
        assert scanned["0%o"] == [] and scanned["_s"] == ["score"]
        # A workspace of 10,000 (dashboard_pages.py's).
        async with db.engine.begin() as conn:
            columns = [c for c in (await conn.execute(text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'use_cases' AND column_name NOT IN ('id', 'slug', 'title')"
            ))).scalars()]
            await conn.execute(text(
                f"INSERT INTO use_cases (slug, title, {', '.join(columns)}) "
                f"SELECT 'filler-' || g, 'Filler number ' || g, {', '.join(columns)} "
                "FROM use_cases CROSS JOIN generate_series(1, 10000) AS g WHERE slug = 'fraud'"))
        async with db.engine.connect() as conn:  # as autovacuum would have it by then
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE use_cases"))
        asked: list[tuple[str, Any]] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda _c, _cur, sql, parameters, *_: asked.append((sql, parameters)))
        await _found(db, "churn")
        async with db.uow() as uow:
            await uow.digest_reads.targets(["churn", "fraud"])  # a lookup by slugs
        search, lookup = ([(sql, p) for sql, p in asked if what in sql][0]
                          for what in ("ILIKE", "metric_targets"))
        assert "ix_use_cases_search" in await _plan(db, *search)
        assert "ix_use_cases_search" not in await _plan(db, *lookup)
        assert {term: await _found(db, term) for term in SEARCHES} == scanned  # no filler matches
    finally:
        await db.dispose()


async def test_without_pg_trgm_the_schema_migrates_and_the_search_scans(
    pg_databases: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A role that may make tables but not extensions (not the database's owner)."""
    name, role = (f"bizdevops_{what}_{uuid.uuid4().hex[:10]}" for what in ("plain", "role"))
    await _admin([f'CREATE DATABASE "{name}"', f'CREATE ROLE "{role}" LOGIN'])
    try:
        grant = make_engine(_pg_url(name), isolation_level="AUTOCOMMIT")
        try:
            async with grant.connect() as conn:
                await conn.execute(text(f'GRANT ALL ON SCHEMA public TO "{role}"'))
        finally:
            await grant.dispose()
        url = make_url(PG_URL).set(database=name, username=role).render_as_string(
            hide_password=False)
        engine = make_engine(url)
        try:
            with caplog.at_level(logging.WARNING):
                await upgrade(engine)
            await check_schema(engine)
            async with engine.connect() as conn:
                indexes = set((await conn.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'use_cases'"))).scalars())
        finally:
            await engine.dispose()
        assert "ix_use_cases_search" not in indexes
        assert "pg_trgm is not available" in caplog.text
        db = Database(url, ManualClock(START))
        try:
            await _seed(db)
            assert await _found(db, "CHURN") == ["churn"]
        finally:
            await db.dispose()
    finally:
        await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{role}"'])
