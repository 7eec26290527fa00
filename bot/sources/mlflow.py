"""A KPI from MLflow: a metric's latest value in the newest finished run of an experiment, or in
the run behind the model version that a registered model's alias points at."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.domain.kpis import MlflowSource, SourceFailure
from bot.sources._http import clip, finite, obj, where
from bot.sources.mlflow_rest import NOT_FOUND, MlflowError, MlflowRest

SHOWN_METRICS = 5  # a missing metric's failure lists a few of those the run has


class MlflowReader:
    """Reads :class:`MlflowSource` from one tracking server; ``token`` is sent as a Bearer token
    and never appears in a failure."""

    def __init__(self, base_url: str, token: str = "") -> None:
        self.rest = MlflowRest(base_url, token)
        self._where = where(base_url)

    async def read(self, source: MlflowSource, timeout: float) -> float:
        """The metric's value; :class:`SourceFailure` with a reason (no secret) otherwise."""
        try:
            async with asyncio.timeout(timeout):
                run, whose = await self._run_of(source)
            return metric_of(run, source.metric, whose)
        except TimeoutError:
            raise SourceFailure(f"MLflow at {self._where} did not answer within {timeout:g} s") from None
        except SourceFailure as failure:
            raise SourceFailure(self.rest.mask(str(failure))) from None

    async def close(self) -> None:
        await self.rest.close()

    async def _run_of(self, source: MlflowSource) -> tuple[dict[str, Any], str]:
        if source.experiment:
            return await self._newest_finished(source.experiment)
        if source.model and source.alias:
            return await self._behind_alias(source.model, source.alias)
        raise SourceFailure("the MLflow source names neither an experiment nor a model and an alias")

    async def _newest_finished(self, name: str) -> tuple[dict[str, Any], str]:
        experiment = await self.rest.experiment_by_name(name)
        if experiment is None:
            raise SourceFailure(f"MLflow has no experiment named `{name}`")
        if experiment.get("lifecycle_stage") == "deleted":
            raise SourceFailure(f"MLflow experiment `{name}` is deleted")
        run = await self.rest.newest_finished_run(str(experiment.get("experiment_id", "")))
        if run is None:
            raise SourceFailure(f"MLflow experiment `{name}` has no finished run")
        return run, f"the newest finished run `{_run_id(run)}` of experiment `{name}`"

    async def _behind_alias(self, model: str, alias: str) -> tuple[dict[str, Any], str]:
        try:
            version = await self.rest.version_by_alias(model, alias)
        except MlflowError as error:
            raise _alias_failure(error, model, alias) from None
        number, run_id = version.get("version", "?"), str(version.get("run_id") or "")
        label = f"`{model}@{alias}` (version {number})"
        if not run_id:
            raise SourceFailure(f"{label} was not registered from a run, so it has no metrics")
        try:
            run = await self.rest.run(run_id)
        except MlflowError as error:
            if error.code != NOT_FOUND:
                raise
            raise SourceFailure(f"{label} comes from run `{run_id}`, which MLflow does not have") from None
        return run, f"run `{run_id}` behind {label}"


def _alias_failure(error: MlflowError, model: str, alias: str) -> SourceFailure:
    """MLflow's "no such model" (404) and "no such alias" (400) in words; anything else as is."""
    said = error.message.lower()
    if error.code == NOT_FOUND and "registered model" in said:
        return SourceFailure(f"MLflow has no registered model `{model}`")
    if "alias" in said and "not found" in said:
        return SourceFailure(f"MLflow model `{model}` has no alias `{alias}`")
    return error


def metric_of(run: dict[str, Any], metric: str, whose: str) -> float:
    """The metric's latest value as MLflow reports it in ``run.data.metrics``."""
    data = obj(run.get("data"))
    found = [m for m in data.get("metrics") or [] if isinstance(m, dict)]
    for entry in found:
        if entry.get("key") == metric:
            return finite(entry.get("value"), f"metric `{metric}` of {whose}")
    names = sorted({str(m.get("key")) for m in found})
    if not names:
        raise SourceFailure(f"{whose} has no metric `{metric}`; it has no metrics at all")
    shown = ", ".join(f"`{clip(n, 60)}`" for n in names[:SHOWN_METRICS])
    more = f" and {len(names) - SHOWN_METRICS} more" if len(names) > SHOWN_METRICS else ""
    raise SourceFailure(f"{whose} has no metric `{metric}`; it has {shown}{more}")


def _run_id(run: dict[str, Any]) -> str:
    info = obj(run.get("info"))
    return str(info.get("run_id") or info.get("run_uuid") or "?")
