"""The storage contract, part 2: deployments, their audit trail, button tokens and locks, on
the in-memory twin, SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain import deployment_machine as machine
from bot.domain import gates, usecases
from bot.domain.deployment_model import Deployment, DeploymentState, Event
from bot.domain.executor_specs import CommandSpec, DryRunSpec
from bot.domain.pipeline import ApprovalSpec, Pipeline, StageSpec
from bot.domain.production import Production, Running
from bot.services.ports import ConcurrentUpdate, DeployLock
from tests.integration.conftest import START, Store

ALICE, BOB = "U_ALICE", "U_BOB"
DRY = DryRunSpec()
GATED = Pipeline("gated", (StageSpec("prod", DRY, approval=ApprovalSpec()),))
OPEN = Pipeline("open", (StageSpec("prod", DRY, timeout=timedelta(minutes=5)),))
HOUR = timedelta(hours=1)


@pytest.fixture
async def slugs(store: Store) -> tuple[str, ...]:
    async with store.uow() as uow:
        for slug in ("churn", "fraud"):
            await uow.use_cases.add(usecases.create(slug, slug, creator_id=ALICE,
                                                    channel_id=f"C_{slug.upper()}", now=START))
        await uow.commit()
    return ("churn", "fraud")


def requested(slug: str = "churn", *, at: timedelta = timedelta(), version: str = "v1",
              pipeline: Pipeline = GATED) -> Deployment:
    return machine.request(use_case=slug, version=version, pipeline=pipeline, requested_by=ALICE,
                           channel_id=f"C_{slug.upper()}", now=START + at).deployment


async def added(store: Store, *deployments: Deployment) -> list[Deployment]:
    async with store.uow() as uow:
        out = [await uow.deployments.add(d) for d in deployments]
        await uow.commit()
    return out


async def ended(store: Store, d: Deployment) -> Deployment:
    async with store.uow() as uow:
        saved = await uow.deployments.save(machine.cancel(d, BOB, "", START + HOUR).deployment)
        await uow.commit()
    return saved


async def test_one_active_deployment_per_use_case_and_a_known_slug(
        store: Store, slugs: tuple[str, ...]) -> None:
    [first] = await added(store, requested())
    with pytest.raises(ConcurrentUpdate):
        await added(store, requested(version="v2"))
    with pytest.raises(LookupError):
        await added(store, requested("nope"))
    await added(store, requested("fraud"))  # another use case is free
    await ended(store, first)
    [second] = await added(store, requested(version="v3"))  # the slot is free once it ended
    async with store.uow() as uow:
        assert await uow.deployments.active_for("churn") == replace(second, revision=0)
        assert await uow.deployments.count_by_state() == {"awaiting_approval": 2, "cancelled": 1}


async def test_a_save_is_guarded_by_the_revision_and_writes_what_runs(
        store: Store, slugs: tuple[str, ...]) -> None:
    [d] = await added(store, requested())
    saved = await ended(store, d)
    assert saved.revision == 1
    async with store.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.deployments.save(replace(d, detail="stale"))
        # Only the running state is written: what was requested stays as it was.
        again = await uow.deployments.save(replace(saved, version="v9", detail="why"))
        assert again.revision == 2
        await uow.commit()
    async with store.uow() as uow:
        stored = await uow.deployments.get(saved.id or 0)
    assert stored is not None
    assert (stored.version, stored.detail, stored.state, stored.revision) == (
        "v1", "why", DeploymentState.CANCELLED, 2)


async def test_history_and_active_are_ordered_and_limited(
        store: Store, slugs: tuple[str, ...]) -> None:
    first, other = await added(store, requested(), requested("fraud", at=-HOUR))
    await ended(store, first)
    second, = await added(store, requested(at=2 * HOUR, version="v2"))
    async with store.uow() as uow:
        assert [d.version for d in await uow.deployments.history("churn")] == ["v2", "v1"]
        assert [d.version for d in await uow.deployments.history("churn", limit=1)] == ["v2"]
        assert [d.id for d in await uow.deployments.active()] == [other.id, second.id]
        assert [d.id for d in await uow.deployments.active(limit=1)] == [other.id]


async def test_audit_events_and_button_tokens(store: Store, slugs: tuple[str, ...]) -> None:
    [d] = await added(store, requested())
    trail = (Event("requested", START, ALICE), Event("gate_opened", START, stage="prod"))
    async with store.uow() as uow:
        await uow.deployments.record(d, trail)
        token = await uow.deployments.button_token(d, 0, "approve", START)
        await uow.commit()
    async with store.uow() as uow:
        assert tuple(await uow.deployments.events(d.id or 0)) == trail
        found = await uow.deployments.token(token)
        assert found is not None and (found.deployment_id, found.stage_index, found.version,
                                      found.action) == (d.id, 0, "v1", "approve")
        assert await uow.deployments.token("unknown" * 10) is None  # longer than any id: cut


async def test_locks_are_unique_per_use_case_and_reminded_once_per_age(
        store: Store, slugs: tuple[str, ...]) -> None:
    lock = DeployLock("churn", BOB, START, "freeze")
    async with store.uow() as uow:
        await uow.deployments.set_lock(lock)
        with pytest.raises(LookupError):
            await uow.deployments.set_lock(replace(lock, use_case="nope"))
        await uow.commit()
    async with store.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.deployments.set_lock(replace(lock, locked_by=ALICE))
    day = timedelta(days=1)
    async with store.uow() as uow:
        assert await uow.deployments.lock("churn") == lock
        assert await uow.deployments.lock("nope") is None
        assert await uow.deployments.claim_lock_reminders(START + HOUR, day) == []
        assert await uow.deployments.claim_lock_reminders(START + day, day) == [(lock, "C_CHURN")]
        assert await uow.deployments.claim_lock_reminders(START + day + HOUR, day) == []
        assert len(await uow.deployments.claim_lock_reminders(START + 2 * day, day)) == 1
        await uow.deployments.remove_lock("churn")
        await uow.commit()
    async with store.uow() as uow:
        assert await uow.deployments.lock("churn") is None


async def test_due_steps_leases_and_lost_workers(store: Store, slugs: tuple[str, ...]) -> None:
    [d] = await added(store, requested(pipeline=OPEN))  # its first step is due at once
    async with store.uow() as uow:
        assert await uow.deployments.due(START, launch=True) == [d.id]
        assert await uow.deployments.due(START, launch=False) == []
        launched = await uow.deployments.save(machine.launch(d, 0, START))
        await uow.deployments.set_lease(d.id or 0, "worker-1", START + HOUR)
        await uow.commit()
    deadline = START + timedelta(minutes=5)
    async with store.uow() as uow:
        assert await uow.deployments.due(START, launch=True) == []
        assert await uow.deployments.due(deadline, launch=False) == [d.id]  # its timeout
        assert not await uow.deployments.renew_lease(d.id or 0, "worker-2", START + 2 * HOUR)
        assert await uow.deployments.renew_lease(d.id or 0, "worker-1", START + 2 * HOUR)
        assert await uow.deployments.lost(START + HOUR) == []
        assert await uow.deployments.lost(START + 3 * HOUR) == [d.id]
        await uow.deployments.save(machine.cancel(launched, BOB, "", START).deployment)
        assert await uow.deployments.lost(START + 3 * HOUR) == []  # ended: its lease is gone
        assert not await uow.deployments.renew_lease(d.id or 0, "worker-1", START + 4 * HOUR)


FLEET = Pipeline("fleet", (StageSpec("prod", CommandSpec(argv=("./d",)),
                                     waves=("1", "100%"), targets=("a", "b", "c"),
                                     approval=ApprovalSpec(remind=None)),))


async def test_what_runs_where_and_who_was_told_come_back_as_saved(
        store: Store, slugs: tuple[str, ...]) -> None:
    baseline = (Running("1.0", ("a", "b", "c"), START - HOUR, 7),)
    d = machine.request(use_case="churn", version="2.0", pipeline=FLEET, requested_by=ALICE,
                        channel_id="C_CHURN", now=START, baseline=baseline).deployment
    [d] = await added(store, d)
    told = gates.tell(d, (BOB,), START, (("@rm", "S0RM"),)).deployment
    async with store.uow() as uow:
        await uow.deployments.save(told)
        await uow.commit()
    async with store.uow() as uow:
        stored = await uow.deployments.get(d.id or 0)
        assert stored is not None
        gate = stored.stages[0]
        assert (gate.told, gate.reminded, gate.group_ids) == ((BOB,), 0, (("@rm", "S0RM"),))
        assert gate.spec.approval is not None and gate.spec.approval.remind is None
        assert stored.production == baseline
        assert await uow.deployments.productions(["churn", "fraud"]) == {
            "churn": Production(baseline, d.id or 0, rolling=True)}
        assert await uow.deployments.production("fraud") is None  # never deployed for real
        dry = machine.request(use_case="fraud", version="0.1", pipeline=GATED, requested_by=ALICE,
                              channel_id="C_FRAUD", now=START).deployment
        await uow.deployments.add(dry)
        assert await uow.deployments.production("fraud") is None  # a dry run deploys nothing


async def test_a_lock_a_failed_rollback_left_names_it(store: Store, slugs: tuple[str, ...]) -> None:
    async with store.uow() as uow:
        await uow.deployments.set_lock(DeployLock("churn", "", START, "deploy run failed", 12))
        await uow.deployments.set_lock(DeployLock("fraud", BOB, START, "quarter end"))
        await uow.commit()
    async with store.uow() as uow:
        locks = {lock.use_case: lock for lock in await uow.deployments.locks(["churn", "fraud"])}
        assert locks["churn"].after_failed_rollback and locks["churn"].deployment_id == 12
        assert not locks["fraud"].after_failed_rollback
        assert await uow.deployments.locks([]) == []
