"""DORA by SQL aggregates (storage/dora.py) against the domain's rules (bot.domain.dora), on
SQLite and PostgreSQL: the same random histories, saved through the repository as the engine
saves them, must give the same reports — per use case, per channel and for the workspace.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete

from bot.clock import ManualClock
from bot.domain import dora as maths
from bot.domain import usecases
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.services.ports import Scope
from storage.database import Database
from storage.models import DeploymentRow
from tests.unit.test_dora import CANCELLED, DAY, FAILED, HOUR, NOW, OK, REJECTED, deployment

CHANNELS = {"churn": "C_OPS", "fraud": "C_OPS", "pricing": "C_SALES"}
STATES = (OK, OK, OK, FAILED, CANCELLED, REJECTED, DeploymentState.EXPIRED)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(NOW))
    async with database.uow() as uow:
        for slug, channel in CHANNELS.items():
            await uow.use_cases.add(usecases.create(slug, slug, creator_id="U_ALICE",
                                                    channel_id=channel, now=NOW - 200 * DAY))
        await uow.commit()
    yield database
    await database.dispose()


def a_change(rng: random.Random, d: Deployment) -> Change | None:
    """What the version turned out to be: mostly a change made before the request (minutes to
    weeks), some with no time (or none at all: measured from the request), a few dated after
    production finished (a wrong clock: no lead time at all), to the microsecond."""
    kind = rng.choice(list(ChangeKind))
    at = d.requested_at - timedelta(hours=rng.uniform(0, 500), microseconds=rng.randint(0, 999999))
    return rng.choice([None, Change(kind, "7"), *[Change(kind, "abc1234", at)] * 3,
                       Change(kind, "1", (d.finished_at or d.requested_at) + HOUR)])


def history(rng: random.Random) -> list[Deployment]:
    """Up to 30 deployments over 75 days: failures, rollbacks (some refused), dry runs, changes
    known or not, and at most one still running per use case."""
    out: list[Deployment] = []
    running: set[str] = set()
    for ident in range(1, rng.randint(0, 30) + 1):
        slug = rng.choice(list(CHANNELS))
        done = NOW - timedelta(hours=rng.uniform(-24, 75 * 24))
        if rng.random() < 0.08 and slug not in running:
            running.add(slug)
            done = None  # type: ignore[assignment]
        state = rng.choice(STATES)
        earlier = [d for d in out if d.use_case == slug]
        rollback = bool(earlier) and rng.random() < 0.2
        d = deployment(
            ident, done, state=state, use_case=slug, lead=HOUR * rng.uniform(0.1, 200),
            kind="rollback" if rollback else "deploy",
            rollback_of=rng.choice(earlier).id if rollback else None, dry_run=rng.random() < 0.3,
            reached_production=done is None or state in (OK, FAILED, CANCELLED) and rng.random() < 0.9,
        )
        out.append(replace(d, change=a_change(rng, d)))
    return out


async def store(db: Database, deployments: list[Deployment]) -> list[Deployment]:
    """Each added, then saved once more, as the engine saves each step (a rollback blames its
    target then); they come back with the ids the database gave them."""
    ids: dict[int | None, int | None] = {None: None}
    stored = []
    async with db.uow() as uow:
        await uow.session.execute(delete(DeploymentRow))
        for d in deployments:
            added = await uow.deployments.add(replace(d, id=None, rollback_of=ids[d.rollback_of]))
            await uow.deployments.save(added)
            ids[d.id] = added.id
            stored.append(added)
        await uow.commit()
    return stored


async def sql_reports(db: Database, scope: Scope, days: int) -> tuple[maths.DoraReport, ...]:
    windows = [(NOW - days * DAY, NOW), (NOW - 2 * days * DAY, NOW - days * DAY)]
    async with db.reads() as uow:
        counts = await uow.dora.counts(scope, windows, NOW)
    return tuple(maths.report(c, since=since, until=until, days=days, use_case=scope.slug)
                 for c, (since, until) in zip(counts, windows, strict=True))


def assert_same(got: tuple[maths.DoraReport, ...], expected: tuple[maths.DoraReport, ...],
                context: object) -> None:
    """Equal, but for times to restore: computed in SQL, where SQLite's date arithmetic (Julian
    days in a double) is exact to about a millisecond."""
    for a, b in zip(got, expected, strict=True):
        if a.time_to_restore is not None and b.time_to_restore is not None:
            assert abs(a.time_to_restore - b.time_to_restore) < timedelta(milliseconds=1), context
            a = replace(a, time_to_restore=b.time_to_restore)
        assert a == b, context


async def test_sql_aggregates_agree_with_the_domain_on_random_histories(db: Database) -> None:
    rng, compared, seen = random.Random(20261130), 0, set()
    for _ in range(40):
        stored = await store(db, history(rng))
        for days in (7, 30):
            for scope, slugs in ((Scope(), set(CHANNELS)), (Scope(channel_id="C_OPS"), {"churn", "fraud"}),
                                 (Scope(slug="churn"), {"churn"})):
                mine = [d for d in stored if d.use_case in slugs]
                expected = maths.dora_periods(mine, now=NOW, days=days, use_case=scope.slug)
                assert_same(await sql_reports(db, scope, days), expected, (days, scope, stored))
                compared += 1
                seen |= {name for name, present in (
                    ("lead time", expected[0].lead_time), ("restored", expected[0].time_to_restore),
                    ("unrestored", expected[0].unrestored), ("dry runs", expected[0].dry_runs),
                    ("from the request", expected[0].lead_from_request),
                    ("from changes", expected[0].deployments - expected[0].failed
                     > expected[0].lead_from_request),
                    ("even successes", (expected[0].deployments - expected[0].failed) % 2 == 0
                     and expected[0].deployments > expected[0].failed)) if present}
    assert compared == 40 * 2 * 3
    # The histories were varied enough to exercise every rule.
    assert seen == {"lead time", "restored", "unrestored", "dry runs", "even successes",
                    "from the request", "from changes"}


async def test_a_rollback_that_reached_production_blames_its_target_in_sql(db: Database) -> None:
    target = deployment(1, NOW - 3 * DAY, use_case="churn")
    rollback = deployment(2, NOW - 2 * DAY, use_case="churn", kind="rollback", rollback_of=1)
    await store(db, [target, rollback])
    [current, _previous] = await sql_reports(db, Scope(slug="churn"), 30)
    assert (current.deployments, current.failed) == (2, 1)
    assert current.time_to_restore == timedelta(days=1)  # restored by the rollback itself


async def test_busiest_lists_the_use_cases_with_most_production_deployments(db: Database) -> None:
    await store(db, [deployment(i, NOW - i * HOUR, use_case=slug) for i, slug in
                     enumerate(["fraud", "fraud", "churn", "fraud", "pricing", "churn"], start=1)])
    async with db.reads() as uow:
        assert await uow.dora.busiest((NOW - 30 * DAY, NOW), 2) == ["fraud", "churn"]


async def test_dry_runs_are_in_no_number_in_sql_as_in_the_domain(db: Database) -> None:
    """pricing has only dry runs; churn's failure is not restored by a dry run, only by the real
    success after it; fraud's dry-run rollback blames nobody; a dry run makes nobody busy."""
    stored = await store(db, [
        deployment(1, NOW - 5 * DAY, use_case="pricing", dry_run=True),
        deployment(2, NOW - 4 * DAY, use_case="pricing", dry_run=True, state=FAILED),
        deployment(3, NOW - 4 * DAY, use_case="churn", state=FAILED),
        deployment(4, NOW - 3 * DAY, use_case="churn", dry_run=True),
        deployment(5, NOW - 1 * DAY, use_case="churn", lead=2 * HOUR),
        deployment(6, NOW - 3 * DAY, use_case="fraud"),
        deployment(7, NOW - 2 * DAY, use_case="fraud", kind="rollback", rollback_of=6, dry_run=True),
        *(deployment(i, NOW - i * HOUR, use_case="pricing", dry_run=True) for i in range(8, 12)),
    ])
    for scope, slugs in ((Scope(), set(CHANNELS)), (Scope(channel_id="C_OPS"), {"churn", "fraud"}),
                         (Scope(slug="churn"), {"churn"}), (Scope(slug="fraud"), {"fraud"}),
                         (Scope(slug="pricing"), {"pricing"})):
        mine = [d for d in stored if d.use_case in slugs]
        expected = maths.dora_periods(mine, now=NOW, days=7, use_case=scope.slug)
        assert_same(await sql_reports(db, scope, 7), expected, scope)
    [pricing, _] = await sql_reports(db, Scope(slug="pricing"), 7)
    assert (pricing.deployments, pricing.dry_runs, pricing.band) == (0, 6, maths.NA)
    assert pricing.only_dry_runs
    [churn, _] = await sql_reports(db, Scope(slug="churn"), 7)
    assert (churn.deployments, churn.failed, churn.dry_runs) == (2, 1, 1)
    assert churn.time_to_restore == 3 * DAY and churn.lead_time == 2 * HOUR
    [fraud, _] = await sql_reports(db, Scope(slug="fraud"), 7)
    assert (fraud.deployments, fraud.failed, fraud.dry_runs) == (1, 0, 1)
    async with db.reads() as uow:
        assert await uow.dora.busiest((NOW - 7 * DAY, NOW), 5) == ["churn", "fraud"]
