"""The portfolio's search by trigrams on PostgreSQL (migration 0022): read through the index it
answers what the scan answers, and a database where pg_trgm cannot be had migrates without it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
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
        # Every connection of the pool from now on reads by the index wherever it can.
        await _admin([f'ALTER DATABASE "{make_url(migrated).database}" SET enable_seqscan = off'])
        await db.engine.dispose()
        async with db.engine.connect() as conn:
            plan = "\n".join((await conn.execute(text(
                "EXPLAIN SELECT slug FROM use_cases WHERE slug ILIKE '%churn%' "
                "OR title ILIKE '%churn%'"))).scalars())
        assert "ix_use_cases_search" in plan
        assert {term: await _found(db, term) for term in SEARCHES} == scanned
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
