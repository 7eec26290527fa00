"""One object that runs any executor spec: the deployment runner depends on this only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Protocol, runtime_checkable

from bot.domain.pipeline import ExecutorKind, ExecutorSpec
from bot.executors.base import (
    Executor,
    ExecutorResult,
    Followable,
    Intends,
    Outcome,
    StageJob,
    Started,
    UndoFailed,
)
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.github_actions import GithubActionsExecutor
from bot.executors.kpi import KpiGateExecutor
from bot.executors.mlflow import MlflowExecutor
from bot.executors.webhook import WebhookExecutor
from bot.masking import mask


@runtime_checkable
class Closable(Protocol):
    async def close(self) -> None: ...


@runtime_checkable
class Undoable(Protocol):
    """An executor whose change can be taken back: it says how (``intends``) before making it."""

    async def run(self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109
                  intends: Intends | None = None) -> ExecutorResult: ...

    async def undo(self, data: dict[str, str]) -> str: ...


class Executors:
    def __init__(self, webhook: WebhookExecutor, command: CommandExecutor, dry_run: DryRunExecutor,
                 kpi: KpiGateExecutor, github: GithubActionsExecutor | None = None,
                 mlflow: MlflowExecutor | None = None, secrets: tuple[str, ...] = ()) -> None:
        self._secrets = secrets  # masked in whatever any executor says, before anyone reads it
        self._by_kind: dict[ExecutorKind, Executor] = {
            ExecutorKind.WEBHOOK: webhook,
            ExecutorKind.COMMAND: command,
            ExecutorKind.DRY_RUN: dry_run,
            ExecutorKind.KPI: kpi,
        }
        if github is not None:  # without a token start-up refuses github-actions pipelines
            self._by_kind[ExecutorKind.GITHUB_ACTIONS] = github
        if mlflow is not None:  # without BIZDEVOPS_MLFLOW_URL start-up refuses mlflow pipelines
            self._by_kind[ExecutorKind.MLFLOW] = mlflow

    def for_kind(self, kind: ExecutorKind) -> Executor:
        return self._by_kind[kind]

    async def close(self) -> None:
        """Close the HTTP sessions the executors keep (GitHub, MLflow)."""
        for executor in self._by_kind.values():
            if isinstance(executor, Closable):
                await executor.close()

    async def undo(self, kind: ExecutorKind, data: dict[str, str]) -> str:
        """Take back what a passed stage of ``kind`` changed; a line for the thread."""
        executor = self._by_kind.get(kind)
        if not isinstance(executor, Undoable):
            return f"⚠️ nothing knows how to undo a {kind.value} stage"
        try:
            return await executor.undo(data)
        except UndoFailed as failed:  # its words are safe to show; people must act on them
            return f"⚠️ Could not undo the {kind.value} stage: {failed}"

    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109 (protocol)
        started: Started | None = None, intends: Intends | None = None,
    ) -> ExecutorResult:
        executor = self._by_kind.get(spec.kind)
        if executor is None:  # a stage fails with a reason rather than the runner with a KeyError
            return ExecutorResult(Outcome.FAILED, f"no {spec.kind} executor is configured")
        if isinstance(executor, Followable) and started is not None:
            return self._masked(await executor.run(spec, job, timeout=timeout, started=started))
        if isinstance(executor, Undoable) and intends is not None:
            return self._masked(await executor.run(spec, job, timeout=timeout, intends=intends))
        return self._masked(await executor.run(spec, job, timeout=timeout))

    def _masked(self, result: ExecutorResult) -> ExecutorResult:
        """What an executor says (a command's output, a webhook's detail) may quote a secret
        the bot knows: masked here for every executor, whatever each does itself."""
        if not self._secrets:
            return result
        return replace(result, detail=mask(result.detail, self._secrets),
                       output_tail=tuple(mask(line, self._secrets) for line in result.output_tail))

    def can_follow(self, kind: ExecutorKind) -> bool:
        return isinstance(self._by_kind.get(kind), Followable)

    async def follow(self, spec: ExecutorSpec, job: StageJob, ref: str, *,
                     timeout: timedelta) -> ExecutorResult:  # noqa: ASYNC109 (protocol)
        executor = self._by_kind.get(spec.kind)
        if not isinstance(executor, Followable):
            return ExecutorResult(Outcome.FAILED, f"no {spec.kind} executor can follow {ref!r}")
        return self._masked(await executor.follow(spec, job, ref, timeout=timeout))
