"""Rollbacks: which version to go back to, and the pipelines that take it there (the production
stage on demand, or the waves a failed rollout touched, at once). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.pipeline import ExecutorKind, OnFailure, Pipeline, StageSpec, production_index


def rollback_version(history: Sequence[Deployment], pipeline: str,
                     current: str | None = None) -> str | None:
    """The version to go back to: the newest one that succeeded in production with ``pipeline``,
    other than the one production got last (``current``: from what runs where, when the bot
    knows; else the newest deployment's with ``pipeline``). Another pipeline's success (a
    sandbox) is never one to go back to, whatever it deployed.

    ``history`` is newest first. After v2 succeeded, rollback goes to v1; after v2 failed
    half-way, rollback goes to the last good one (v1) to repair the waves v2 touched.
    """
    mine = [d for d in history if d.pipeline == pipeline]
    if not mine:
        return None
    latest = current if current is not None else mine[0].version
    for past in mine:
        if past.state is DeploymentState.SUCCEEDED and past.version != latest:
            return past.version
    return None


def rollback_pipeline(pipeline: Pipeline) -> Pipeline:
    """A rollback goes straight to the production stage (the last), still behind its gate; in a
    model pipeline, from the last alias move on (`champion`, and what verifies it after)."""
    return replace(pipeline, stages=pipeline.stages[production_index(pipeline.stages):])


def automatic_rollback_stage(failed: StageSpec, targets: tuple[str, ...]) -> StageSpec:
    """Restore the previous version on the targets a failed rollout touched: no gate, one wave.

    A business-KPI health check is left out: the KPI that failed the rollout reacts to the
    restored version later, and judging the rollback on it would halt the rollback half-done.
    """
    health = None if failed.health is not None and failed.health.kind is ExecutorKind.KPI \
        else failed.health
    return replace(failed, approval=None, waves=("100%",), targets=targets,
                   on_failure=OnFailure.HALT, health=health)
