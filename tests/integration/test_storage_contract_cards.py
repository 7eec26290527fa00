"""`/usecase show`'s one read (storage/card_reads.py: statements compiled once, on the driver's
own connection) gives what the unit of work's reads give, on the in-memory twin, SQLite and
PostgreSQL alike: the use case with its team and history, its KPI's target, what runs in
production."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.clock import ManualClock
from bot.domain import usecases
from bot.domain.metrics import Target
from bot.domain.usecases import Phase, Role, TeamMember
from storage.database import Database
from tests.conftest import migrated_database
from tests.integration.conftest import START, Store
from tests.unit.test_dora import deployment

HOUR = timedelta(hours=1)


async def _seeded(store: Store) -> None:
    """churn: in Dev after a note, two on its team, an `auc` KPI with a target and one on another
    metric, deployed for real (then a dry run); fraud: new, nothing else."""
    async with store.uow() as uow:
        for slug in ("churn", "fraud"):
            await uow.use_cases.add(usecases.create(slug, f"The {slug} model", creator_id="U1",
                                                    channel_id="C1", now=START))
        churn = await uow.use_cases.get("churn")
        assert churn is not None
        moved = usecases.advance(churn, "U1", START + HOUR, is_admin=True, note="ready: <@U2> & co")
        await uow.use_cases.save(replace(
            moved.use_case, kpi="auc", model="churn-xgb", problem="Too many leave",
            team=(TeamMember("U2", Role.DATA_SCIENTIST), TeamMember("U3", Role.DEVOPS))))
        await uow.use_cases.record_change("churn", moved.change)
        await uow.metrics.set_target("churn", "auc", ">=", 0.8, "U1", START, "met")
        await uow.metrics.set_target("churn", "latency", "<=", 120.0, "U1", START, None)
        await uow.deployments.add(deployment(1, START + 2 * HOUR))
        await uow.deployments.add(deployment(2, START + 3 * HOUR, dry_run=True))
        await uow.commit()


async def test_the_card_read_is_what_the_unit_of_work_reads(store: Store) -> None:
    await _seeded(store)
    assert store.cards is not None
    for slug in ("churn", "fraud"):
        card = await store.cards.use_case_card(slug)
        async with store.uow() as uow:
            expected = await uow.use_cases.get(slug)
            production = await uow.deployments.production(slug)
        assert card is not None
        assert card.use_case == expected
        assert card.production == production
    churn = await store.cards.use_case_card("churn")
    assert churn is not None
    assert churn.kpi_target == Target(">=", 0.8)
    assert churn.use_case.phase is Phase.DEV and len(churn.use_case.history) == 2
    assert [m.user_id for m in churn.use_case.team] == ["U2", "U3"]
    assert churn.use_case.history[-1].note == "ready: <@U2> & co"
    assert churn.use_case.history[-1].at == START + HOUR  # an aware UTC datetime, as stored
    # The newest real deployment placed nothing yet: production is known, and empty.
    assert churn.production is not None and churn.production.deployment_id == 1  # not the dry run
    assert churn.production.placement == ()
    fraud = await store.cards.use_case_card("fraud")
    assert fraud is not None and fraud.kpi_target is None and fraud.production is None


async def test_no_card_for_an_unknown_slug(store: Store) -> None:
    await _seeded(store)
    assert store.cards is not None
    assert await store.cards.use_case_card("nope") is None
    assert await store.cards.use_case_card("churn'; --") is None


async def test_the_card_sees_what_was_committed_since(store: Store) -> None:
    await _seeded(store)
    assert store.cards is not None
    assert (await store.cards.use_case_card("fraud")) is not None
    async with store.uow() as uow:
        fraud = await uow.use_cases.get("fraud")
        assert fraud is not None
        await uow.use_cases.save(replace(fraud, title="Fraud alerts v2"))
        await uow.commit()
    card = await store.cards.use_case_card("fraud")
    assert card is not None and card.use_case.title == "Fraud alerts v2"


@pytest.mark.postgres
async def test_a_connection_the_server_closed_is_replaced_and_the_read_asked_again(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    with migrated_database("postgresql", request, tmp_path) as url:
        db = Database(url, ManualClock(START))
        try:
            async with db.uow() as uow:
                await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1",
                                                        channel_id="C1", now=START))
                await uow.commit()
            assert await db.cards.use_case_card("churn") is not None  # opens the pool
            async with db.engine.connect() as conn:  # as a server restart would
                await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            card = await db.cards.use_case_card("churn")
            assert card is not None and card.use_case.title == "Churn"
        finally:
            await db.dispose()
