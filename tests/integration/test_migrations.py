"""Alembic migrations and the start-up schema check, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.domain import usecases
from storage.database import Database, make_engine
from storage.migrate import (
    SchemaOutOfDate,
    alembic_config,
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)
from storage.models import Base, compared
from storage.schema_check import code_revision

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
TABLES = {"use_cases", "team_members", "phase_changes", "outbox"}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


# ── helpers ────────────────────────────────────────────────────────────────────────────────


async def alembic(engine: AsyncEngine, run: Callable[..., Any], revision: str) -> None:
    """Run an alembic command on our own connection, the way storage.migrate.upgrade does."""

    def on(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        run(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(on)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": compared})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


# ── tests ──────────────────────────────────────────────────────────────────────────────────


async def test_the_migrated_database_passes_the_check(engine: AsyncEngine) -> None:
    await check_schema(engine)
    assert await current_revision(engine) == head_revision()
    assert TABLES <= await table_names(engine)


async def test_an_empty_database_is_refused(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert await current_revision(engine) is None
        with pytest.raises(SchemaOutOfDate, match="no schema yet.*`bizdevops migrate`"):
            await check_schema(engine)

        await upgrade(engine)
        await check_schema(engine)
        assert TABLES <= await table_names(engine)
    finally:
        await engine.dispose()


async def test_a_database_behind_or_ahead_of_the_code_is_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))

    with pytest.raises(SchemaOutOfDate) as refused:
        await check_schema(engine)
    assert "ffff" in str(refused.value)
    assert head_revision() in str(refused.value)
    assert "`bizdevops migrate`" in str(refused.value)


async def test_downgrade_to_base_then_upgrade_restores_a_working_schema(
    engine: AsyncEngine, database_url: str
) -> None:
    await alembic(engine, command.downgrade, "base")

    assert not TABLES & await table_names(engine)
    assert await current_revision(engine) is None
    with pytest.raises(SchemaOutOfDate, match="`bizdevops migrate`"):
        await check_schema(engine)

    await upgrade(engine)

    await check_schema(engine)
    assert await schema_diff(engine) == []
    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create(
                "churn-model", "Predict churn", creator_id="U1", channel_id="C1", now=START,
            ))
            await uow.commit()
        async with db.uow() as uow:
            assert await uow.use_cases.slugs() == ["churn-model"]
    finally:
        await db.dispose()


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    assert await schema_diff(engine) == []


async def test_the_schema_comparison_notices_drift(engine: AsyncEngine) -> None:
    """Guards the test above: a schema that differs from the models gives a non-empty diff."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_outbox_channel"))

    diff = await schema_diff(engine)

    assert [(change[0], change[1].name) for change in diff] == [("add_index", "ix_outbox_channel")]


async def test_0007_backfills_the_dora_columns_as_the_repository_writes_them(
    engine: AsyncEngine, database_url: str
) -> None:
    from datetime import timedelta

    from tests.unit.test_dora import CANCELLED, FAILED, deployment

    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1", channel_id="C1",
                                                    now=START - timedelta(days=90)))
            for d in (deployment(1, START - timedelta(days=9), use_case="churn"),
                      deployment(2, START - timedelta(days=8), use_case="churn", state=FAILED),
                      deployment(3, START - timedelta(days=7), use_case="churn", state=CANCELLED,
                                 reached_production=False),
                      deployment(4, None, use_case="churn"),  # still in production
                      deployment(5, START - timedelta(days=6), use_case="churn", kind="rollback",
                                 rollback_of=1)):
                await uow.deployments.save(await uow.deployments.add(d))
            await uow.commit()
    finally:
        await db.dispose()
    columns = "id, prod_finished_at, lead_seconds, rolled_back"
    async with engine.connect() as conn:
        written = (await conn.execute(text(f"SELECT {columns} FROM deployments ORDER BY id"))).all()
    assert [r.rolled_back for r in written] == [True, False, False, False, False]
    assert [r.prod_finished_at is None for r in written] == [False, False, True, True, False]

    await alembic(engine, command.downgrade, "0006")
    await upgrade(engine)

    async with engine.connect() as conn:
        backfilled = (await conn.execute(text(f"SELECT {columns} FROM deployments ORDER BY id"))).all()
    assert backfilled == written


