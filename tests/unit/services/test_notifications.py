"""Direct messages to the requester (bot/services/notifications.py): which transitions send
one, which don't, `/deploy notify on|off` honoured — on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.deploy_results import NotifySettingShown
from bot.domain.deployment_model import DeploymentState, StepKind
from bot.domain.pipeline import ApprovalSpec, ExecutorKind, ExecutorSpec, Pipeline, PipelineSet, StageSpec
from bot.domain.usecases import Role, TeamMember
from bot.executors.base import ExecutorResult, Outcome
from bot.services.approvals import ApprovalService
from bot.services.commands import CancelDeployment, NotifySetting, StartDeployment
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.ports import OutgoingMessage
from tests.fakes.directory import FakeGroups
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, ENGINEER, OWNER, actor, button, deployments, seed

DRY = ExecutorSpec(ExecutorKind.DRY_RUN)
PIPELINES = PipelineSet({"gated": Pipeline("gated", (StageSpec("prod", DRY, approval=ApprovalSpec()),)),
                         "open": Pipeline("open", (StageSpec("build", DRY),))}, default="gated")


def service(db: InMemoryDatabase) -> DeploymentService:
    return DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))


def approvals(db: InMemoryDatabase) -> ApprovalService:
    return ApprovalService(db.uow, db.clock, FakeGroups({}), service(db), "UTC")


def dms(db: InMemoryDatabase, user: str = ENGINEER) -> list[OutgoingMessage]:
    return [m for m in db.messages() if m.channel == user]


def lines(db: InMemoryDatabase, user: str = ENGINEER) -> list[str]:
    return [str(m.args["text"]) for m in dms(db, user)]


async def started(db: InMemoryDatabase, pipeline: str = "gated") -> int:
    """churn, deployed by its data engineer."""
    await seed(db, team=(TeamMember(ENGINEER, Role.DATA_ENGINEER),))
    await service(db).execute(StartDeployment("churn", "v1", pipeline), actor(ENGINEER))
    [d] = await deployments(db)
    assert d.id is not None
    return d.id


async def finish(db: InMemoryDatabase, deployment_id: int, outcome: Outcome) -> None:
    runs = DeploymentRuns(db.uow, db.clock, "UTC", "http://bot.example")
    launched = await runs.launch(deployment_id, "worker-1", timedelta(minutes=1))
    assert launched is not None
    await runs.record(deployment_id, 0, StepKind.RUN, None, ExecutorResult(outcome, "exit 1"))


async def test_a_gate_that_opens_sends_one_dm_with_a_link_to_the_message(db: InMemoryDatabase) -> None:
    deployment_id = await started(db)
    [dm] = dms(db)
    assert dm.method == "chat.postMessage" and dm.args["channel"] == ENGINEER
    assert dm.args["text"] == (f"✋ Your deployment {deployment_id} of churn `v1` (dry run) "
                               "waits for approval at `prod` from the owner <@U_OWNER> or an "
                               "admin (<@U_ADMIN>)")
    assert dm.link_of == f"deployment:{deployment_id}"  # the worker adds the permalink


async def test_a_rejection_is_said_with_who_and_where(db: InMemoryDatabase) -> None:
    deployment_id = await started(db)
    await approvals(db).reject(button(db, "reject"), actor(OWNER), "tests are red")
    assert lines(db)[1:] == [f"⛔ Your deployment {deployment_id} of churn `v1` (dry run) was "
                             "rejected at `prod` by <@U_OWNER>"]


async def test_an_approval_says_nothing_until_the_end(db: InMemoryDatabase) -> None:
    deployment_id = await started(db)
    await approvals(db).approve(button(db, "approve"), actor(OWNER))
    assert len(dms(db)) == 1  # only the gate's
    await finish(db, deployment_id, Outcome.SUCCEEDED)
    assert lines(db)[1:] == [f"✅ Your deployment {deployment_id} of churn `v1` (dry run) succeeded"]


async def test_success_and_failure_are_said_once(db: InMemoryDatabase) -> None:
    deployment_id = await started(db, "open")
    assert dms(db) == []  # no gate: nothing to say yet
    await finish(db, deployment_id, Outcome.FAILED)
    [line] = lines(db)
    assert line.startswith(f"❌ Your deployment {deployment_id} of churn `v1` (dry run) failed")
    assert (await deployments(db))[0].state is DeploymentState.FAILED


async def test_an_expired_gate_is_said(db: InMemoryDatabase, clock: ManualClock) -> None:
    deployment_id = await started(db)
    clock.advance(timedelta(days=30))
    await DeploymentRuns(db.uow, db.clock, "UTC", "http://bot.example").sweep(deployment_id)
    assert (await deployments(db))[0].state is DeploymentState.EXPIRED
    assert lines(db)[1:] == [f"⌛ Your deployment {deployment_id} of churn `v1` (dry run) expired "
                             "waiting for approval at `prod`"]


async def test_cancelling_ones_own_deployment_sends_no_dm_but_someone_elses_does(
        db: InMemoryDatabase) -> None:
    first = await started(db)
    await service(db).execute(CancelDeployment(first), actor(ENGINEER))
    assert len(dms(db)) == 1  # the gate's only
    await service(db).execute(StartDeployment("churn", "v2"), actor(ENGINEER))
    second = (await deployments(db))[0].id
    await service(db).execute(CancelDeployment(second or 0, "freeze"), actor(OWNER))
    assert lines(db)[-1] == f"⏹️ Your deployment {second} of churn `v2` (dry run) was cancelled by <@U_OWNER>"


async def test_notify_off_is_honoured_and_on_again_resumes(db: InMemoryDatabase) -> None:
    svc = service(db)

    async def said(setting: NotifySetting, user: str) -> NotifySettingShown:
        return await svc.execute(setting, actor(user))  # type: ignore[return-value]

    assert await said(NotifySetting(), ENGINEER) == NotifySettingShown(True, changed=False)
    assert await said(NotifySetting(False), ENGINEER) == NotifySettingShown(False, changed=True)
    assert await said(NotifySetting(), ENGINEER) == NotifySettingShown(False, changed=False)
    assert await said(NotifySetting(), OWNER) == NotifySettingShown(True, changed=False)  # per person
    deployment_id = await started(db)
    await approvals(db).reject(button(db, "reject"), actor(OWNER), "no")
    assert dms(db) == []
    await svc.execute(NotifySetting(True), actor(ENGINEER))
    await svc.execute(StartDeployment("churn", "v2"), actor(ENGINEER))
    assert len(dms(db)) == 1 and deployment_id + 1 == (await deployments(db))[0].id
