"""Load and validate the pipeline file (TOML) into :mod:`bot.domain.pipeline` objects.

Every problem is collected with its key path (``pipelines.x.stages[3].approval.required``) so that
``bizdevops check-config`` and start-up can report them all at once, not one per attempt. The
rules themselves are in :mod:`bot.pipelines.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.config import ConfigError, load_settings
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import ApprovalSpec, ExecutorKind, Pipeline, PipelineSet, StageSpec
from bot.kpis.loading import check_kpi_file
from bot.pipelines.checks import Checker
from bot.render.schedule_words import freeze_words
from bot.toml_values import PipelineProblem, read_toml

# Without BIZDEVOPS_PIPELINES: SPEC's five stages, every one a dry run, one approval before deploy.
BUILT_IN = PipelineSet(
    pipelines={
        "default": Pipeline(
            name="default",
            description="built-in dry-run pipeline: nothing is deployed",
            stages=(
                StageSpec("develop", DryRunSpec()),
                StageSpec("verify", DryRunSpec()),
                StageSpec("stage", DryRunSpec()),
                StageSpec("verify-staging", DryRunSpec()),
                StageSpec("deploy", DryRunSpec(), approval=ApprovalSpec()),
            ),
        )
    },
    default="default",
)

# What the environment must provide when the file uses an executor kind.
REQUIRED_SETTING = {
    ExecutorKind.WEBHOOK: "BIZDEVOPS_WEBHOOK_SECRET",
    ExecutorKind.MLFLOW: "BIZDEVOPS_MLFLOW_URL",
    ExecutorKind.GITHUB_ACTIONS: "BIZDEVOPS_GITHUB_TOKEN",
}


def setting_missing(kind: ExecutorKind) -> str:
    return f"{REQUIRED_SETTING[kind]} is required: the pipeline file uses {kind.value} executors"


WEBHOOK_SECRET_MISSING = setting_missing(ExecutorKind.WEBHOOK)
WARNING = "warning: "  # a line check-config prints that is no problem (the exit status stays 0)
_A_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)  # where a week of windows is looked at


class PipelineError(Exception):
    """The pipeline file is unusable; ``problems`` holds every reason found."""

    def __init__(self, problems: list[PipelineProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)



def kinds_used(ps: PipelineSet) -> set[ExecutorKind]:
    """Every executor kind a stage runs or health-checks with."""
    specs = [spec for p in ps.pipelines.values() for s in p.stages for spec in (s.run, s.health)]
    return {spec.kind for spec in specs if spec is not None}


def uses_webhooks(ps: PipelineSet) -> bool:
    return ExecutorKind.WEBHOOK in kinds_used(ps)


def parse_pipelines(data: Mapping[str, Any]) -> PipelineSet:
    """Validate already-parsed TOML; raise :class:`PipelineError` with every problem."""
    checker = Checker()
    result = checker.pipeline_set(data)
    if checker.problems or result is None:
        raise PipelineError(checker.problems)
    return result


def load_pipelines(path: str | None) -> PipelineSet:
    """The pipelines of the file at ``path``; the built-in dry-run pipeline without one."""
    if not path or not path.strip():
        return BUILT_IN
    data, unreadable = read_toml(path.strip(), "pipeline file")
    if unreadable is not None:
        raise PipelineError([unreadable])
    return parse_pipelines(data)


def check_config(env: Mapping[str, str]) -> list[str]:
    """Every problem with the environment, the pipeline file and the KPI source file, one
    printable line each."""
    lines: list[str] = []
    try:
        load_settings(env, mode="other")
    except ConfigError as bad:
        lines.append(str(bad))
    return [*lines, *_check_pipeline_file(env), *check_kpi_file(env)]


def _check_pipeline_file(env: Mapping[str, str]) -> list[str]:
    path = env.get("BIZDEVOPS_PIPELINES", "").strip()
    if not path:
        return []
    data, unreadable = read_toml(path, "pipeline file")
    if unreadable is not None:
        return [str(unreadable)]
    checker = Checker()
    found = checker.pipeline_set(data)
    lines = [f"{path}: {problem}" for problem in checker.problems]
    lines += [f"{WARNING}{path}: freezes[{i}]: never lets go ({freeze_words(f)}): deployments of "
              f"{'every use case' if f.use_cases is None else ', '.join(sorted(f.use_cases))} "
              "pass only with an admin's override"
              for i, f in enumerate(found.freezes if found else ()) if f.covers_all_time(_A_MONDAY)]
    # Checked even when the file has other problems, so one run reports everything.
    return lines + [setting_missing(kind) for kind, name in REQUIRED_SETTING.items()
                    if kind in checker.kinds and not env.get(name, "").strip()]
