"""Taking back a passed stage's change (an MLflow alias move) when the deployment ends without
success: the change is kept with the stage, the end asks for the undo after its commit, and the
undo is claimed once — on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.deployment_model import DeploymentState
from bot.domain.pipeline import ApprovalSpec, ExecutorKind, ExecutorSpec, Pipeline, PipelineSet, StageSpec
from bot.executors.base import ExecutorResult, Outcome
from bot.services.commands import CancelDeployment, StartDeployment
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.events import UndoNeeded
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, OWNER, actor, deployments, seed

MOVE = ExecutorSpec(ExecutorKind.MLFLOW, alias="challenger")
PIPELINES = PipelineSet({"model": Pipeline("model", (
    StageSpec("challenger", MOVE),
    StageSpec("champion", ExecutorSpec(ExecutorKind.MLFLOW, alias="champion"),
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

    assert await runs.claim_undo(deployment_id) == [(ExecutorKind.MLFLOW, UNDO)]
    assert await runs.claim_undo(deployment_id) == [], "a second claim (another process) gets nothing"
    [d] = await deployments(db)
    assert all(stage.undo is None for stage in d.stages)
    async with db.uow() as uow:  # saved before the side effect: where the alias goes back to
        assert await uow.aliases.known("churn-xgb", "challenger") == "6"
