"""`/deploy` rules (bot/services/deployments.py): who may deploy, why a start is refused,
cancel, locks, and the events that follow a commit — on the in-memory storage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.deploy_results import (
    DeployHistory,
    DeploymentShown,
    DeploymentStarted,
    RunningNow,
    UseCaseStatus,
)
from bot.domain.deployment_model import DeploymentState
from bot.domain.executor_specs import DryRunSpec
from bot.domain.locks import DeployLock
from bot.domain.pipeline import ApprovalSpec, Pipeline, PipelineSet, StageSpec
from bot.domain.usecases import Conflict, DomainError, NotAllowed, Phase, Role, TeamMember
from bot.render.refusals import said
from bot.services.commands import (
    CancelDeployment,
    DeploymentHistory,
    DeploymentStatus,
    LockDeployments,
    RollbackDeployment,
    StartDeployment,
    UnlockDeployments,
)
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import CANCEL_TRIES, DeploymentService
from bot.services.events import DeploymentChanged, DeploymentFinished, MessageQueued, StepStopped
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import (
    ADMIN,
    CHANNEL,
    ENGINEER,
    OUTSIDER,
    OWNER,
    SCIENTIST,
    actor,
    deployments,
    raced,
    seed,
    texts,
)

DRY = DryRunSpec()
PIPELINES = PipelineSet({"gated": Pipeline("gated", (StageSpec("prod", DRY, approval=ApprovalSpec()),)),
                         "open": Pipeline("open", (StageSpec("build", DRY),))}, default="gated")
TEAM = (TeamMember(ENGINEER, Role.DATA_ENGINEER), TeamMember(SCIENTIST, Role.DATA_SCIENTIST))


def service(db: InMemoryDatabase) -> DeploymentService:
    return DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))


async def start(db: InMemoryDatabase, user: str = OWNER, pipeline: str | None = None) -> int:
    await service(db).execute(StartDeployment("churn", "v1", pipeline), actor(user))
    deployment_id = (await deployments(db))[0].id
    assert deployment_id is not None
    return deployment_id


async def test_a_start_stores_the_deployment_posts_its_message_then_publishes(
        db: InMemoryDatabase) -> None:
    await seed(db)
    reply = await service(db).execute(StartDeployment("churn", "v1"), actor(OWNER))
    [d] = await deployments(db)
    assert (d.state, d.version, d.requested_by) == (DeploymentState.AWAITING_APPROVAL, "v1", OWNER)
    async with db.uow() as uow:
        assert [e.kind for e in await uow.deployments.events(d.id or 0)] == ["requested", "gate_opened"]
    [posted, dm] = db.messages()  # the gate opened at once: the requester hears of it
    assert (dm.channel, dm.link_of) == (OWNER, f"deployment:{d.id}")
    assert (posted.method, posted.channel, posted.ref) == ("chat.postMessage", CHANNEL, f"deployment:{d.id}")
    assert db.published == [DeploymentChanged(d.id or 0), MessageQueued()]
    assert reply == DeploymentStarted(d.id or 0, "churn", "v1", CHANNEL, dry_run=d.dry_run)


@pytest.mark.parametrize(("user", "allowed"), [
    (OWNER, True), (ENGINEER, True), (ADMIN, True), (SCIENTIST, False), (OUTSIDER, False),
])
async def test_who_may_deploy(db: InMemoryDatabase, user: str, allowed: bool) -> None:
    await seed(db, team=TEAM)
    if allowed:
        await start(db, user)
        assert [d.requested_by for d in await deployments(db)] == [user]
        return
    with pytest.raises(NotAllowed) as refused:
        await start(db, user)
    assert (refused.value.key, refused.value.facts) == ("deployers_only", {
        "doing": "deploy", "slug": "churn", "owner": OWNER, "team": (ENGINEER,)})
    assert await deployments(db) == [] and db.published == []


async def test_a_locked_use_case_is_not_deployed(db: InMemoryDatabase) -> None:
    await seed(db, team=TEAM)
    await service(db).execute(LockDeployments("churn", "quarter end"), actor(ENGINEER))
    with pytest.raises(Conflict) as refused:
        await start(db)
    lock = refused.value.facts["lock"]
    assert refused.value.key == "deploys_locked" and isinstance(lock, DeployLock)
    assert (lock.locked_by, lock.reason) == (ENGINEER, "quarter end")
    assert await deployments(db) == []


async def test_one_deployment_at_a_time_and_none_of_an_archived_use_case(db: InMemoryDatabase) -> None:
    await seed(db)
    first = await start(db)
    with pytest.raises(Conflict) as busy:
        await start(db)
    assert (busy.value.key, busy.value.facts["deployment_id"], busy.value.facts["state"]) == (
        "deployment_still_active", first, DeploymentState.AWAITING_APPROVAL)
    await seed(db, "old", phase=Phase.ARCHIVED)
    with pytest.raises(Conflict) as archived:
        await service(db).execute(StartDeployment("old", "v1"), actor(OWNER))
    assert (archived.value.key, archived.value.facts) == ("archived_not_deployable", {"slug": "old"})
    with pytest.raises(DomainError) as unknown:
        await service(db).execute(StartDeployment("churn", "v2", "nope"), actor(OWNER))
    assert (unknown.value.key, unknown.value.facts) == ("unknown_pipeline", {
        "name": "nope", "known": ("gated", "open")})
    assert [d.id for d in await deployments(db)] == [first]


async def test_cancel_ends_it_edits_its_message_and_announces_the_end(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    await seed(db)
    deployment_id = await start(db)
    db.published.clear()
    clock.advance(timedelta(seconds=90))
    await service(db).execute(CancelDeployment(deployment_id, "wrong version"), actor(OWNER))
    [d] = await deployments(db)
    assert d.state is DeploymentState.CANCELLED
    methods = [(m.method, m.update_of) for m in db.messages() if m.channel == CHANNEL]
    assert methods[1:] == [("chat.update", f"deployment:{deployment_id}"), ("chat.postMessage", None)]
    # Nothing was running, so nothing to stop: the engine and Home tabs hear of it, and
    # GET /metrics of its end (90 seconds after its request).
    assert db.published == [DeploymentChanged(deployment_id),
                            DeploymentFinished(deployment_id, d.pipeline, "cancelled", 90.0), MessageQueued()]
    with pytest.raises(Conflict) as ended:
        await service(db).execute(CancelDeployment(deployment_id), actor(OWNER))
    assert "already ended" in said(ended.value)
    with pytest.raises(DomainError) as unknown:
        await service(db).execute(CancelDeployment(99), actor(OWNER))
    assert (unknown.value.key, unknown.value.facts) == ("no_such_deployment", {"deployment_id": 99})


async def test_cancelling_a_launched_step_stops_it(db: InMemoryDatabase) -> None:
    await seed(db)
    deployment_id = await start(db, pipeline="open")
    runs = DeploymentRuns(db.uow, db.clock, "UTC", "http://bot.example")
    assert await runs.launch(deployment_id, "worker-1", timedelta(minutes=1)) is not None
    db.published.clear()
    await service(db).execute(CancelDeployment(deployment_id), actor(OWNER))
    assert db.published == [DeploymentChanged(deployment_id), StepStopped(deployment_id),
                            DeploymentFinished(deployment_id, "open", "cancelled", 0.0), MessageQueued()]


async def test_only_deployers_cancel_someone_elses_deployment(db: InMemoryDatabase) -> None:
    await seed(db, team=TEAM)
    deployment_id = await start(db, ENGINEER)
    with pytest.raises(NotAllowed) as refused:
        await service(db).execute(CancelDeployment(deployment_id), actor(SCIENTIST))
    assert (refused.value.key, refused.value.facts["doing"]) == ("deployers_only", "cancel")
    await service(db).execute(CancelDeployment(deployment_id), actor(OWNER))
    assert (await deployments(db))[0].state is DeploymentState.CANCELLED


def touch(db: InMemoryDatabase, deployment_id: int) -> Callable[[], Awaitable[None]]:
    """A change of the deployment committed elsewhere (a vote on another process, say)."""
    async def rival() -> None:
        async with db.uow() as uow:
            d = await uow.deployments.get(deployment_id)
            assert d is not None
            await uow.deployments.save(replace(d, detail="touched"))
            await uow.commit()

    return rival


async def test_cancel_wins_over_changes_that_committed_first(db: InMemoryDatabase) -> None:
    await seed(db)
    deployment_id = await start(db)
    svc = service(db)
    svc.uow = raced(db, touch(db, deployment_id), times=2)
    await svc.execute(CancelDeployment(deployment_id), actor(OWNER))
    [d] = await deployments(db)
    assert (d.state, d.revision) == (DeploymentState.CANCELLED, 3)  # two touches, then the cancel


async def test_a_cancel_that_keeps_losing_says_so(db: InMemoryDatabase) -> None:
    await seed(db)
    deployment_id = await start(db)
    svc = service(db)
    svc.uow = raced(db, touch(db, deployment_id), times=CANCEL_TRIES)
    with pytest.raises(Conflict) as lost:
        await svc.execute(CancelDeployment(deployment_id), actor(OWNER))
    assert (lost.value.key, lost.value.facts) == ("cancel_outraced", {"deployment_id": deployment_id})
    assert (await deployments(db))[0].state is DeploymentState.AWAITING_APPROVAL


async def test_locks_are_taken_once_and_released_by_deployers(db: InMemoryDatabase) -> None:
    await seed(db, team=TEAM)
    svc = service(db)
    with pytest.raises(NotAllowed) as refused:
        await svc.execute(LockDeployments("churn"), actor(SCIENTIST))
    assert (refused.value.key, refused.value.facts["doing"]) == ("deployers_only", "lock")
    await svc.execute(LockDeployments("churn", "audit"), actor(ENGINEER))
    with pytest.raises(Conflict) as twice:
        await svc.execute(LockDeployments("churn"), actor(OWNER))
    lock = twice.value.facts["lock"]
    assert twice.value.key == "already_locked" and isinstance(lock, DeployLock)
    assert lock.locked_by == ENGINEER
    await svc.execute(UnlockDeployments("churn"), actor(OWNER))
    with pytest.raises(Conflict) as free:
        await svc.execute(UnlockDeployments("churn"), actor(OWNER))
    assert free.value.key == "not_locked"
    assert texts(db) == ["🔒 <@U_ENG> locked deployments of *churn*: audit",
                         "🔓 <@U_OWNER> unlocked deployments of *churn*."]
    await start(db)  # free again


async def test_a_rollback_needs_an_earlier_success(db: InMemoryDatabase) -> None:
    await seed(db)
    with pytest.raises(Conflict) as refused:
        await service(db).execute(RollbackDeployment("churn"), actor(OWNER))
    assert (refused.value.key, refused.value.facts) == ("no_rollback_version", {
        "slug": "churn", "pipeline": "gated"})


async def test_status_and_history_are_what_was_read(db: InMemoryDatabase) -> None:
    await seed(db, team=TEAM)
    svc = service(db)
    assert await svc.execute(DeploymentStatus("churn"), actor(OWNER)) == UseCaseStatus(
        "churn", None, (), None, None, (), db.clock.now(), "UTC")
    first = await start(db)
    await svc.execute(LockDeployments("churn", "audit"), actor(ENGINEER))
    of_churn = await svc.execute(DeploymentStatus("churn"), actor(OWNER))
    assert isinstance(of_churn, UseCaseStatus) and of_churn.latest is not None
    assert (of_churn.latest.id, [e.kind for e in of_churn.events]) == (first, ["requested",
                                                                             "gate_opened"])
    assert of_churn.lock is not None and of_churn.lock.reason == "audit"
    shown = await svc.execute(DeploymentStatus(deployment_id=first), actor(OWNER))
    assert isinstance(shown, DeploymentShown) and shown.deployment.id == first
    running = await svc.execute(DeploymentStatus(), actor(OWNER))
    assert isinstance(running, RunningNow) and [d.id for d in running.active] == [first]
    past = await svc.execute(DeploymentHistory("churn"), actor(OWNER))
    assert isinstance(past, DeployHistory) and [d.id for d in past.deployments] == [first]
