"""The executors of the pipeline file (`run` and `health`): which keys each kind takes and what
makes them valid, every problem with its key path (the rest of the file: ``checks.py``)."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from bot.domain.executor_specs import (
    CommandSpec,
    DryRunSpec,
    ExecutorKind,
    ExecutorSpec,
    GithubActionsSpec,
    KpiSpec,
    MlflowSpec,
    WebhookSpec,
)
from bot.domain.kpis import MaxDrop
from bot.domain.metrics import NAME_RE as METRIC_NAME_RE
from bot.pipelines.rollout_values import RolloutValues
from bot.toml_values import did_you_mean, join, kind_of, quote, quoted

PLACEHOLDERS = ("version", "use_case", "stage", "targets", "wave")
ALIAS_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
REPO_RE = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
WORKFLOW_RE = re.compile(r"[A-Za-z0-9._-]+\.ya?ml|\d+")

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_EXECUTOR_KEYS = {
    ExecutorKind.WEBHOOK: ("executor", "url"),
    ExecutorKind.COMMAND: ("executor", "argv"),
    ExecutorKind.DRY_RUN: ("executor", "delay"),
    ExecutorKind.KPI: ("executor", "name", "max_drop"),
    ExecutorKind.MLFLOW: ("executor", "model", "alias", "require_tags"),
    ExecutorKind.GITHUB_ACTIONS: ("executor", "repo", "workflow", "ref", "inputs"),
}
_ALL_EXECUTOR_KEYS = tuple(dict.fromkeys(k for keys in _EXECUTOR_KEYS.values() for k in keys))
_KINDS = tuple(k.value for k in ExecutorKind)
_RUN_KINDS = tuple(k for k in _KINDS if k != ExecutorKind.KPI)  # a KPI judges, it deploys nothing




class ExecutorValues(RolloutValues):
    def __init__(self) -> None:
        super().__init__()
        # What the environment must then provide (check-config and start-up say so).
        self.kinds: set[ExecutorKind] = set()

    def executor(self, value: Any, path: str, *, health: bool = False) -> ExecutorSpec | None:
        if not isinstance(value, dict):
            got = "missing" if value is None else f"expected a table, got {kind_of(value)}"
            self.fail(path, f'{got}; e.g. {{ executor = "dry-run" }}')
            return None
        kind = self.executor_kind(value.get("executor"), join(path, "executor"), health)
        allowed = _EXECUTOR_KEYS[kind] if kind else _ALL_EXECUTOR_KEYS
        self.keys_of_kind(value, path, allowed, _ALL_EXECUTOR_KEYS,
                          f"not used by the {kind} executor" if kind else None)
        if kind is not None:
            self.kinds.add(kind)
        if kind is ExecutorKind.WEBHOOK:
            url = self.url(value, path)
            return WebhookSpec(url) if url else None
        if kind is ExecutorKind.COMMAND:
            argv = self.argv(value.get("argv"), join(path, "argv"))
            return CommandSpec(argv) if argv else None
        if kind is ExecutorKind.DRY_RUN:
            delay = self.duration(value, "delay", path, timedelta(), timedelta(hours=1))
            return DryRunSpec(delay)
        if kind is ExecutorKind.KPI:
            return self.kpi_gate(value, path)
        if kind is ExecutorKind.MLFLOW:
            return self.mlflow_alias(value, path)
        if kind is ExecutorKind.GITHUB_ACTIONS:
            return self.github_workflow(value, path)
        return None

    def mlflow_alias(self, table: dict[str, Any], path: str) -> ExecutorSpec | None:
        count = len(self.problems)
        model = self.filled(table, "model", path, " (leave it out for the use case's linked model)")
        alias = self.filled(table, "alias", path, required=True)
        if alias and (not ALIAS_RE.fullmatch(alias) or alias.lower() == "latest"):
            self.fail(join(path, "alias"), f"{quote(alias)} is not an MLflow alias: letters, digits, "
                                           '_ and -, and not "latest" (MLflow keeps that one)')
        tags = self.string_pairs(table.get("require_tags", {}), join(path, "require_tags"))
        if len(self.problems) > count:
            return None
        return MlflowSpec(alias, model=model, require_tags=tags)

    def github_workflow(self, table: dict[str, Any], path: str) -> ExecutorSpec | None:
        count = len(self.problems)
        repo = self.filled(table, "repo", path, required=True)
        workflow = self.filled(table, "workflow", path, required=True)
        if repo and not REPO_RE.fullmatch(repo):
            self.fail(join(path, "repo"), f'{quote(repo)} is not a repository: write "org/name"')
        if workflow and not WORKFLOW_RE.fullmatch(workflow):
            self.fail(join(path, "workflow"), f"{quote(workflow)} is not a workflow: its file name "
                                              '(e.g. "deploy.yml") or its numeric id')
        ref = self.filled(table, "ref", path, ' (leave it out for "main")') or "main"
        inputs = self.string_pairs(table.get("inputs", {}), join(path, "inputs"))
        for key, value in inputs:
            self.placeholders(value, f"{join(path, 'inputs')}.{key}")
        if len(self.problems) > count:
            return None
        return GithubActionsSpec(repo, workflow, ref=ref, inputs=inputs)

    def filled(self, table: dict[str, Any], key: str, path: str, hint: str = "", *,
               required: bool = False) -> str:
        """A string that, when given, says something: "" is a mistake, never a default."""
        value = self.string(table, key, path, required=required) or ""
        if key in table and isinstance(table[key], str) and not table[key].strip():
            self.fail(join(path, key), f"must not be empty{hint}")
            return ""
        return value

    def string_pairs(self, value: Any, path: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            self.fail(path, f'expected a table of names to strings like {{ version = "{{version}}" }}, '
                            f"got {kind_of(value)}")
            return ()
        for key, item in value.items():
            if not isinstance(item, str):
                self.fail(join(path, key), f"expected a string, got {kind_of(item)}")
        return tuple((k, v) for k, v in value.items() if isinstance(v, str))

    def placeholders(self, text: str, path: str) -> None:
        for name in _PLACEHOLDER_RE.findall(text):
            if name not in PLACEHOLDERS:
                hint = did_you_mean(name, PLACEHOLDERS, lambda p: f"{{{p}}}")
                self.fail(path, f"unknown placeholder {{{name}}}; {hint}")

    def kpi_gate(self, table: dict[str, Any], path: str) -> ExecutorSpec | None:
        count = len(self.problems)
        name = self.string(table, "name", path, required=True)
        if name is not None and not METRIC_NAME_RE.fullmatch(name):
            self.fail(join(path, "name"), f"{quote(name)} is not a KPI name (lowercase letters, "
                                          "digits, _ . and -, at most 64 characters)")
        max_drop = None
        if "max_drop" in table:
            try:
                max_drop = parse_max_drop(table["max_drop"])
            except ValueError as bad:
                self.fail(join(path, "max_drop"), str(bad))
        ok = name is not None and len(self.problems) == count
        return KpiSpec(name or "", max_drop=max_drop) if ok else None

    def executor_kind(self, raw: Any, path: str, health: bool) -> ExecutorKind | None:
        kinds = _KINDS if health else _RUN_KINDS
        if raw is None:
            self.fail(path, f"missing; use one of {quoted(kinds)}")
        elif not isinstance(raw, str):
            self.fail(path, f"expected a string, got {kind_of(raw)}")
        elif raw == ExecutorKind.KPI and not health:
            self.fail(path, "the kpi executor judges a rollout: use it as a stage's "
                            '`health = {executor = "kpi", name = "<kpi>"}`')
        elif raw not in kinds:
            self.fail(path, f"unknown executor {quote(raw)}; {did_you_mean(raw, kinds, quote)}")
        else:
            return ExecutorKind(raw)
        return None

    def argv(self, value: Any, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            got = "missing" if value is None else "expected a non-empty list of strings"
            self.fail(path, f'{got}; e.g. ["./ci/build.sh", "{{version}}"]')
            return None
        count = len(self.problems)
        for i, arg in enumerate(value):
            if not isinstance(arg, str):
                self.fail(f"{path}[{i}]", f"expected a string, got {kind_of(arg)}")
                continue
            if i == 0 and not arg.strip():
                self.fail(f"{path}[0]", "the program to run must not be empty")
            self.placeholders(arg, f"{path}[{i}]")
        return tuple(value) if len(self.problems) == count else None


def parse_max_drop(value: object) -> MaxDrop:
    """``"2%"``, ``0.02`` or ``"0.02"``: how much worse than at the start a wave may leave the KPI."""
    text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    percent = text.endswith("%")
    try:
        amount = float(text.removesuffix("%").strip())
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount < 0:
        raise ValueError('expected a number or a percentage like "2%", at least 0')
    return MaxDrop(amount, percent)
