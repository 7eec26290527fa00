"""The engine's side of deployments: launch due steps, record results, apply deadlines.

Each function is one transaction; a step is launched only by the transaction that wins the
revision guard, so two workers or two processes never start the same step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import deployment_machine as machine
from bot.domain import gates
from bot.domain.deploy_cards import (
    FrozenStage,
    LockReminder,
    RollingBack,
    StepLost,
    StepOutput,
    ThreadNote,
)
from bot.domain.deployment_machine import GateNews, StaleResult, StepResult, Transition
from bot.domain.deployment_model import Deployment, StageState, Step, StepKind
from bot.domain.freezes import RecurringFreeze
from bot.domain.holds import hold, not_started
from bot.domain.pipeline import ExecutorKind, Pipeline, production_index
from bot.domain.rollbacks import automatic_rollback_stage, rollback_version
from bot.domain.safe_text import without_controls
from bot.domain.waves import target_names
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.log_events import get_logger
from bot.services import deployment_flow as flow
from bot.services import gate_notices
from bot.services.events import DeploymentChanged
from bot.services.freezes import chain_for
from bot.services.ports import ConcurrentUpdate, GroupDirectory, UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class Launched:
    """A step this worker now owns: run ``spec`` for ``job`` within ``timeout``."""

    deployment_id: int
    index: int
    step: Step
    job: StageJob
    timeout: timedelta
    deployment: Deployment
    follow: str = ""  # taken over: follow what the step started elsewhere, start nothing


@dataclass
class DeploymentRuns:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    timezone: str
    public_url: str
    freezes: tuple[RecurringFreeze, ...] = ()  # the pipeline file's; ad hoc ones are stored
    admins: frozenset[str] = frozenset()
    groups: GroupDirectory | None = None       # who is in the user groups a gate names

    @property
    def books(self) -> flow.Books:
        return flow.Books(self.clock, self.timezone, self.admins)

    async def due(self, *, launch: bool) -> list[int]:
        async with self.uow() as uow:
            return await uow.deployments.due(self.clock.now(), launch=launch)

    async def lost(self) -> list[int]:
        async with self.uow() as uow:
            return await uow.deployments.lost(self.clock.now())

    async def launch(self, deployment_id: int, owner: str, lease: timedelta) -> Launched | None:
        now = self.clock.now()
        try:
            async with self.uow() as uow:
                d = await uow.deployments.get(deployment_id)
                if d is None or d.current is None:
                    return None
                index = d.current
                if await self._held(uow, d, index, now):
                    return None  # a freeze window: it waits, and the thread says until when
                launched = machine.launch(d, index, now)
                linked = await uow.use_cases.get(d.use_case)  # its MLflow model, for mlflow stages
                saved = await uow.deployments.save(launched)
                await uow.deployments.set_lease(deployment_id, owner, now + lease)
                uow.emit(DeploymentChanged(deployment_id))  # running now: Home tabs show it
                await uow.commit()
        except (StaleResult, ConcurrentUpdate):
            return None  # not due after all, or another worker launched it first
        step = saved.stages[index].step
        assert step is not None
        job = replace(self.job_for(saved, index, step), model=linked.model if linked else "")
        return Launched(deployment_id, index, step, job, step.deadline - now, saved)

    async def _held(self, uow: UnitOfWork, d: Deployment, index: int, now: datetime) -> bool:
        """A stage that has not started waits out a freeze window (unless an admin overrode
        freezes for this deployment); one already under way is never stopped half-way. A
        rollback restores a known-good version: no freeze holds it, and its thread says so."""
        if d.override or not not_started(d, index):
            return False
        chain = await chain_for(uow, self.freezes, d.use_case, now)
        if not chain:
            return False
        frozen = FrozenStage(d.stages[index].name, tuple(chain), self.timezone,
                             passes=d.kind == "rollback")
        if frozen.passes:  # said with the launch, in its transaction
            flow.thread(uow, d, frozen)
            return False
        t = hold(d, index, chain, now)
        await flow.persist(uow, t, self.books, notes=(frozen,))
        await uow.commit()
        return True

    def job_for(self, d: Deployment, index: int, step: Step) -> StageJob:
        stage = d.stages[index]
        if step.wave is not None:
            targets = stage.waves[step.wave].targets
        else:
            targets = target_names(stage.spec.targets) if stage.spec.targets else ()
        wave = "" if step.wave is None else f"&wave={step.wave + 1}"
        callback = (f"{self.public_url}/api/v1/deployments/{d.id}/stages/{stage.name}/result"
                    f"?kind={step.kind.value}{wave}")
        ran_at = step.due_at - stage.spec.bake if step.kind is StepKind.HEALTH else None
        production = step.kind is StepKind.RUN \
            and index == production_index(tuple(s.spec for s in d.stages))
        return StageJob(str(d.id), d.use_case, d.version, stage.name,
                        None if step.wave is None else step.wave + 1, targets, callback,
                        d.requested_by, d.requested_at, ran_at, production=production,
                        final=step.wave is None or step.wave == len(stage.waves) - 1)

    async def record(self, deployment_id: int, index: int, kind: StepKind, wave: int | None,
                     result: ExecutorResult) -> Deployment | None:
        """Apply an executor's result (or a callback's); stale results change nothing."""
        # Executors' words are stored as they come, minus control characters (NUL: PostgreSQL).
        detail, tail = without_controls(result.detail), tuple(map(without_controls, result.output_tail))
        step_result = StepResult(result.outcome is Outcome.SUCCEEDED, detail, result.url,
                                 accepted=result.outcome is Outcome.ACCEPTED, undo=result.undo,
                                 change=result.change)
        # The thread gets what the message can't show: output, links and why something failed.
        show = bool(tail or result.url or result.outcome is Outcome.FAILED)

        def change(d: Deployment, now: datetime) -> Transition:
            return machine.record_result(d, index, kind, wave, step_result, now)

        def notes(d: Deployment) -> tuple[ThreadNote, ...]:
            stage = d.stages[index]
            health = kind is StepKind.HEALTH
            # Said either way: a business KPI's verdict (which KPI, its values, the rule) and a
            # change that can be taken back (an MLflow alias: from which version to which).
            judged = health and stage.spec.health is not None \
                and stage.spec.health.kind is ExecutorKind.KPI
            shown = show or judged or result.undo is not None
            return (StepOutput(stage.name, health, wave, tail, detail, result.url),) if shown else ()

        moved = result.undo or {}

        async def remember(uow: UnitOfWork) -> None:
            # In the same commit as the result: the registry's event of this move is not news.
            if result.outcome is Outcome.SUCCEEDED and moved.get("deployed"):
                await uow.aliases.remember(moved["model"], moved["alias"], moved["deployed"],
                                           self.clock.now())

        return await self._change(deployment_id, change, notes=notes, also=remember)

    async def sweep(self, deployment_id: int) -> Transition | None:
        """A moment came: a gate's approvers are to be told or reminded, a gate expired, or a
        running step outlived its timeout."""
        async with self.uow() as uow:
            d = await uow.deployments.get(deployment_id)
        news = gates.news_due(d, self.clock.now()) if d is not None else None
        if news is GateNews.OPENED and d is not None:
            told = await gate_notices.audience(self.uow, self.groups, self.admins, d)
            return await self._transition(
                deployment_id, lambda d, now: gates.tell(d, told.people, now, told.group_ids))
        if news is GateNews.REMINDER:
            return await self._transition(deployment_id, gates.remind)

        def change(d: Deployment, now: datetime) -> Transition:
            stage = d.current_stage
            if stage is not None and stage.state is StageState.AWAITING_APPROVAL:
                return gates.expire(d, now)
            return machine.time_out(d, now)

        return await self._transition(deployment_id, change)

    async def mark_lost(self, deployment_id: int) -> Transition | None:
        def note(d: Deployment) -> tuple[ThreadNote, ...]:  # no executor output to show: this is all
            stage = d.current_stage
            return (StepLost(stage.name),) if stage else ()

        return await self._transition(deployment_id, machine.lost, notes=note)

    async def _transition(self, deployment_id: int,
                          change: Callable[[Deployment, datetime], Transition], *,
                          notes: Callable[[Deployment], tuple[ThreadNote, ...]] = lambda _d: ()
                          ) -> Transition | None:
        holder: list[Transition] = []

        def remember(d: Deployment, now: datetime) -> Transition:
            holder.append(change(d, now))
            return holder[-1]

        saved = await self._change(deployment_id, remember, notes=notes)
        return holder[-1] if saved is not None and holder else None

    async def _change(self, deployment_id: int, change: Callable[[Deployment, datetime], Transition],
                      *, notes: Callable[[Deployment], tuple[ThreadNote, ...]] = lambda _d: (),
                      also: Callable[[UnitOfWork], Awaitable[None]] | None = None
                      ) -> Deployment | None:
        async def attempt() -> Deployment | None:
            now = self.clock.now()
            async with self.uow() as uow:
                d = await uow.deployments.get(deployment_id)
                if d is None:
                    return None
                t = change(d, now)
                saved = await flow.persist(uow, t, self.books, notes=notes(d), announce_end=False)
                # Whatever ran is over (or waits for a callback): no worker holds it now.
                await uow.deployments.set_lease(deployment_id, None, None)
                rollback = await self._roll_back(uow, saved, t.rollback_targets) \
                    if t.rollback_targets else None
                if not saved.state.is_active:  # its end says whether a rollback follows
                    await flow.end(uow, saved, self.books, rollback)
                if also is not None:
                    await also(uow)
                await uow.commit()
            return saved

        try:  # a concurrent change (a callback racing its own 202) is re-read and decided again
            return await flow.retried(attempt)
        except (StaleResult, ConcurrentUpdate) as skipped:
            log.info("deployment.skip", deployment_id=deployment_id, reason=skipped)
            return None

    async def _roll_back(self, uow: UnitOfWork, failed: Deployment,
                         targets: tuple[str, ...]) -> Deployment | None:
        """Redeploy the last good version to the targets the failed rollout touched; None when
        there is no earlier version to go back to (its end says so)."""
        history = await uow.deployments.history(failed.use_case, limit=50, pipeline=failed.pipeline)
        version = rollback_version(history, failed.pipeline)  # from the failed one's version
        if version is None:
            return None
        stage = next(s for s in failed.stages if s.state.is_done and s.waves and
                     s.state is not StageState.SKIPPED and s.state is not StageState.PASSED)
        pipeline = Pipeline(failed.pipeline, (automatic_rollback_stage(stage.spec, targets),))
        t = machine.request(use_case=failed.use_case, version=version, pipeline=pipeline,
                            requested_by=failed.requested_by, channel_id=failed.channel_id,
                            now=self.clock.now(), kind="rollback", rollback_of=failed.id,
                            baseline=failed.production)
        rollback = await uow.deployments.add(t.deployment)
        await uow.deployments.record(rollback, t.events)
        await flow.post_new(uow, rollback, self.books)
        assert rollback.id is not None
        flow.thread(uow, failed, RollingBack(len(targets), version, rollback.id))
        return rollback

    async def remind_locks(self, age: timedelta) -> int:
        """Nudge the channel about locks older than ``age`` (once per ``age``)."""
        now = self.clock.now()
        async with self.uow() as uow:
            claimed = await uow.deployments.claim_lock_reminders(now, age)
            for lock, channel in claimed:
                flow.announce(uow, channel, LockReminder(lock, self.timezone, now))
            await uow.commit()
        return len(claimed)

    async def record_callback(self, deployment_id: int, stage: str, kind: StepKind,
                              wave: int | None, result: ExecutorResult) -> bool:
        """A webhook's late result, for the stage named in its URL; False if not waiting."""
        async with self.uow() as uow:
            d = await uow.deployments.get(deployment_id)
        if d is None or d.current is None or d.stages[d.current].name != stage:
            return False
        return await self.record(deployment_id, d.current, kind, wave, result) is not None
