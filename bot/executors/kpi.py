"""The ``kpi`` health check: after a wave's bake, the use case's business KPI decides.

The judging (a fresh value, the target, the value at the deployment's start) is the KPI
service's; this adapter gives it the job's times and turns its verdict into a step result,
worded by bot/render/kpi_verdicts.py (the detail is stored with the step).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain.executor_specs import ExecutorSpec, KpiSpec
from bot.domain.kpis import GateVerdict, MaxDrop
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.render.kpi_verdicts import no_verdict_in_time, verdict_detail

Judge = Callable[[str, str, MaxDrop | None, datetime | None, datetime | None], Awaitable[GateVerdict]]


class KpiGateExecutor:
    def __init__(self, judge: Judge) -> None:
        self._judge = judge

    async def run(self, spec: ExecutorSpec, job: StageJob, *,
                  timeout: timedelta) -> ExecutorResult:  # noqa: ASYNC109 (the executor protocol)
        assert isinstance(spec, KpiSpec)  # Executors runs each spec with its kind's executor
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                verdict = await self._judge(job.use_case, spec.kpi, spec.max_drop, job.requested_at,
                                            job.ran_at)
        except TimeoutError:
            return ExecutorResult(Outcome.FAILED, no_verdict_in_time(spec.kpi))
        outcome = Outcome.SUCCEEDED if verdict.passed else Outcome.FAILED
        return ExecutorResult(outcome, verdict_detail(verdict))
