"""The rules of the pipeline file: a walk over the parsed TOML that builds the domain objects
and collects every problem with its key path (``pipelines.x.stages[3].approval.required``).

``bot.pipelines.loading`` reads the file and reports; this module knows what a valid file is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.domain.pipeline import (
    ROLES,
    ApprovalSpec,
    OnFailure,
    Pipeline,
    PipelineSet,
    StageSpec,
)
from bot.domain.usecases import SLUG_RE
from bot.pipelines.executor_values import ExecutorValues
from bot.pipelines.freeze_values import FreezeValues
from bot.toml_values import (
    did_you_mean,
    is_int,
    join,
    kind_of,
    parse_duration,
    quote,
    quoted,
)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
APPROVER_RE = re.compile(r"[UWS][A-Z0-9]{2,}|@[A-Za-z0-9][A-Za-z0-9._-]{0,79}")

_TOP_KEYS = ("default", "use_cases", "pipelines", "freezes")
_PIPELINE_KEYS = ("description", "stages", "allowed")
_STAGE_KEYS = ("name", "run", "timeout", "approval", "waves", "targets", "health", "bake", "on_failure")
_APPROVAL_KEYS = ("required", "approvers", "allow_self", "expires", "remind")


class Checker(ExecutorValues, FreezeValues):
    """Walks the parsed file, building domain objects and collecting problems as it goes."""

    def pipeline_set(self, data: Mapping[str, Any]) -> PipelineSet | None:
        self.table(data, "", _TOP_KEYS)
        raw = data.get("pipelines")
        if not isinstance(raw, dict) or not raw:
            got = ("missing" if raw is None
                   else f"expected tables like [pipelines.default], got {kind_of(raw)}")
            self.fail("pipelines", f"{got}; define at least one pipeline")
            raw = {}
        names = list(raw)
        pipelines = {}
        for name, value in raw.items():
            path = join("pipelines", name)
            if not NAME_RE.fullmatch(name):
                self.fail(path, _bad_name(name))
            if (pipeline := self.pipeline(name, value, path)) is not None:
                pipelines[name] = pipeline
        default = self.default(data, names)
        use_cases = self.use_cases(data.get("use_cases", {}), names)
        freezes = self.freezes(data["freezes"]) if "freezes" in data else ()
        if default is None or self.problems:
            return None
        return PipelineSet(pipelines=pipelines, default=default, use_cases=use_cases, freezes=freezes)

    def default(self, data: Mapping[str, Any], names: list[str]) -> str | None:
        if "default" in data:
            return self.reference(data["default"], "default", names)
        if len(names) == 1:
            return names[0]
        if "default" in names or not names:
            return "default"
        self.fail("default", f"missing: name the pipeline use cases get (one of {quoted(names)})")
        return None

    def reference(self, value: Any, path: str, names: list[str]) -> str | None:
        if not isinstance(value, str):
            self.fail(path, f"expected a pipeline name, got {kind_of(value)}")
            return None
        if names and value not in names:
            self.fail(path, f"no pipeline named {quote(value)}; {did_you_mean(value, names, quote)}")
            return None
        return value

    def use_cases(self, value: Any, names: list[str]) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail("use_cases", f"expected a table of slug = pipeline name, got {kind_of(value)}")
            return {}
        mapped = {}
        for slug, target in value.items():
            path = join("use_cases", slug)
            if not SLUG_RE.fullmatch(slug):
                self.fail(path, f"{quote(slug)} is not a use-case slug "
                                "(lowercase letters, digits and -, 2 to 40 characters)")
            if (name := self.reference(target, path, names)) is not None:
                mapped[slug] = name
        return mapped

    def pipeline(self, name: str, value: Any, path: str) -> Pipeline | None:
        table = self.table(value, path, _PIPELINE_KEYS)
        if table is None:
            return None
        description = self.string(table, "description", path) or ""
        raw, where = table.get("stages"), f"{path}.stages"
        if not isinstance(raw, list) or not raw:
            got = "" if raw in (None, []) else f"expected [[{where}]] tables, got {kind_of(raw)}; "
            self.fail(where, f"{got}a pipeline needs at least one stage")
            return None
        stages, names = [], [v.get("name") if isinstance(v, dict) else None for v in raw]
        for i, value in enumerate(raw):
            stages.append(self.stage(value, f"{where}[{i}]"))
            name_i = names[i]
            if isinstance(name_i, str) and name_i in names[:i]:
                self.fail(f"{where}[{i}].name", f"{quote(name_i)} is already stages[{names.index(name_i)}]")
        # Checked even when a stage has problems, so one run reports everything.
        allowed = self.allowed(table.get("allowed", []), join(path, "allowed"))
        if None in stages:
            return None
        return Pipeline(name=name, stages=tuple(s for s in stages if s), description=description,
                        allowed=allowed)

    def allowed(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(path, f'expected a list like ["devops", "@release-managers", "U012ABC"], '
                            f"got {kind_of(value)}")
            return ()
        bad = (f"is not a team role ({', '.join(ROLES)}), a user group (@handle or S…) "
               "or a user ID (U…/W…)")
        return self.unique_strings(
            value, path, lambda who: who in ROLES or bool(APPROVER_RE.fullmatch(who)), bad)

    def stage(self, value: Any, path: str) -> StageSpec | None:
        table = self.table(value, path, _STAGE_KEYS)
        if table is None:
            return None
        name = self.string(table, "name", path, required=True)
        if name is not None and not NAME_RE.fullmatch(name):
            self.fail(join(path, "name"), _bad_name(name))
        run = self.executor(table.get("run"), join(path, "run"))
        timeout = self.duration(table, "timeout", path, timedelta(minutes=30), timedelta(hours=24))
        approval = self.approval(table["approval"], join(path, "approval")) if "approval" in table else None
        rollout = self.rollout(table, path)
        if name is None or run is None or ("approval" in table and approval is None):
            return None
        return StageSpec(name, run, timeout=timeout, approval=approval, **rollout)

    def approval(self, value: Any, path: str) -> ApprovalSpec | None:
        table = self.table(value, path, _APPROVAL_KEYS)
        if table is None:
            return None
        required = table.get("required", 1)
        if not is_int(required):
            self.fail(join(path, "required"), f"expected a whole number, got {kind_of(required)}")
            required = 1
        elif required < 1:
            self.fail(join(path, "required"), "must be ≥ 1")
        approvers = self.approvers(table.get("approvers", []), join(path, "approvers"))
        allow_self = table.get("allow_self", False)
        if not isinstance(allow_self, bool):
            self.fail(join(path, "allow_self"), f"expected true or false, got {kind_of(allow_self)}")
        expires = self.duration(table, "expires", path, timedelta(hours=24), timedelta(days=30))
        remind = self.remind(table, path)
        # Only user IDs can be counted; a group may hold any number of people.
        if approvers and all(a[0] in "UW" for a in approvers) and len(approvers) < required:
            self.fail(join(path, "required"), f"{required} approvals needed but only "
                                               f"{len(approvers)} approvers are listed")
        return ApprovalSpec(required, approvers, allow_self is True, expires, remind)

    def remind(self, table: dict[str, Any], path: str) -> timedelta | None:
        """How often a waiting gate's approvers are nudged: a duration (4h), or "off"."""
        value = table.get("remind")
        if value == "off":
            return None
        try:
            parse_duration(value if value is not None else "4h")
        except ValueError as bad:
            self.fail(join(path, "remind"), f'{bad}, or "off" for no reminders')
            return timedelta(hours=4)
        return self.duration(table, "remind", path, timedelta(hours=4), timedelta(days=7))

    def approvers(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list of user IDs, group IDs or @handles, got {kind_of(value)}")
            return ()
        bad = "is not a Slack user ID (U…/W…), user-group ID (S…) or @handle"
        return self.unique_strings(value, path, lambda who: bool(APPROVER_RE.fullmatch(who)), bad)

    def rollout(self, table: dict[str, Any], path: str) -> dict[str, Any]:
        targets = self.targets(table["targets"], join(path, "targets")) if "targets" in table else ()
        if "waves" not in table:
            for key in ("health", "bake", "on_failure"):
                if key in table:
                    self.fail(join(path, key), "only applies to a stage with `waves`")
            return {"targets": targets}
        if "targets" not in table:
            self.fail(join(path, "waves"), "needs `targets` (a count or a list of names) to divide")
        total = len(targets) if isinstance(targets, tuple) else targets
        waves = self.waves(table["waves"], join(path, "waves"), total)
        health = (self.executor(table["health"], join(path, "health"), health=True)
                  if "health" in table else None)
        bake = self.duration(table, "bake", path, timedelta(), timedelta(hours=24))
        on_failure = table.get("on_failure", OnFailure.HALT.value)
        if on_failure not in tuple(OnFailure):
            self.fail(join(path, "on_failure"), 'expected "halt" or "rollback"')
            on_failure = OnFailure.HALT.value
        return {"targets": targets, "waves": waves, "health": health, "bake": bake,
                "on_failure": OnFailure(on_failure)}


def _bad_name(name: str) -> str:
    return (f"{quote(name)} is not a valid name: lowercase letters, digits, - and _, "
            "starting with a letter or digit, at most 40 characters")


