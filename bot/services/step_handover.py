"""A step whose work runs elsewhere (a GitHub workflow run) outlives the worker that started it.

What it started is saved with the step as soon as the executor names it. When that worker goes
-- shut down, or its lease ran out -- the next worker to look takes the step over and follows the
same run to its end: the step is neither failed as lost nor started a second time. Only one
worker takes it (the deployment's revision guard), and the one that lost the lease leaves the
run alone (its task is cancelled with ``HANDED_OVER``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain import deployment_machine as machine
from bot.domain.deploy_cards import TakenOver
from bot.domain.deployment_machine import StaleResult
from bot.domain.deployment_model import StepKind
from bot.domain.pipeline import ExecutorKind
from bot.services import deployment_flow as flow
from bot.services.deployment_runs import DeploymentRuns, Launched
from bot.services.ports import ConcurrentUpdate


async def keep_followable(runs: DeploymentRuns, deployment_id: int, index: int, kind: StepKind,
                          wave: int | None, ref: str) -> None:
    """The executor started ``ref``: saved with the running step, for a successor."""
    async with runs.uow() as uow:
        d = await uow.deployments.get(deployment_id)
        if d is None:
            return
        try:
            await uow.deployments.save(machine.followed(d, index, kind, wave, ref))
        except (StaleResult, ConcurrentUpdate):
            return  # it ended or moved meanwhile: nothing left to follow
        await uow.commit()


async def take_over(runs: DeploymentRuns, deployment_id: int, owner: str, lease: timedelta,
                    can_follow: Callable[[ExecutorKind], bool]) -> Launched | None:
    """Take over the step of a deployment whose worker went, if what it started can be
    followed; None: there is nothing to follow (the step is then failed as lost)."""
    now = runs.clock.now()
    async with runs.uow() as uow:
        d = await uow.deployments.get(deployment_id)
        if d is None or d.current is None:
            return None
        index = d.current
        stage = d.stages[index]
        step = stage.step
        spec = stage.spec.health if step is not None and step.kind is StepKind.HEALTH else stage.spec.run
        if step is None or not step.launched or not step.follow or spec is None \
                or not can_follow(spec.kind):
            return None
        try:
            saved = await uow.deployments.save(d)  # the revision guard: one worker takes it
        except ConcurrentUpdate:
            return None
        await uow.deployments.set_lease(deployment_id, owner, now + lease)
        flow.thread(uow, saved, TakenOver(stage.name, step.follow))
        await uow.commit()
    job = runs.job_for(saved, index, step)
    return Launched(deployment_id, index, step, job, step.deadline - now, saved, follow=step.follow)
