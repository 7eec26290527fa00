"""Freeze windows and running deployments: a stage that has not started yet waits out a window
(it is *held*: not running, its time not counted); one already under way is never stopped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.deployment_machine import StaleResult, Transition
from bot.domain.deployment_model import Deployment, Event, StageRun, StageState, StepKind
from bot.domain.freeze_passage import Passage, as_text
from bot.domain.freezes import FreezeWindow


def not_started(d: Deployment, index: int) -> bool:
    """The current stage's executor has not run yet: a freeze may still hold it back."""
    stage = d.stages[index]
    step = stage.step
    return (step is not None and not step.launched and step.kind is StepKind.RUN
            and step.wave in (None, 0) and all(w.state is StageState.WAITING for w in stage.waves))


def hold(d: Deployment, index: int, windows: Sequence[FreezeWindow], now: datetime) -> Transition:
    """Freeze windows, one after the other: the stage that has not started waits until the last
    one ends, its timeout moved along (the wait is not the executor's time)."""
    stage = d.stages[index]
    step = stage.step
    if step is None or not not_started(d, index):
        raise StaleResult("nothing_to_hold")
    until = windows[-1].end
    held = replace(step, due_at=until, deadline=until + (step.deadline - step.due_at))
    event = Event("held", now, stage=stage.name, detail=as_text(Passage("", tuple(windows))))
    # Held is not running: the stage starts (and its time counts) when the window has ended.
    waiting = replace(stage, step=held, started_at=None)
    return Transition(d.with_stage(index, waiting), (event,))


def is_held(stage: StageRun, now: datetime) -> bool:
    """The stage's first run waits for a freeze window to end."""
    step = stage.step
    return (stage.state is StageState.RUNNING and step is not None and not step.launched
            and step.kind is StepKind.RUN and step.due_at > now and stage.started_at is None)