async def test_0015_learns_what_runs_in_production_and_unblames_dry_run_rollbacks(
    engine: AsyncEngine, database_url: str
) -> None:
    """Before 0015 no deployment said what runs where: each use case's newest real deployment
    learns it from the last success (production as one place); a dry-run rollback's blame on a
    real deployment (the old rule) is lifted."""
    from datetime import timedelta

    from tests.unit.test_dora import FAILED, deployment

    db = Database(database_url, ManualClock(START))
    day = timedelta(days=1)
    try:
        async with db.uow() as uow:
            for slug in ("churn", "pricing", "fraud"):
                await uow.use_cases.add(usecases.create(slug, slug.title(), creator_id="U1",
                                                        channel_id="C1", now=START - 90 * day))
            for d in (deployment(1, START - 9 * day, use_case="churn"),
                      deployment(2, START - 8 * day, use_case="churn", state=FAILED),
                      deployment(3, START - 7 * day, use_case="churn", dry_run=True),
                      deployment(4, START - 6 * day, use_case="pricing"),
                      deployment(5, START - 5 * day, use_case="pricing", kind="rollback",
                                 rollback_of=4, dry_run=True),
                      deployment(6, START - 4 * day, use_case="fraud", state=FAILED)):
                await uow.deployments.save(await uow.deployments.add(d))
            await uow.commit()
    finally:
        await db.dispose()
    await alembic(engine, command.downgrade, "0014")
    async with engine.begin() as conn:  # what the old rule wrote: the dry run blamed it
        await conn.execute(text("UPDATE deployments SET rolled_back = true WHERE id = 4"))

    await upgrade(engine)

    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            churn = await uow.deployments.production("churn")
            assert churn is not None and churn.deployment_id == 2  # the newest real one knows
            [group] = churn.placement
            assert (group.version, group.targets, group.deployment_id) == ("v1", ("*",), 1)
            assert group.since == START - 9 * day
            fraud = await uow.deployments.production("fraud")
            assert fraud is not None and fraud.placement == ()  # never deployed
    finally:
        await db.dispose()
    async with engine.connect() as conn:
        blamed = (await conn.execute(text("SELECT id FROM deployments WHERE rolled_back"))).all()
    assert blamed == []


async def test_0017_records_the_homes_it_can_tell_are_private(
    engine: AsyncEngine, database_url: str
) -> None:
    """A migration cannot ask Slack: group DMs and old private channels (``G…``) and direct
    messages (``D…``) are private by their ids; ``C…`` ones are left to the bot's start-up
    check. Nothing homed there is lost on the way (no SQLite table copy)."""
    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            for slug, channel in (("churn", "C1"), ("memo", "GTEAM"), ("note", "DALICE")):
                await uow.use_cases.add(usecases.create(slug, slug.title(), creator_id="U1",
                                                        channel_id=channel, now=START))
            await uow.commit()
        await alembic(engine, command.downgrade, "0016")
        await upgrade(engine)
        async with db.uow() as uow:
            found = {uc.slug: uc.private for uc in await uow.use_cases.find()}
            assert found == {"churn": False, "memo": True, "note": True}
            churn = await uow.use_cases.get("churn")
            assert churn is not None and len(churn.history) == 1  # its history is still there
    finally:
        await db.dispose()
    assert await schema_diff(engine) == []


