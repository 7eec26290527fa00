"""Pipelines as data: ordered stages, each with an executor, an optional approval gate and waves.

Built from the TOML file by ``bot/pipelines/loading.py`` (or the built-in default); the deployment state
machine in ``bot/domain/deployment_machine.py`` walks them. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.domain.executor_specs import ExecutorKind as ExecutorKind  # re-exported
from bot.domain.executor_specs import ExecutorSpec as ExecutorSpec  # re-exported
from bot.domain.freezes import RecurringFreeze

# A use case's team roles, as a pipeline's `allowed` names them and as refusals say them.
ROLES = {"business": "business people", "data-scientist": "data scientists",
         "data-engineer": "data engineers", "devops": "devops engineers"}


class OnFailure(StrEnum):
    HALT = "halt"
    ROLLBACK = "rollback"


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

