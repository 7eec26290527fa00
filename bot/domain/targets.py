"""The targets a deployment's production stage reaches, and what its runs leave on them: a
target runs the new version once a wave's run passed on it, whatever the health check says
after; a run that ended badly leaves its targets unknown (``bot.domain.production``). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.domain.deployment_model import Deployment, StageRun, Step, StepKind
from bot.domain.pipeline import production_index
from bot.domain.production import EVERYWHERE, UNKNOWN, move
from bot.domain.waves import target_names


def stage_targets(stage: StageRun) -> tuple[str, ...]:
    """Every target the stage deploys to (EVERYWHERE when it names none)."""
    if stage.waves:
        return tuple(t for w in stage.waves for t in w.targets)
    return target_names(stage.spec.targets) if stage.spec.targets else (EVERYWHERE,)


def _step_targets(stage: StageRun, wave: int | None) -> tuple[str, ...]:
    return stage.waves[wave].targets if wave is not None else stage_targets(stage)


def placed(d: Deployment, index: int, step: Step, version: str, now: datetime) -> Deployment:
    """The production stage's run ended: its targets run ``version`` (or UNKNOWN) now."""
    if not d.production or step.kind is not StepKind.RUN or d.stages[index].spec.run.is_dry_run \
            or index != production_index(tuple(s.spec for s in d.stages)):
        return d
    targets = _step_targets(d.stages[index], step.wave)
    return replace(d, production=move(d.production, targets, version, now, d.id))


def unknown_after(d: Deployment, index: int, step: Step | None, now: datetime) -> Deployment:
    """A launched run ended badly: what it did to its targets is unknown, unless its executor
    changes all or nothing."""
    if step is None or not step.launched or d.stages[index].spec.run.all_or_nothing:
        return d
    return placed(d, index, step, UNKNOWN, now)