async def test_0016_keeps_every_kpi_value_and_dates_its_arrival_by_its_at(
    engine: AsyncEngine, database_url: str
) -> None:
    """Values stored before 0016 are kept (metric_points is copied on SQLite to make the new
    column required) and count as received when they were dated: the best there is to know."""
    from bot.services.ports import StoredPoint

    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1",
                                                    channel_id="C1", now=START))
            await uow.metrics.add_points([("churn", StoredPoint("auc", 0.8, "", START))], "U1",
                                         START)
            await uow.commit()
        await alembic(engine, command.downgrade, "0015")
        await upgrade(engine)
        async with db.uow() as uow:
            found = await uow.metrics.newest_received("churn", "auc", START.replace(year=2025))
            assert found is not None and found.value == 0.8
            assert await uow.use_cases.get("churn") is not None
    finally:
        await db.dispose()
    assert await schema_diff(engine) == []


async def test_0018_adds_change_records_in_place_and_older_deployments_know_none(
    engine: AsyncEngine, database_url: str
) -> None:
    """Down to 0017 and up again with a deployment that knew its change: its audit trail is
    still there both ways (no SQLite table copy, whose drop would cascade), and it knows no
    change any more (the columns came back empty); the schema is the models' again."""
    from dataclasses import replace

    from bot.domain.changes import Change, ChangeKind
    from bot.domain.deployment_model import Event
    from tests.unit.test_dora import deployment

    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1",
                                                    channel_id="C1", now=START))
            d = await uow.deployments.add(replace(deployment(1, START, use_case="churn"),
                                                  change=Change(ChangeKind.MODEL_VERSION, "7")))
            await uow.deployments.record(d, (Event("requested", START, "U1"),))
            await uow.commit()
        await alembic(engine, command.downgrade, "0017")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM deployment_events"))).scalar() == 1
        await upgrade(engine)
        async with db.uow() as uow:
            stored = await uow.deployments.get(d.id or 0)
            assert stored is not None and stored.change is None
            assert len(await uow.deployments.events(d.id or 0)) == 1
    finally:
        await db.dispose()
    assert await schema_diff(engine) == []


async def test_0019_tokens_from_before_scopes_keep_metrics_write_only(
    engine: AsyncEngine, database_url: str
) -> None:
    """A token made at 0018 may push metrics after 0019 and nothing more; down to 0018 and up
    again keeps it (in place, no table copy), and the schema is the models' again."""
    from bot.services.tokens import TokenService

    await alembic(engine, command.downgrade, "0018")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO api_tokens (name, token_hash, created_at) "
                                "VALUES ('old-ci', 'hash-old', :at)"), {"at": START})
    await upgrade(engine)
    db = Database(database_url, ManualClock(START))
    try:
        [old] = await TokenService(db.uow, db.clock).list()
        assert (old.name, old.scopes) == ("old-ci", ("metrics:write",))
        await alembic(engine, command.downgrade, "0018")
        await upgrade(engine)
        [again] = await TokenService(db.uow, db.clock).list()
        assert again.scopes == ("metrics:write",)
    finally:
        await db.dispose()
    assert await schema_diff(engine) == []


async def test_going_back_past_the_deployments_columns_keeps_the_audit_trail(
    engine: AsyncEngine, database_url: str
) -> None:
    """Downgrades that drop deployments' columns (0015, 0007, 0005) drop them in place: a
    SQLite table copy's DROP TABLE would cascade to deployment_events and action_tokens."""
    from bot.domain.deployment_model import Event
    from tests.unit.test_dora import deployment

    db = Database(database_url, ManualClock(START))
    try:
        async with db.uow() as uow:
            await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1",
                                                    channel_id="C1", now=START))
            d = await uow.deployments.add(deployment(1, START, use_case="churn"))
            await uow.deployments.record(d, (Event("requested", START, "U1"),))
            await uow.commit()
    finally:
        await db.dispose()
    await alembic(engine, command.downgrade, "0004")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM deployment_events"))).scalar() == 1
        assert (await conn.execute(text("SELECT count(*) FROM deployments"))).scalar() == 1
    await upgrade(engine)
    assert await schema_diff(engine) == []


def test_the_start_up_check_finds_the_head_alembic_finds() -> None:
    """`serve` checks the schema without importing Alembic (storage/schema_check.py)."""
    assert code_revision() == head_revision()
