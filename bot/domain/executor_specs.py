"""What a stage runs: one spec per executor kind, a tagged union like the KPI sources'.

Each kind carries exactly its own settings, so a spec cannot hold a webhook's URL and an MLflow
alias at once, and the codec (storage/deployment_codec.py) reads and writes any kind from its
fields alone. A new executor is a spec here, its checks in bot/pipelines/executor_values.py and
its module in bot/executors/ (registered in bot/executors/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from bot.domain.kpis import MaxDrop


class ExecutorKind(StrEnum):
    WEBHOOK = "webhook"
    COMMAND = "command"
    DRY_RUN = "dry-run"
    KPI = "kpi"                          # health checks only: a business KPI gates the rollout
    MLFLOW = "mlflow"                    # points a registered model's alias at the version
    GITHUB_ACTIONS = "github-actions"    # runs a workflow and follows the run


@dataclass(frozen=True)
class _Spec:
    kind: ClassVar[ExecutorKind]

    @property
    def is_dry_run(self) -> bool:
        return self.kind is ExecutorKind.DRY_RUN

    @property
    def all_or_nothing(self) -> bool:
        """A failed run changed nothing: an alias moves or it does not; a dry run changes nothing.
        Any other executor may fail half-way, leaving its targets unknown."""
        return self.kind in (ExecutorKind.MLFLOW, ExecutorKind.DRY_RUN)


@dataclass(frozen=True)
class WebhookSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.WEBHOOK
    url: str


@dataclass(frozen=True)
class CommandSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.COMMAND
    argv: tuple[str, ...]  # placeholders {version} {use_case} {stage} {targets} {wave}


@dataclass(frozen=True)
class DryRunSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.DRY_RUN
    delay: timedelta = timedelta()


@dataclass(frozen=True)
class KpiSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.KPI
    kpi: str                        # the use case's KPI to judge
    max_drop: MaxDrop | None = None  # how much worse than at the start it may get


@dataclass(frozen=True)
class MlflowSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.MLFLOW
    alias: str                                      # e.g. "champion"
    model: str = ""                                 # the registered model ("": the use case's link)
    require_tags: tuple[tuple[str, str], ...] = ()  # the version must carry these


@dataclass(frozen=True)
class GithubActionsSpec(_Spec):
    kind: ClassVar[ExecutorKind] = ExecutorKind.GITHUB_ACTIONS
    repo: str                                 # "org/name"
    workflow: str                             # "deploy.yml" or a workflow id
    ref: str = "main"                         # the branch or tag to run on
    inputs: tuple[tuple[str, str], ...] = ()  # with the argv placeholders


ExecutorSpec = WebhookSpec | CommandSpec | DryRunSpec | KpiSpec | MlflowSpec | GithubActionsSpec
SPECS: dict[ExecutorKind, type[ExecutorSpec]] = {
    spec.kind: spec for spec in (WebhookSpec, CommandSpec, DryRunSpec, KpiSpec, MlflowSpec,
                                 GithubActionsSpec)
}
