"""Load and validate the pipeline file (TOML) into :mod:`bot.domain.pipeline` objects.

Every problem is collected with its key path (``pipelines.x.stages[3].approval.required``) so that
``bizdevops check-config`` and start-up can report them all at once, not one per attempt. The
rules themselves are in :mod:`bot.pipelines.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import ConfigError, load_settings
from bot.domain.pipeline import BUILT_IN, ExecutorKind, PipelineSet
from bot.kpis.loading import check_kpi_file
from bot.pipelines.checks import Checker
from bot.toml_values import PipelineProblem, read_toml

WEBHOOK_SECRET_MISSING = (
    "BIZDEVOPS_WEBHOOK_SECRET is required: the pipeline file uses webhook executors"
)


class PipelineError(Exception):
    """The pipeline file is unusable; ``problems`` holds every reason found."""

    def __init__(self, problems: list[PipelineProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)



def uses_webhooks(ps: PipelineSet) -> bool:
    """Whether any stage runs or health-checks through a webhook (then the HMAC secret is needed)."""
    specs = [spec for p in ps.pipelines.values() for s in p.stages for spec in (s.run, s.health)]
    return any(spec is not None and spec.kind is ExecutorKind.WEBHOOK for spec in specs)


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
    checker.pipeline_set(data)
    lines = [f"{path}: {problem}" for problem in checker.problems]
    # Checked even when the file has other problems, so one run reports everything.
    if checker.webhooks and not env.get("BIZDEVOPS_WEBHOOK_SECRET", "").strip():
        lines.append(WEBHOOK_SECRET_MISSING)
    return lines
