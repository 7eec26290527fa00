"""SqlMetricRepository and SqlTokenRepository against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.domain import usecases
from bot.domain.errors import DomainError
from bot.services.ports import ConcurrentUpdate, StoredPoint, StoredTarget
from bot.services.tokens import TokenService, token_hash
from storage.database import Database
from storage.kpi_models import ApiTokenRow, MetricPointRow

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(NOW))
    async with database.uow() as uow:
        for slug in ("churn", "fraud"):
            await uow.use_cases.add(usecases.create(
                slug, f"Use case {slug}", creator_id="U_ALICE", channel_id="C_GENERAL",
                now=NOW - 60 * DAY))
        await uow.commit()
    yield database
    await database.dispose()


def point(name: str, value: float, days_ago: float, unit: str = "") -> StoredPoint:
    return StoredPoint(name, value, unit, NOW - timedelta(days=days_ago))


async def add(db: Database, slug: str, *points: StoredPoint, by: str = "U_ALICE") -> None:
    async with db.uow() as uow:
        await uow.metrics.add_points([(slug, p) for p in points], by, NOW)
        await uow.commit()


async def series(db: Database, slug: str, since: datetime,
                 before: tuple[datetime, ...] = ()) -> dict[str, list[tuple[float, datetime]]]:
    async with db.uow() as uow:
        found = await uow.metrics.series(slug, since=since, before=before)
    return {name: [(p.value, p.at) for p in ps] for name, ps in found.items()}


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


async def point_rows(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MetricPointRow)) or 0)


# ── points and series ──────────────────────────────────────────────────────────────────────


async def test_points_come_back_per_name_in_time_order_with_unit_and_utc(db: Database) -> None:
    await add(db, "churn", point("latency", 120, 2, "ms"), point("accuracy", 0.9, 3),
              point("latency", 110, 1, "ms"), point("latency", 130, 5, "ms"))
    await add(db, "fraud", point("latency", 999, 1, "ms"))

    async with db.uow() as uow:
        found = await uow.metrics.series("churn", since=at(10))

    assert sorted(found) == ["accuracy", "latency"]
    assert found["latency"] == [StoredPoint("latency", 130, "ms", at(5)),
                                StoredPoint("latency", 120, "ms", at(2)),
                                StoredPoint("latency", 110, "ms", at(1))]
    assert found["accuracy"] == [StoredPoint("accuracy", 0.9, "", at(3))]
    for p in found["latency"]:
        assert p.at.tzinfo is not None and p.at.utcoffset() == timedelta(0)
    assert await series(db, "fraud", at(10)) == {"latency": [(999, at(1))]}
    assert await series(db, "nobody", at(10)) == {}


async def test_equal_times_keep_the_order_they_were_added(db: Database) -> None:
    await add(db, "churn", point("p", 1, 1), point("p", 2, 1))
    await add(db, "churn", point("p", 3, 1))
    assert await series(db, "churn", at(2)) == {"p": [(1, at(1)), (2, at(1)), (3, at(1))]}


async def test_since_is_inclusive(db: Database) -> None:
    await add(db, "churn", point("p", 1, 10), point("p", 2, 9.5))
    assert await series(db, "churn", at(10)) == {"p": [(1, at(10)), (2, at(9.5))]}
    assert await series(db, "churn", at(9.9)) == {"p": [(2, at(9.5))]}


async def test_before_adds_the_newest_older_point_per_name(db: Database) -> None:
    await add(db, "churn",
              point("a", 1, 40), point("a", 2, 35), point("a", 3, 20), point("a", 4, 5),
              point("b", 10, 50), point("b", 11, 45), point("b", 12, 10),
              point("c", 100, 1),                      # nothing older
              point("d", 7, 31), point("d", 8, 30))    # one exactly at the moment
    await add(db, "fraud", point("a", -1, 33))         # another use case: never mixed in

    moment = at(30)
    found = await series(db, "churn", since=moment - timedelta(seconds=1), before=(moment,))

    assert found == {
        "a": [(2, at(35)), (3, at(20)), (4, at(5))],   # 35 days ago is the newest ≤ 30 days ago
        "b": [(11, at(45)), (12, at(10))],
        "c": [(100, at(1))],
        "d": [(7, at(31)), (8, at(30))],
    }
    # A name with only old points still appears, with its newest one.
    assert await series(db, "churn", since=at(3), before=(at(3),)) == {
        "a": [(4, at(5))], "b": [(12, at(10))], "c": [(100, at(1))], "d": [(8, at(30))]}


async def test_an_unknown_use_case_stores_no_point_of_the_batch(db: Database) -> None:
    with pytest.raises(LookupError) as unknown:
        await add(db, "churn", point("a", 1, 1), point("a", 2, 1))
        async with db.uow() as uow:
            await uow.metrics.add_points([("churn", point("a", 3, 0)), ("nope", point("a", 4, 0)),
                                          ("fraud", point("a", 5, 0))], "U_ALICE", NOW)
            await uow.commit()
    assert unknown.value.args[0] == "nope"
    assert await point_rows(db) == 2


async def test_points_not_committed_are_not_kept(db: Database) -> None:
    async with db.uow() as uow:
        await uow.metrics.add_points([("churn", point("a", 1, 1))], "U_ALICE", NOW)
    assert await point_rows(db) == 0


async def test_recorded_by_is_kept(db: Database) -> None:
    await add(db, "churn", point("a", 1, 1), by="token:ci-pipeline")
    async with db.sessions() as session:
        assert await session.scalar(select(MetricPointRow.recorded_by)) == "token:ci-pipeline"


# ── targets ────────────────────────────────────────────────────────────────────────────────


async def targets(db: Database, slug: str = "churn") -> dict[str, StoredTarget]:
    async with db.uow() as uow:
        return await uow.metrics.targets(slug)


async def set_target(db: Database, name: str, op: str, value: float, state: str | None,
                     slug: str = "churn") -> None:
    async with db.uow() as uow:
        await uow.metrics.set_target(slug, name, op, value, "U_ALICE", NOW, state)
        await uow.commit()


async def test_targets_are_set_and_updated_per_use_case_and_name(db: Database) -> None:
    assert await targets(db) == {}
    await set_target(db, "precision", ">=", 0.8, None)
    await set_target(db, "latency", "<", 200, "met")
    await set_target(db, "precision", ">=", 0.5, "missed", slug="fraud")

    assert await targets(db) == {
        "precision": StoredTarget("precision", ">=", 0.8, None),
        "latency": StoredTarget("latency", "<", 200, "met"),
    }

    await set_target(db, "precision", "<=", 0.95, "met")   # an update replaces op, value, state
    assert (await targets(db))["precision"] == StoredTarget("precision", "<=", 0.95, "met")
    assert await targets(db, "fraud") == {"precision": StoredTarget("precision", ">=", 0.5, "missed")}


async def flip(db: Database, expected: str | None, new: str, name: str = "precision") -> bool:
    async with db.uow() as uow:
        flipped = await uow.metrics.flip_target_state("churn", name, expected, new)
        await uow.commit()
    return flipped


async def test_a_flip_happens_only_from_the_expected_state(db: Database) -> None:
    await set_target(db, "precision", ">=", 0.8, None)

    assert await flip(db, None, "missed") is True
    assert await flip(db, None, "met") is False         # not unset any more
    assert await flip(db, "met", "missed") is False
    assert await flip(db, "missed", "met") is True
    assert await flip(db, "missed", "met") is False     # someone else already flipped it
    assert (await targets(db))["precision"].state == "met"
    assert await flip(db, "met", "missed", name="no-target") is False


async def test_two_concurrent_flips_from_the_same_state_have_one_winner(db: Database) -> None:
    await set_target(db, "precision", ">=", 0.8, "missed")

    async with db.uow() as first:
        assert await first.metrics.flip_target_state("churn", "precision", "missed", "met")
        # The second writer starts while the first holds its change uncommitted: it waits
        # (row lock on PostgreSQL, write lock on SQLite) and then finds the state moved on.
        second = asyncio.create_task(flip(db, "missed", "met"))
        await asyncio.sleep(0.05)
        assert not second.done()
        await first.commit()
    assert await second is False
    assert (await targets(db))["precision"].state == "met"


async def test_many_racing_flips_have_exactly_one_winner(db: Database) -> None:
    await set_target(db, "precision", ">=", 0.8, "met")
    results = await asyncio.gather(*(flip(db, "met", "missed") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert (await targets(db))["precision"].state == "missed"


# ── API tokens ─────────────────────────────────────────────────────────────────────────────


async def test_tokens_are_created_listed_used_and_revoked(db: Database) -> None:
    async with db.uow() as uow:
        await uow.tokens.create("ci", "hash-ci", NOW)
        await uow.tokens.create("airflow", "hash-airflow", NOW + DAY)
        await uow.commit()

    async with db.uow() as uow:
        used = await uow.tokens.use("hash-ci", NOW + 2 * DAY)
        assert used is not None and (used.name, used.scopes) == ("ci", ("metrics:write",))
        assert await uow.tokens.use("hash-unknown", NOW + 2 * DAY) is None
        await uow.commit()
    async with db.uow() as uow:
        listed = await uow.tokens.all()
    assert [(t.name, t.created_at, t.revoked_at, t.last_used_at) for t in listed] == [
        ("airflow", NOW + DAY, None, None),
        ("ci", NOW, None, NOW + 2 * DAY),
    ]

    async with db.uow() as uow:
        assert await uow.tokens.revoke("ci", NOW + 3 * DAY) is True
        assert await uow.tokens.revoke("ci", NOW + 4 * DAY) is False    # already revoked
        assert await uow.tokens.revoke("nobody", NOW + 4 * DAY) is False
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.tokens.use("hash-ci", NOW + 5 * DAY) is None      # revoked: unusable
        used = await uow.tokens.use("hash-airflow", NOW + 5 * DAY)
        assert used is not None and used.name == "airflow"
        await uow.commit()
        listed = {t.name: t for t in await uow.tokens.all()}
    assert listed["ci"].revoked_at == NOW + 3 * DAY
    assert listed["ci"].last_used_at == NOW + 2 * DAY, "a refused use is not noted"
    assert listed["airflow"].last_used_at == NOW + 5 * DAY


async def test_a_duplicate_name_is_refused_even_after_revoking(db: Database) -> None:
    async with db.uow() as uow:
        await uow.tokens.create("ci", "hash-1", NOW)
        await uow.commit()
    with pytest.raises(ConcurrentUpdate):
        async with db.uow() as uow:
            await uow.tokens.create("ci", "hash-2", NOW)
    async with db.uow() as uow:
        await uow.tokens.revoke("ci", NOW)
        await uow.commit()
    with pytest.raises(ConcurrentUpdate):
        async with db.uow() as uow:
            await uow.tokens.create("ci", "hash-3", NOW)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ApiTokenRow)) == 1


async def test_the_token_service_stores_only_a_hash_and_authenticates_bearers(
    db: Database,
) -> None:
    clock = ManualClock(NOW)
    tokens = TokenService(db.uow, clock)
    secret = await tokens.create("ci")
    assert secret.startswith("bdo_") and len(secret) > 40
    async with db.sessions() as session:
        stored = await session.scalar(select(ApiTokenRow.token_hash))
    assert stored == token_hash(secret) and secret not in stored

    clock.advance(timedelta(hours=1))
    for header in (f"Bearer {secret}", f"bearer   {secret}"):
        found = await tokens.authenticate(header)
        assert found is not None and (found.name, found.scopes) == ("ci", ("metrics:write",))
    assert await tokens.authenticate(secret) is None
    assert await tokens.authenticate(f"Bearer {secret[:-1]}") is None
    assert await tokens.authenticate(None) is None
    [listed] = await tokens.list()
    assert listed.last_used_at == NOW + timedelta(hours=1)

    await tokens.revoke("ci")
    assert await tokens.authenticate(f"Bearer {secret}") is None


async def test_a_token_has_the_scopes_it_was_made_with_once_each_in_a_fixed_order(
    db: Database,
) -> None:
    tokens = TokenService(db.uow, ManualClock(NOW))
    secret = await tokens.create("deployer", ("deployments:write", "metrics:write", "deployments:write"))
    found = await tokens.authenticate(f"Bearer {secret}")
    assert found is not None and found.scopes == ("metrics:write", "deployments:write")
    with pytest.raises(DomainError) as refused:
        await tokens.create("typo", ("deployment:write",))
    assert (refused.value.key, refused.value.facts["scope"]) == ("unknown_token_scope",
                                                                  "deployment:write")
    assert [t.name for t in await tokens.list()] == ["deployer"], "a refused token is not made"
