"""Taking back a stage's change (an MLflow alias move) when the deployment ends without success:
the intent is saved before the change, the end asks for the undo after its commit, the changes
are claimed by one worker for a while and cleared one by one once taken back, and a worker that
died leaves the rest to the next — on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.deployment_model import DeploymentState
from bot.domain.executor_specs import MlflowSpec
from bot.domain.pipeline import ApprovalSpec, ExecutorKind, Pipeline, PipelineSet, StageSpec
from bot.domain.undo import Change
from bot.executors.base import ExecutorResult, Outcome
from bot.services.change_undo import ChangeUndo
from bot.services.commands import CancelDeployment, StartDeployment
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.events import UndoNeeded
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, OWNER, actor, deployments, seed

MOVE = MlflowSpec(alias="challenger")
PIPELINES = PipelineSet({"model": Pipeline("model", (
    StageSpec("challenger", MOVE),
    StageSpec("champion", MlflowSpec(alias="champion"),
              approval=ApprovalSpec())))}, default="model")
UNDO = {"model": "churn-xgb", "alias": "challenger", "version": "6", "deployed": "7"}


async def moved_then_waiting(db: InMemoryDatabase) -> tuple[int, DeploymentRuns]:
    """A deployment whose challenger stage moved the alias; it now waits at champion's gate."""
    await seed(db)
    service = DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))
    await service.execute(StartDeployment("churn", "7"), actor(OWNER))
    [d] = await deployments(db)
    assert d.id is not None
    runs = DeploymentRuns(db.uow, db.clock, "UTC", "http://bot.example")
    launched = await runs.launch(d.id, "worker-1", timedelta(minutes=1))
    assert launched is not None
    moved = ExecutorResult(Outcome.SUCCEEDED, "`churn-xgb@challenger`: v6 → v7", undo=UNDO)
    await runs.record(d.id, launched.index, launched.step.kind, launched.step.wave, moved)
    return d.id, runs


async def test_the_move_is_kept_and_remembered_as_the_bots_own(db: InMemoryDatabase) -> None:
    deployment_id, _runs = await moved_then_waiting(db)
    [d] = await deployments(db)
    assert d.state is DeploymentState.AWAITING_APPROVAL and d.stages[0].undo == UNDO
    async with db.uow() as uow:
        assert await uow.aliases.known("churn-xgb", "challenger") == "7"
    assert UndoNeeded(deployment_id) not in db.published, "still running: nothing to undo"


async def test_a_cancelled_deployment_asks_for_its_undo_which_is_claimed_once(
        db: InMemoryDatabase) -> None:
    deployment_id, runs = await moved_then_waiting(db)
    service = DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))
    await service.execute(CancelDeployment(deployment_id, "wrong model"), actor(OWNER))
    assert UndoNeeded(deployment_id) in db.published

    changes = ChangeUndo(db.uow, db.clock)
    assert await changes.claim(deployment_id, timedelta(seconds=45)) == [
        Change(0, ExecutorKind.MLFLOW, UNDO)]
    assert await changes.claim(deployment_id, timedelta(seconds=45)) == [], \
        "a second claim (another process) gets nothing while the first holds it"
    async with db.uow() as uow:  # saved before the side effect: where the alias goes back to
        assert await uow.aliases.known("churn-xgb", "challenger") == "6"
    [d] = await deployments(db)
    assert d.stages[0].undo == UNDO, "kept until it is taken back"

    await changes.undone(deployment_id, 0, "`churn-xgb@challenger` points back at v6")
    [d] = await deployments(db)
    assert all(stage.undo is None for stage in d.stages) and d.next_deadline() is None
    async with db.uow() as uow:
        events = await uow.deployments.events(deployment_id)
    assert [(e.kind, e.stage, e.detail) for e in events if e.kind == "undone"] == [
        ("undone", "challenger", "`churn-xgb@challenger` points back at v6")]
    said = db.messages()[-1]  # in the deployment's thread
    assert (said.thread_of, said.args["text"]) == (
        f"deployment:{deployment_id}", "↩️ `churn-xgb@challenger` points back at v6")


async def test_a_worker_that_died_taking_back_leaves_the_change_to_the_next(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    deployment_id, runs = await moved_then_waiting(db)
    service = DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))
    await service.execute(CancelDeployment(deployment_id, "wrong model"), actor(OWNER))
    changes = ChangeUndo(db.uow, db.clock)
    assert await changes.due() == [deployment_id], "nobody has claimed it yet"
    assert len(await changes.claim(deployment_id, timedelta(seconds=45))) == 1  # ...then dies
    assert await changes.due() == []
    clock.advance(timedelta(seconds=46))
    assert await changes.due() == [deployment_id]
    assert await changes.claim(deployment_id, timedelta(seconds=45)) == [
        Change(0, ExecutorKind.MLFLOW, UNDO)]


async def test_the_intent_is_saved_on_the_running_step_before_the_change(db: InMemoryDatabase) -> None:
    await seed(db)
    service = DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}))
    await service.execute(StartDeployment("churn", "7"), actor(OWNER))
    [d] = await deployments(db)
    assert d.id is not None
    deployment_id = d.id
    runs = DeploymentRuns(db.uow, db.clock, "UTC", "http://bot.example")
    launched = await runs.launch(deployment_id, "worker-1", timedelta(minutes=1))
    assert launched is not None
    changes = ChangeUndo(db.uow, db.clock)
    step = launched.step
    assert await changes.intend(deployment_id, 0, step.kind, step.wave, UNDO)
    [d] = await deployments(db)
    assert d.stages[0].undo == UNDO
    lost = await runs.mark_lost(deployment_id)  # the process died mid-call: its undo stands
    assert lost is not None and lost.deployment.needs_undo
    assert UndoNeeded(deployment_id) in db.published
    assert not await changes.intend(deployment_id, 0, step.kind, step.wave, UNDO), \
        "a step that is no longer running makes no change"
