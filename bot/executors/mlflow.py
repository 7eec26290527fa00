"""The ``mlflow`` executor: points a registered model's alias (``champion``) at the deployed version.

The version must exist, be READY and carry the stage's ``require_tags``; where the alias pointed
before (``undo``) is saved with the stage *before* the alias is moved, so a deployment that is
cancelled, fails later or loses its process mid-call puts it back. Reads for the deploy dialog
and announcements live here too.
"""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.changes import Change, ChangeKind
from bot.domain.executor_specs import ExecutorSpec, MlflowSpec
from bot.domain.kpis import SourceFailure
from bot.domain.registry import READY, VERSION_RE, ModelVersion, TagMismatch, tag_mismatches
from bot.executors._common import clip, format_timeout
from bot.executors.base import ExecutorResult, Intends, Outcome, StageJob, UndoFailed
from bot.log_events import get_logger

if TYPE_CHECKING:  # the client is handed in; executors do not depend on the sources package
    from bot.sources.mlflow_rest import MlflowRest

log = get_logger(__name__)

NO_MODEL = ("no MLflow model: link one with `/usecase link <slug> model <name>` "
            "or set `model` in the stage")
DETAIL_LIMIT = 1000
UNDO_TIMEOUT = 30.0  # seconds; also bounds putting the alias back when a stage is cancelled


class _Refused(Exception):
    """The version may not be deployed; the message says why."""


def _name(model: str, alias: str) -> str:
    return f"`{model}@{alias}`"


def _label(v: ModelVersion) -> str:
    return f"version {v.version} of `{v.model}`"


def _mismatch(v: ModelVersion, m: TagMismatch) -> str:
    found = f"it has {m.key}={m.found}" if m.found is not None else f"it has no `{m.key}` tag"
    return f"{_label(v)} lacks tag {m.key}={m.wanted} ({found})"


def _invalid(model: str, alias: str, version: str) -> str | None:
    """Why the stage cannot even ask MLflow, if it cannot."""
    if not model:
        return NO_MODEL
    if not alias:
        return "the stage names no MLflow alias to point"
    if not VERSION_RE.fullmatch(version):
        return (f"`{clip(version, 70)}` is not an MLflow model version number; deploy a version "
                f"of `{model}` like `7`")
    return None


def _shown(version: str) -> str:
    return f"v{version}" if version else "nowhere"


