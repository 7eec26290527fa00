"""The dry-run executor: waits, deploys nothing, and says so in every detail."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.executor_specs import DryRunSpec, ExecutorSpec
from bot.executors._common import describe_targets, format_timeout
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.log_events import get_logger

log = get_logger(__name__)


class DryRunExecutor:
    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta  # noqa: ASYNC109 (protocol)
    ) -> ExecutorResult:
        assert isinstance(spec, DryRunSpec)  # Executors runs each spec with its kind's executor
        where = describe_targets(job.wave, job.targets)
        log.info("dry_run", deployment_id=job.deployment_id, stage=job.stage, wave=job.wave)
        # Honour the stage timeout like a real executor would, so a misconfigured
        # delay behaves the same in a dry run as in production.
        if spec.delay >= timeout > timedelta():
            await asyncio.sleep(timeout.total_seconds())
            detail = f"dry run: timed out after {format_timeout(timeout)}{where}"
            return ExecutorResult(Outcome.FAILED, detail)
        if spec.delay > timedelta():
            await asyncio.sleep(spec.delay.total_seconds())
        return ExecutorResult(Outcome.SUCCEEDED, f"dry run: nothing was deployed{where}")
