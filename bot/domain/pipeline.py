"""Pipelines as data: ordered stages, each with an executor, an optional approval gate and waves.

Built from the TOML file by ``bot/pipelines/loading.py`` (or the built-in default); the deployment state
machine in ``bot/domain/deployment_machine.py`` walks them. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.domain.freezes import RecurringFreeze
from bot.domain.kpis import MaxDrop


class ExecutorKind(StrEnum):
    WEBHOOK = "webhook"
    COMMAND = "command"
    DRY_RUN = "dry-run"
    KPI = "kpi"                          # health checks only: a business KPI gates the rollout
    MLFLOW = "mlflow"                    # points a registered model's alias at the version
    GITHUB_ACTIONS = "github-actions"    # runs a workflow and follows the run


# A use case's team roles, as a pipeline's `allowed` names them and as refusals say them.
ROLES = {"business": "business people", "data-scientist": "data scientists",
         "data-engineer": "data engineers", "devops": "devops engineers"}


class OnFailure(StrEnum):
    HALT = "halt"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class ExecutorSpec:
    kind: ExecutorKind
    url: str = ""                        # webhook
    argv: tuple[str, ...] = ()           # command; placeholders {version} {use_case} {stage} {targets}
    delay: timedelta = timedelta()       # dry-run
    kpi: str = ""                        # kpi: the use case's KPI to judge
    max_drop: MaxDrop | None = None      # kpi: how much worse than at the start it may get
    model: str = ""                      # mlflow: the registered model ("": the use case's link)
    alias: str = ""                      # mlflow: e.g. "champion"
    require_tags: tuple[tuple[str, str], ...] = ()  # mlflow: the version must carry these
    repo: str = ""                       # github-actions: "org/name"
    workflow: str = ""                   # github-actions: "deploy.yml" or a workflow id
    ref: str = ""                        # github-actions: the branch or tag to run on
    inputs: tuple[tuple[str, str], ...] = ()  # github-actions: with the argv placeholders

    @property
    def is_dry_run(self) -> bool:
        return self.kind is ExecutorKind.DRY_RUN

    @property
    def all_or_nothing(self) -> bool:
        """A failed run changed nothing: an alias moves or it does not; a dry run changes nothing.
        Any other executor may fail half-way, leaving its targets unknown."""
        return self.kind in (ExecutorKind.MLFLOW, ExecutorKind.DRY_RUN)


@dataclass(frozen=True)
class ApprovalSpec:
    required: int = 1
    approvers: tuple[str, ...] = ()      # user IDs (U…) and user-group handles (@name) or IDs (S…);
                                         # empty: the use case's owner and the admins
    allow_self: bool = False
    expires: timedelta = timedelta(hours=24)
    remind: timedelta | None = timedelta(hours=4)  # nudge the approvers this often; None: never


@dataclass(frozen=True)
class StageSpec:
    name: str
    run: ExecutorSpec
    timeout: timedelta = timedelta(minutes=30)
    approval: ApprovalSpec | None = None
    waves: tuple[str, ...] = ()          # e.g. ("1", "10%", "50%", "100%"); empty: one run
    targets: int | tuple[str, ...] = ()  # a count or names; needed with waves
    health: ExecutorSpec | None = None
    bake: timedelta = timedelta()
    on_failure: OnFailure = OnFailure.HALT


def production_index(stages: tuple[StageSpec, ...]) -> int:
    """The stage that changes production: the last alias move of a model pipeline (`champion`,
    what verifies it after changes nothing), else the last stage."""
    moves = [i for i, stage in enumerate(stages) if stage.run.kind is ExecutorKind.MLFLOW]
    return moves[-1] if moves else len(stages) - 1


@dataclass(frozen=True)
class Pipeline:
    name: str
    stages: tuple[StageSpec, ...]
    description: str = ""
    # Who may start it: team roles ("devops"), user groups ("@release-managers", "S…") and user
    # IDs; admins always may. Empty: the owner, the team's data and devops engineers, admins.
    allowed: tuple[str, ...] = ()

    def may_start(self, user_id: str, role: str | None, groups: frozenset[str]) -> bool:
        """Whether someone who is not an admin may start it (``groups``: theirs, of ``allowed``)."""
        return user_id in self.allowed or role in self.allowed or bool(groups & set(self.allowed))

    def may_surely_not_start(self, user_id: str, role: str | None, *, is_admin: bool) -> bool:
        """Refused whatever Slack says of user groups: not an admin, not named, not of an
        allowed role, and no group named that they might be in (a button not to offer)."""
        groups = any(a[0] in "@S" for a in self.allowed)
        return bool(self.allowed) and not is_admin and not groups \
            and not self.may_start(user_id, role, frozenset())

    @property
    def is_dry_run(self) -> bool:
        return all(s.run.is_dry_run and (s.health is None or s.health.is_dry_run
                                         or s.health.kind is ExecutorKind.KPI)  # it only reads
                   for s in self.stages)


@dataclass(frozen=True)
class PipelineSet:
    """Every pipeline of the file, the default one, which use case uses which, and the recurring
    freeze windows."""

    pipelines: dict[str, Pipeline]
    default: str
    use_cases: dict[str, str] = field(default_factory=dict)  # slug -> pipeline name
    freezes: tuple[RecurringFreeze, ...] = ()  # the file's [[freezes]], in its order

    def for_use_case(self, slug: str, requested: str | None = None) -> Pipeline:
        name = requested or self.use_cases.get(slug) or self.default
        return self.pipelines[name]


BUILT_IN = PipelineSet(
    pipelines={
        "default": Pipeline(
            name="default",
            description="built-in dry-run pipeline: nothing is deployed",
            stages=(
                StageSpec("develop", ExecutorSpec(ExecutorKind.DRY_RUN)),
                StageSpec("verify", ExecutorSpec(ExecutorKind.DRY_RUN)),
                StageSpec("stage", ExecutorSpec(ExecutorKind.DRY_RUN)),
                StageSpec("verify-staging", ExecutorSpec(ExecutorKind.DRY_RUN)),
                StageSpec("deploy", ExecutorSpec(ExecutorKind.DRY_RUN), approval=ApprovalSpec()),
            ),
        )
    },
    default="default",
)
