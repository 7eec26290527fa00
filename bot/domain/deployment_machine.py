"""The deployment state machine. Every transition takes ``(deployment, ..., now)`` and returns a
:class:`Transition`: the new state plus audit events. Refusals raise ``DomainError``.

A stage runs one step at a time: its run (once per wave) and, after each wave, the health check
(after the bake time). The engine launches the step the state names, then reports the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.changes import Change
from bot.domain.deployment_model import (
    Deployment,
    DeploymentState,
    Event,
    StageRun,
    StageState,
    Step,
    StepKind,
    WaveRun,
)
from bot.domain.deployment_stop import Stop, StopKind, as_text
from bot.domain.errors import Conflict
from bot.domain.pipeline import OnFailure, Pipeline, StageSpec, production_index
from bot.domain.production import Placement, extend
from bot.domain.targets import placed, stage_targets, unknown_after
from bot.domain.waves import plan_waves, target_names


class StaleResult(Conflict):
    """A result or click for a step that is no longer the current one; it changes nothing."""


class GateNews(StrEnum):
    """What the people who may decide a gate are to hear."""

    OPENED = "opened"        # it waits for them: each gets a direct message with the buttons
    REMINDER = "reminder"    # it still waits after its ``remind`` interval
    CHANGED = "changed"      # a vote, a decision, an expiry or a cancel: their messages follow


@dataclass(frozen=True)
class GateNotice:
    index: int
    news: GateNews


@dataclass(frozen=True)
class Transition:
    deployment: Deployment
    events: tuple[Event, ...] = ()
    kill: bool = False                          # a launched step must be stopped
    rollback_targets: tuple[str, ...] = ()      # automatic rollback to these targets is due
    gate: GateNotice | None = None              # news for the people who may decide a gate


def _stage_runs(stages: Sequence[StageSpec]) -> tuple[StageRun, ...]:
    runs = []
    for spec in stages:
        waves = plan_waves(spec.waves, target_names(spec.targets)) if spec.waves else []
        runs.append(StageRun(spec, waves=tuple(WaveRun(t) for t in waves)))
    return tuple(runs)


def request(*, use_case: str, version: str, pipeline: Pipeline, requested_by: str,
            channel_id: str, now: datetime, kind: str = "deploy",
            rollback_of: int | None = None, baseline: Placement = ()) -> Transition:
    """``baseline``: what runs in production now (the previous deployment's placement)."""
    stages = _stage_runs(pipeline.stages)
    production = stages[production_index(pipeline.stages)]
    if pipeline.is_dry_run:
        baseline = ()  # a rehearsal: it keeps no account of production
    elif not production.spec.run.is_dry_run:
        baseline = extend(baseline, stage_targets(production))
    d = Deployment(
        use_case=use_case, version=version, pipeline=pipeline.name, requested_by=requested_by,
        requested_at=now, channel_id=channel_id, stages=stages,
        kind=kind, rollback_of=rollback_of, dry_run=pipeline.is_dry_run,
        production=baseline,
    )
    started = _advance(d, now)
    event = Event("requested", now, requested_by)  # the deployment says what and how
    return replace(started, events=(event, *started.events))


def _advance(d: Deployment, now: datetime) -> Transition:
    """Move to the next stage that is not done: open its gate or start it; or finish."""
    index = d.current
    if index is None:
        done = replace(d, state=DeploymentState.SUCCEEDED, finished_at=now)
        return Transition(done, (Event("succeeded", now),))
    stage = d.stages[index]
    if stage.spec.approval is not None and stage.gate_opened_at is None:
        gated = replace(stage, state=StageState.AWAITING_APPROVAL, gate_opened_at=now)
        waiting = replace(d.with_stage(index, gated), state=DeploymentState.AWAITING_APPROVAL)
        return Transition(waiting, (Event("gate_opened", now, stage=stage.name),))
    return Transition(start_stage(d, index, now))


def start_stage(d: Deployment, index: int, now: datetime) -> Deployment:
    stage = d.stages[index]
    step = _run_step(stage, 0 if stage.waves else None, now)
    running = replace(stage, state=StageState.RUNNING, started_at=now, step=step)
    return replace(d.with_stage(index, running), state=DeploymentState.RUNNING)


def _run_step(stage: StageRun, wave: int | None, now: datetime) -> Step:
    return Step(StepKind.RUN, wave, due_at=now, deadline=now + stage.spec.timeout)


def active_stage(d: Deployment, index: int, expected: StageState) -> StageRun:
    if not d.state.is_active:
        raise StaleResult("deployment_ended", deployment=d.id, state=d.state)
    if not 0 <= index < len(d.stages):
        raise StaleResult("no_such_stage", deployment=d.id, index=index)
    if d.current != index or d.stages[index].state is not expected:
        raise StaleResult("stage_moved_on", stage=d.stages[index].name, deployment=d.id,
                          expected=expected)
    return d.stages[index]


def launch(d: Deployment, index: int, now: datetime) -> Deployment:
    """Mark the current step as started; persisted before the executor runs, so never twice."""
    stage = active_stage(d, index, StageState.RUNNING)
    if stage.step is None or stage.step.launched or stage.step.due_at > now:
        raise StaleResult("nothing_to_launch")
    started = stage.started_at or now  # a stage held by a freeze starts now, not when it was held
    return d.with_stage(index, replace(stage, started_at=started,
                                       step=replace(stage.step, launched=True)))


# ── ending ───────────────────────────────────────────────────────────────────────────────────

def end(d: Deployment, state: DeploymentState, current_as: StageState, now: datetime,
        stop: Stop) -> Deployment:
    """``stop``: why, kept with the deployment and the stage it stopped at."""
    detail = as_text(stop)
    stages = []
    for stage in d.stages:
        if stage.state.is_done:
            stages.append(stage)
        elif stage is d.current_stage:
            stages.append(replace(stage, state=current_as, finished_at=now, detail=detail, step=None))
        else:
            stages.append(replace(stage, state=StageState.SKIPPED))
    return replace(d, stages=tuple(stages), state=state, finished_at=now, detail=detail)


def cancel(d: Deployment, user_id: str, reason: str, now: datetime) -> Transition:
    """Cancel always wins: whatever runs is stopped and nothing after it starts."""
    if not d.state.is_active:
        raise Conflict("deployment_ended", deployment=d.id, state=d.state)
    stage = d.current_stage
    launched = bool(stage and stage.step and stage.step.launched)
    why = Stop(StopKind.CANCELLED, stage.name if stage else "", user_id, reason)
    index = d.current
    if stage is not None and index is not None:
        d = unknown_after(d, index, stage.step, now)
    ended = end(d, DeploymentState.CANCELLED, StageState.CANCELLED, now, why)
    event = Event("cancelled", now, user_id, stage.name if stage else None, detail=reason)
    at_gate = stage is not None and index is not None and stage.state is StageState.AWAITING_APPROVAL
    gate = GateNotice(index, GateNews.CHANGED) if at_gate and index is not None else None
    return Transition(ended, (event,), kill=launched, gate=gate)


# ── executor results and time ────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class StepResult:
    succeeded: bool
    detail: str = ""
    url: str | None = None
    accepted: bool = False  # the executor took the job; the result comes later
    undo: dict[str, str] | None = None  # how to take the passed step's change back
    change: Change | None = None  # what the version turned out to be (the commit a run built)


def record_result(d: Deployment, index: int, kind: StepKind, wave: int | None,
                  result: StepResult, now: datetime) -> Transition:
    """Apply what the executor said about the current step; a result for any other step is stale."""
    stage = active_stage(d, index, StageState.RUNNING)
    step = stage.step
    if step is None or not step.launched or (step.kind, step.wave) != (kind, wave):
        raise StaleResult("result_not_awaited", stage=stage.name, deployment=d.id)
    if result.change is not None and (d.change is None or _is_production(d, index)):
        d = replace(d, change=result.change)  # what production got, else the first one learnt
    if result.accepted:
        waiting = replace(stage, step=replace(step, accepted=True), url=result.url or stage.url)
        return Transition(d.with_stage(index, waiting))
    if not result.succeeded:
        return _fail(d, index, now, result, StopKind.FAILED)
    return _step_passed(d, index, now, result)


def _is_production(d: Deployment, index: int) -> bool:
    return index == production_index(tuple(s.spec for s in d.stages))


def _step_passed(d: Deployment, index: int, now: datetime, result: StepResult) -> Transition:
    stage = d.stages[index]
    step = stage.step
    assert step is not None
    url = result.url or stage.url
    stage = replace(stage, undo=result.undo or stage.undo)
    event = Event(f"{step.kind.value}_passed", now, stage=stage.name, wave=_wave_no(step.wave),
                  detail=result.detail)
    d = placed(d, index, step, d.version, now)
    if step.wave is None:
        passed = replace(stage, state=StageState.PASSED, finished_at=now, step=None,
                         detail=result.detail, url=url)
        moved = _advance(d.with_stage(index, passed), now)
        return replace(moved, events=(event, *moved.events))
    waves = list(stage.waves)
    wave = waves[step.wave]
    if step.kind is StepKind.RUN and stage.spec.health is not None:
        # The wave's targets run the new version now, whatever its health check will say.
        waves[step.wave] = replace(wave, state=StageState.PASSED, health=StageState.WAITING)
        health = Step(StepKind.HEALTH, step.wave, due_at=now + stage.spec.bake,
                      deadline=now + stage.spec.bake + stage.spec.timeout)
        checking = replace(stage, waves=tuple(waves), step=health, url=url)
        return Transition(d.with_stage(index, checking), (event,))
    health_state = StageState.PASSED if step.kind is StepKind.HEALTH else None
    waves[step.wave] = replace(wave, state=StageState.PASSED, health=health_state)
    stage = replace(stage, waves=tuple(waves), url=url)
    if step.wave + 1 < len(waves):
        nxt = replace(stage, step=_run_step(stage, step.wave + 1, now))
        return Transition(d.with_stage(index, nxt), (event,))
    # Success only now: the last wave ran and its health check (if any) passed.
    finished = replace(stage, state=StageState.PASSED, finished_at=now, step=None)
    moved = _advance(d.with_stage(index, finished), now)
    return replace(moved, events=(event, *moved.events))


def _wave_no(wave: int | None) -> int | None:
    return None if wave is None else wave + 1


def _fail(d: Deployment, index: int, now: datetime, result: StepResult, kind: StopKind,
          waited: timedelta | None = None) -> Transition:
    stage = d.stages[index]
    step = stage.step
    assert step is not None
    as_state = StageState.TIMED_OUT if kind is StopKind.TIMED_OUT else StageState.FAILED
    waves = list(stage.waves)
    if step.wave is not None:
        wave = waves[step.wave]
        waves[step.wave] = (replace(wave, health=as_state) if step.kind is StepKind.HEALTH
                            else replace(wave, state=as_state))
    stop = Stop(kind, stage.name, reason=result.detail, health=step.kind is StepKind.HEALTH,
                wave=_wave_no(step.wave), waited=waited)
    failed_stage = replace(stage, waves=tuple(waves), url=result.url or stage.url,
                           undo=result.undo or stage.undo)  # a change may stand all the same
    d = unknown_after(d.with_stage(index, failed_stage), index, step, now)
    ended = end(d, DeploymentState.FAILED, as_state, now, stop)
    event = Event(as_state.value, now, stage=stage.name, wave=_wave_no(step.wave),
                  detail=as_text(stop))
    touched: tuple[str, ...] = ()
    if stage.spec.on_failure is OnFailure.ROLLBACK and step.wave is not None:
        # The failed wave may be partly deployed: it is rolled back along with the ones before.
        touched = tuple(t for w in waves[: step.wave + 1] for t in w.targets)
    return Transition(ended, (event,), rollback_targets=touched)


def time_out(d: Deployment, now: datetime) -> Transition:
    """A launched step outlived the stage's timeout: it is stopped and the deployment fails."""
    index, stage = d.current, d.current_stage
    if stage is None or index is None or stage.step is None or not stage.step.launched:
        raise StaleResult("nothing_running")
    if stage.step.deadline > now:
        raise StaleResult("not_timed_out")
    moved = _fail(d, index, now, StepResult(False), StopKind.TIMED_OUT, stage.spec.timeout)
    return replace(moved, kill=True)


def followed(d: Deployment, index: int, kind: StepKind, wave: int | None, ref: str) -> Deployment:
    """The running step started ``ref`` elsewhere (a GitHub run): kept, so that if this worker
    goes, another follows that run to its end instead of failing the step or starting another."""
    stage = d.stages[index]
    step = stage.step
    if d.current != index or step is None or not step.launched or (step.kind, step.wave) != (kind, wave):
        raise StaleResult("not_the_running_step")
    return d.with_stage(index, replace(stage, step=replace(step, follow=ref)))


def lost(d: Deployment, now: datetime) -> Transition:
    """The process running a step died; the step is failed, never silently run again."""
    index, stage = d.current, d.current_stage
    if stage is None or index is None or stage.step is None or not stage.step.launched:
        raise StaleResult("nothing_running")
    return _fail(d, index, now, StepResult(False), StopKind.LOST)