class MlflowExecutor:
    def __init__(self, rest: MlflowRest) -> None:
        self._rest = rest

    async def run(self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109
                  intends: Intends | None = None) -> ExecutorResult:
        """``intends`` saves the undo before the alias is moved (the engine always gives it).
        Once the version is found, the result says what it is (its ``change``), pass or fail."""
        assert isinstance(spec, MlflowSpec)  # Executors runs each spec with its kind's executor
        model, alias, version = spec.model or job.model, spec.alias, job.version
        invalid = _invalid(model, alias, version)
        if invalid:
            return ExecutorResult(Outcome.FAILED, invalid)
        undo: dict[str, str] | None = None
        found: ModelVersion | None = None
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                found = await self._version(model, version)
                previous = await self._check(found, spec)
                if previous != version:
                    # Saved before the call: if the bot dies or the call times out, the alias may
                    # have moved all the same, and whoever finds the step takes it back.
                    undo = {"model": model, "alias": alias, "version": previous, "deployed": version}
                    if intends is not None and not await intends(undo):
                        return self._failed("the deployment moved on before "
                                            f"{_name(model, alias)} was moved", None, found)
                    await self._rest.set_alias(model, alias, version)
        except TimeoutError:
            return self._failed(f"MLflow did not answer within {format_timeout(timeout)}", undo,
                                found)
        except (_Refused, SourceFailure) as failure:
            return self._failed(str(failure), undo, found)
        log.info("mlflow_alias_set", model=model, alias=alias, previous=previous or "-", to=version,
                 deployment_id=job.deployment_id)
        moved = (f"{_name(model, alias)}: {_shown(previous)} → v{version}" if previous != version
                 else f"{_name(model, alias)} already pointed at v{version}")
        return ExecutorResult(Outcome.SUCCEEDED, moved, undo=undo, change=self._change(found))

    async def _version(self, model: str, version: str) -> ModelVersion:
        found = await self._rest.model_version(model, version)
        if found is None:
            if await self._rest.registered_model(model) is None:
                raise _Refused(f"MLflow has no registered model `{model}`")
            raise _Refused(f"MLflow has no version {version} of `{model}`")
        return found

    async def _check(self, found: ModelVersion, spec: MlflowSpec) -> str:
        """Where the alias points now ("" nowhere), once the version passed every check."""
        if found.status != READY:
            raise _Refused(f"{_label(found)} is {found.status or 'of unknown status'}, not {READY}")
        mismatches = tag_mismatches(found, spec.require_tags)
        if mismatches:
            raise _Refused("; ".join(_mismatch(found, m) for m in mismatches))
        return await self._rest.alias_version(found.model, spec.alias) or ""

    def _change(self, found: ModelVersion | None) -> Change | None:
        """The model version as a change: its creation time, its run, its page in MLflow."""
        if found is None:
            return None
        return Change(ChangeKind.MODEL_VERSION, found.version, found.created,
                      self._rest.version_url(found.model, found.version), run_id=found.run_id)

    def _failed(self, reason: str, undo: dict[str, str] | None,
                found: ModelVersion | None) -> ExecutorResult:
        return ExecutorResult(Outcome.FAILED, clip(self._rest.mask(reason), DETAIL_LIMIT), undo=undo,
                              change=self._change(found))

    async def undo(self, data: dict[str, str], *, timeout: float = UNDO_TIMEOUT) -> str:
        """Point the alias back where it was (delete it if it pointed nowhere); a line for the
        thread. An alias moved since by someone else is left alone. :class:`UndoFailed` if MLflow
        cannot be told."""
        model, alias, version = data.get("model", ""), data.get("alias", ""), data.get("version")
        if not model or not alias or version is None:
            raise UndoFailed("the stage's undo record lacks the model, alias or version")
        name, deployed = _name(model, alias), data.get("deployed", "")
        try:
            async with asyncio.timeout(timeout):
                now = await self._rest.alias_version(model, alias) or ""
                if now == version:  # never moved (the bot stopped first), or put back already
                    return f"{name} points back at {_shown(version)}"
                if deployed and now != deployed:
                    return f"{name} points at {_shown(now)}, moved since v{deployed}: left as it is"
                if version:
                    await self._rest.set_alias(model, alias, version)
                    return f"{name} points back at v{version}"
                await self._rest.delete_alias(model, alias)
                return f"{name} removed: it pointed nowhere before"
        except TimeoutError:
            reason = f"MLflow did not answer within {timeout:g} s"
        except SourceFailure as failure:
            reason = str(failure)
        raise UndoFailed(clip(self._rest.mask(f"could not point {name} back at {_shown(version)}: "
                                              f"{reason}"), DETAIL_LIMIT))

    async def recent_versions(self, model: str, limit: int = 10) -> list[ModelVersion]:
        """The model's newest versions, newest first (the deploy dialog's choices).
        :class:`SourceFailure` (masked) when MLflow fails."""
        try:
            return await self._rest.search_versions(model, limit)
        except SourceFailure as failure:
            raise SourceFailure(self._rest.mask(str(failure))) from None

    async def alias_now(self, model: str, alias: str) -> str | None:
        """Where the alias points now (None: nowhere). :class:`SourceFailure` (masked)."""
        try:
            return await self._rest.alias_version(model, alias)
        except SourceFailure as failure:
            raise SourceFailure(self._rest.mask(str(failure))) from None

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        """The run's metrics (latest value of each; non-finite ones left out), for announcing
        a new version. :class:`SourceFailure` (masked) when MLflow fails."""
        try:
            run = await self._rest.run(run_id)
        except SourceFailure as failure:
            raise SourceFailure(self._rest.mask(str(failure))) from None
        data = run.get("data")
        metrics = data.get("metrics") if isinstance(data, dict) else None
        found: dict[str, float] = {}
        for entry in metrics if isinstance(metrics, list) else []:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                found[str(entry["key"])] = float(value)
        return found
