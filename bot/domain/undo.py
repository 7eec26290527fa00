"""Taking back what a deployment changed when it ends without success (an MLflow alias moved).

Saved before every side effect, so a process that dies at any moment leaves a record another
can finish: a step saves how to take its change back *before* making it (:func:`intends`); the
ended deployment's changes are claimed for a while (:func:`claim`), then each one is cleared,
with an audit event, only once it has been taken back (:func:`undone`). A claim whose worker
died runs out, and the next worker takes back what is left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.deployment_model import Deployment, Event, StepKind
from bot.domain.errors import Conflict
from bot.domain.pipeline import ExecutorKind


class NothingToUndo(Conflict):
    """The deployment has no change to take back now (done, or claimed by another worker)."""


@dataclass(frozen=True)
class Change:
    """One stage's change to take back, as its executor described it."""

    index: int
    kind: ExecutorKind
    data: dict[str, str]


def intends(d: Deployment, index: int, kind: StepKind, wave: int | None,
            data: dict[str, str]) -> Deployment:
    """The running step is about to make a change it can take back: how, kept with its stage."""
    stage = d.stages[index]
    step = stage.step
    if not d.state.is_active or d.current != index or step is None or not step.launched \
            or (step.kind, step.wave) != (kind, wave):
        raise NothingToUndo("not_the_running_step")
    return d.with_stage(index, replace(stage, undo=data))


def claim(d: Deployment, now: datetime, hold: timedelta) -> tuple[Deployment, list[Change]]:
    """The changes to take back, newest first, claimed for ``hold`` each (a worker that dies
    meanwhile leaves them to the next one when the claim runs out)."""
    due = d.undo_due
    if due is None or due > now:
        raise NothingToUndo("nothing_to_undo_now", deployment=d.id)
    changes = [Change(i, s.spec.run.kind, s.undo) for i, s in reversed(list(enumerate(d.stages)))
               if s.undo is not None]
    until = now + hold * len(changes)
    claimed = tuple(replace(s, undo_until=until) if s.undo is not None else s for s in d.stages)
    return replace(d, stages=claimed), changes


def undone(d: Deployment, index: int, line: str, now: datetime) -> tuple[Deployment, Event]:
    """The stage's change was taken back (or could not be: ``line`` says which): cleared."""
    stage = d.stages[index]
    if stage.undo is None:
        raise NothingToUndo("stage_has_no_undo", stage=stage.name, deployment=d.id)
    cleared = d.with_stage(index, replace(stage, undo=None, undo_until=None))
    return cleared, Event("undone", now, stage=stage.name, detail=line)
