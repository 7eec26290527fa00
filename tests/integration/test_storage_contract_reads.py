"""The storage contract, part 3: KPIs, API tokens, digest bookkeeping and the long reads
(a digest's pages, DORA), on the in-memory twin, SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain import usecases
from bot.domain.usecases import Phase, PhaseChange
from bot.services.ports import ConcurrentUpdate, CrossingRow, DigestSchedule, Scope, StoredPoint
from tests.integration.conftest import START, Store
from tests.unit.test_dora import FAILED, deployment

ALICE = "U_ALICE"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
CHANNELS = {"churn": "C_OPS", "fraud": "C_OPS", "pricing": "C_SALES"}


@pytest.fixture
async def world(store: Store) -> Store:
    """churn (C_OPS) in Dev for 60 days, fraud (C_OPS) in Biz, pricing (C_SALES) in Dev for 10."""
    async with store.uow() as uow:
        for slug, channel in CHANNELS.items():
            uc = usecases.create(slug, slug.title(), creator_id=ALICE, channel_id=channel,
                                 now=START - 90 * DAY)
            since = {"churn": START - 60 * DAY, "pricing": START - 10 * DAY}.get(slug)
            if since is not None:
                uc = replace(uc, phase=Phase.DEV, phase_since=since,
                             history=(*uc.history, PhaseChange(Phase.BIZ, Phase.DEV, ALICE, since)))
            await uow.use_cases.add(uc)
        await uow.commit()
    return store


def point(name: str, value: float, at: timedelta) -> StoredPoint:
    return StoredPoint(name, value, "", START + at)


async def test_kpi_points_targets_and_crossings(world: Store) -> None:
    async with world.uow() as uow:
        with pytest.raises(LookupError):  # nothing is stored, the transaction goes on
            await uow.metrics.add_points([("churn", point("auc", 1, -DAY)), ("nope", point("auc", 1, -DAY))],
                                         ALICE, START)
        await uow.metrics.add_points([("churn", p) for p in (
            point("auc", 0.7, -3 * DAY), point("auc", 0.8, -2 * DAY), point("auc", 0.75, -2 * DAY),
            point("auc", 0.9, -HOUR), point("lat", 120, -5 * DAY))], ALICE, START)
        with pytest.raises(LookupError):
            await uow.metrics.set_target("nope", "auc", ">=", 0.8, ALICE, START, None)
        await uow.metrics.set_target("churn", "auc", ">=", 0.8, ALICE, START, None)
        assert await uow.metrics.flip_target_state("churn", "auc", None, "met")
        assert not await uow.metrics.flip_target_state("churn", "auc", None, "missed")  # guarded
        assert not await uow.metrics.flip_target_state("churn", "lat", None, "met")  # no target
        await uow.commit()
    async with world.uow() as uow:
        series = await uow.metrics.series("churn", since=START - DAY, before=(START - 10 * DAY,))
        # Since the start, and each name's newest points before it (both of a tied moment).
        assert {name: [p.value for p in ps] for name, ps in series.items()} == {
            "auc": [0.8, 0.75, 0.9], "lat": [120]}
        assert list(await uow.metrics.series("churn", since=START - DAY)) == ["auc"]
        assert await uow.metrics.newest_at("churn", "auc") == START - HOUR
        assert await uow.metrics.newest_at("churn", "nope") is None
        [target] = (await uow.metrics.targets("churn")).values()
        assert (target.name, target.op, target.value, target.state) == ("auc", ">=", 0.8, "met")
        assert await uow.metrics.series("nope", since=START) == {}


async def test_api_token_names_and_hashes_are_unique_and_revocable(store: Store) -> None:
    async with store.uow() as uow:
        await uow.tokens.create("ci", "hash-ci", START)
        await uow.tokens.create("airflow", "hash-airflow", START, ("audit:read", "deployments:write"))
        await uow.commit()
    for name, token_hash in (("ci", "hash-new"), ("other", "hash-ci")):
        async with store.uow() as uow:
            with pytest.raises(ConcurrentUpdate):
                await uow.tokens.create(name, token_hash, START)
    async with store.uow() as uow:
        ci = await uow.tokens.use("hash-ci", START + HOUR)
        airflow = await uow.tokens.use("hash-airflow", START + HOUR)
        assert ci is not None and (ci.name, ci.scopes, ci.last_used_at) == (
            "ci", ("metrics:write",), START + HOUR), "a token made without scopes may push metrics"
        assert airflow is not None and airflow.scopes == ("audit:read", "deployments:write")
        assert await uow.tokens.revoke("ci", START + DAY)
        assert not await uow.tokens.revoke("ci", START + DAY)
        assert await uow.tokens.use("hash-ci", START + DAY) is None
        await uow.commit()
    async with store.uow() as uow:
        listed = await uow.tokens.all()
    assert [(t.name, t.revoked_at, t.last_used_at, t.scopes) for t in listed] == [
        ("airflow", None, START + HOUR, ("audit:read", "deployments:write")),
        ("ci", START + DAY, START + HOUR, ("metrics:write",))]


async def test_digest_runs_and_reminders_are_claimed_once(store: Store) -> None:
    long_key = "gate:" + "x" * 200
    async with store.uow() as uow:
        for channel in ("C_B", "C_A"):
            await uow.digests.set_schedule(DigestSchedule(channel, "0 9 * * mon", "UTC", ALICE, START))
        await uow.digests.set_schedule(DigestSchedule("C_B", "0 8 * * *", "UTC", ALICE, START))
        assert await uow.digests.claim_run("C_A", START, START)
        assert not await uow.digests.claim_run("C_A", START, START + HOUR)
        assert await uow.digests.claim_run("C_A", START + DAY, START + DAY)
        assert await uow.claims.claim("gate", long_key, START)
        assert not await uow.claims.claim("gate", long_key + "-and-more", START)
        await uow.commit()
    async with store.uow() as uow:
        assert [(s.channel_id, s.cron) for s in await uow.digests.schedules()] == [
            ("C_A", "0 9 * * mon"), ("C_B", "0 8 * * *")]
        assert await uow.digests.has_run("C_A", START)
        assert not await uow.digests.has_run("C_B", START)
        assert await uow.digests.last_run("C_A") == START + DAY
        assert await uow.digests.last_run("C_B") is None
        assert await uow.claims.claimed("gate", [long_key, "other"]) == {long_key[:120]}
        assert await uow.digests.remove_schedule("C_A")
        assert not await uow.digests.remove_schedule("C_A")


async def test_digest_pages_are_narrowed_ordered_and_counted(world: Store) -> None:
    async with world.uow() as uow:
        await uow.metrics.add_points([("churn", point("auc", 0.9, -HOUR)),
                                      ("pricing", point("margin", 3, -HOUR)),
                                      ("fraud", point("recall", 0.5, -30 * DAY))], ALICE, START)
        await uow.metrics.add_crossing(CrossingRow("churn", "auc", START - HOUR, True, 0.9, "", ">=", 0.8))
        await uow.commit()
    ops, everyone = Scope(channel_id="C_OPS"), Scope()
    async with world.uow() as uow:
        reads = uow.digest_reads
        assert await reads.has_use_cases("C_OPS") and not await reads.has_use_cases("C_NONE")
        assert await reads.phase_counts(ops) == {"dev": 1, "biz": 1}
        moves = await reads.moves(everyone, START - 70 * DAY, 1)
        assert ([m.slug for m in moves.rows], moves.total) == (["churn"], 2)  # oldest first
        overdue = await reads.overdue(everyone, START - 5 * DAY, 5)
        assert ([o.slug for o in overdue.rows], overdue.total) == (["churn", "pricing"], 2)
        assert (await reads.overdue(Scope(slug="fraud"), START, 5)).total == 0
        crossings = await reads.crossings(ops, START - DAY, 5)
        assert [(c.slug, c.name, c.met) for c in crossings.rows] == [("churn", "auc", True)]
        moved = await reads.moved_series(everyone, START - DAY, 1)
        assert (moved.rows, moved.total) == ([("churn", "auc")], 2)
        [tail] = await reads.tails([("fraud", "recall")], START - DAY, 20)
        assert (tail.newest, tail.before) == ([point("recall", 0.5, -30 * DAY)],
                                              point("recall", 0.5, -30 * DAY))
        assert await reads.tails([], START, 20) == []


async def test_digest_deployments_and_dora_counts(world: Store) -> None:
    now = START
    history = [deployment(1, now - 3 * DAY, use_case="churn"),
               deployment(2, now - 2 * DAY, use_case="churn", state=FAILED),
               deployment(3, now - 1 * DAY, use_case="fraud"),
               deployment(4, now - 10 * HOUR, use_case="churn", kind="rollback", rollback_of=1),
               deployment(5, now - 2 * HOUR, use_case="pricing", dry_run=True)]
    async with world.uow() as uow:
        for d in history:  # added, then saved once more, as the engine saves each step
            await uow.deployments.save(await uow.deployments.add(replace(d, id=None)))
        await uow.commit()
    async with world.uow() as uow:
        page, states = await uow.digest_reads.deployments(Scope(channel_id="C_OPS"), now - 4 * DAY, 2)
        assert ([d.version for d in page.rows], page.total) == (["v1", "v2"], 4)
        assert states == {"succeeded": 3, "failed": 1}
        assert await uow.digest_reads.waiting(Scope(), 5) == []
        week = (now - 7 * DAY, now)
        earlier = (now - 14 * DAY, now - 7 * DAY)
        [ops, before] = await uow.dora.counts(Scope(channel_id="C_OPS"), [week, earlier], now)
        assert (ops.deployments, ops.failed, ops.dry_runs, ops.unrestored) == (4, 2, 0, 0)
        # v2 failed and v1 was blamed by the rollback, which restored both; SQLite's date
        # arithmetic is exact to about a millisecond.
        restore = timedelta(hours=(48 - 10 + 72 - 10) / 2)
        assert ops.time_to_restore is not None
        assert abs(ops.time_to_restore - restore) < timedelta(milliseconds=1)
        assert before.deployments == 0
        [pricing] = await uow.dora.counts(Scope(slug="pricing"), [week], now)
        assert (pricing.deployments, pricing.dry_runs) == (0, 1)  # a dry run is in no number
        assert await uow.dora.busiest(week, 2) == ["churn", "fraud"]
        assert await uow.dora.busiest(week, 5) == ["churn", "fraud"]  # pricing's dry run: not busy


async def test_a_charts_deployments_are_its_use_cases_production_finishes_in_the_period(
        world: Store) -> None:
    """What a KPI chart marks: the use case's real deployments whose production finished in the
    window (failed ones too: they touched production), oldest first, the newest ``limit``."""
    history = [deployment(1, START - 40 * DAY, use_case="churn"),            # before the period
               deployment(2, START - 20 * DAY, use_case="churn"),
               deployment(3, START - 10 * DAY, use_case="churn", state=FAILED),
               deployment(4, START - 9 * DAY, use_case="fraud"),             # another use case
               deployment(5, START - 5 * DAY, use_case="churn", dry_run=True),  # deployed nothing
               deployment(6, START - 3 * DAY, use_case="churn", kind="rollback", rollback_of=3),
               deployment(7, None, use_case="churn"),                        # still in production
               deployment(8, START - 2 * DAY, use_case="churn", reached_production=False)]
    async with world.uow() as uow:
        for d in history:
            await uow.deployments.save(await uow.deployments.add(replace(d, id=None)))
        await uow.commit()
    async with world.uow() as uow:
        marks = await uow.dora.deployed("churn", (START - 30 * DAY, START), 10)
        assert [(m.version, m.at) for m in marks] == [
            ("v2", START - 20 * DAY), ("v3", START - 10 * DAY), ("v6", START - 3 * DAY)]
        assert [m.version for m in await uow.dora.deployed("churn", (START - 30 * DAY, START), 2)] \
            == ["v3", "v6"]
        assert await uow.dora.deployed("pricing", (START - 30 * DAY, START), 10) == []
        assert await uow.dora.deployed("nope", (START - 30 * DAY, START), 10) == []


async def test_production_and_what_needs_attention_follow_the_scope(world: Store) -> None:
    """Each use case's newest real deployment says what runs; a mix not being rolled out, or a
    lock a failed rollback left, needs attention; dry runs say nothing."""
    from bot.domain.deployment_model import Deployment
    from bot.domain.production import Running
    from bot.services.ports import DeployLock

    def placed(d: Deployment, *groups: tuple[str, tuple[str, ...]]) -> Deployment:
        return replace(d, production=tuple(Running(v, t, START, 1) for v, t in groups))

    settled = placed(deployment(1, START - 2 * DAY, use_case="churn"), ("1.0", ("a", "b")))
    mixed = placed(deployment(2, START - DAY, use_case="churn", state=FAILED),
                   ("2.0", ("a",)), ("1.0", ("b",)))
    dry = deployment(3, START - HOUR, use_case="churn", dry_run=True)
    pricing = placed(deployment(4, START - DAY, use_case="pricing"), ("3.0", ("x",)))
    async with world.uow() as uow:
        for d in (settled, mixed, dry, pricing):
            await uow.deployments.save(await uow.deployments.add(replace(d, id=None)))
        await uow.deployments.set_lock(DeployLock("fraud", "", START, "rollback failed", 9))
        await uow.commit()
    async with world.uow() as uow:
        reads = uow.digest_reads
        ops = await reads.production(Scope(channel_id="C_OPS"), 10)
        assert [(slug, p.placement[0].version) for slug, p in ops.rows] == [("churn", "2.0")]
        everywhere = await reads.production(Scope(), 1)
        assert everywhere.total == 2 and len(everywhere.rows) == 1
        attention = await reads.attention(Scope(channel_id="C_OPS"), 10)
        assert [(a.slug, a.production is not None, a.lock is not None) for a in attention.rows] == [
            ("churn", True, False), ("fraud", False, True)]
        assert (await reads.attention(Scope(channel_id="C_SALES"), 10)).rows == []


async def test_fresh_means_received_after_whatever_at_a_value_claims(world: Store) -> None:
    """A KPI value counts as fresh by when the bot received it (a pushed `at` may claim any
    time): the newest one received after a moment, or none."""
    async with world.uow() as uow:
        await uow.metrics.add_points([("churn", point("auc", 0.5, HOUR))], ALICE, START)  # ahead
        await uow.metrics.add_points([("churn", point("auc", 0.7, -DAY))], ALICE,
                                     START + 2 * HOUR)  # a late back-fill
        await uow.commit()
    async with world.uow() as uow:
        assert await uow.metrics.newest_received("churn", "auc", START + 3 * HOUR) is None
        late = await uow.metrics.newest_received("churn", "auc", START + HOUR)
        assert late is not None and late.value == 0.7
        assert (await uow.metrics.newest_received("churn", "auc", START - HOUR)).value == 0.7  # type: ignore[union-attr]
        assert await uow.metrics.newest_received("churn", "lat", START - HOUR) is None
