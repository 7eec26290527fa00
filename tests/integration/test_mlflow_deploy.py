"""The mlflow executor against a real MLflow tracking server: models, versions, runs and tags made
over its REST API, the alias read back from MLflow itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.changes import Change, ChangeKind
from bot.domain.executor_specs import MlflowSpec
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import ExecutorSpec
from bot.executors.base import ExecutorResult, Outcome, StageJob, UndoFailed
from bot.executors.mlflow import NO_MODEL, MlflowExecutor
from bot.sources.mlflow_rest import MlflowRest
from tests.servers.mlflow import MlflowServer, now_ms, unique

pytestmark = pytest.mark.mlflow
TIMEOUT = timedelta(seconds=10)
PASSED = (("validation", "passed"),)


@dataclass(frozen=True)
class Model:
    name: str
    runs: tuple[str, ...]       # the run behind each version, v1 first


@pytest.fixture
async def executor(mlflow_server: MlflowServer) -> AsyncIterator[MlflowExecutor]:
    rest = MlflowRest(mlflow_server.url)
    yield MlflowExecutor(rest)
    await rest.close()


def set_tag(mlflow: MlflowServer, model: str, version: str, key: str, value: str) -> None:
    mlflow.call("POST", "model-versions/set-tag",
                {"name": model, "version": version, "key": key, "value": value})


def alias_of(mlflow: MlflowServer, model: str, alias: str) -> str | None:
    versions = mlflow.call("GET", "registered-models/get", params={"name": model})
    found = versions["registered_model"].get("aliases") or []
    return next((a["version"] for a in found if a["alias"] == alias), None)


def a_model(mlflow: MlflowServer, versions: int = 2, **tags: str) -> Model:
    """A model with ``versions`` versions, each from a finished run with an ``auc``; ``tags`` on all."""
    experiment, name = mlflow.create_experiment(unique("train")), unique("churn")
    mlflow.create_registered_model(name)
    runs = []
    for n in range(1, versions + 1):
        run = mlflow.create_run(experiment, start_time=now_ms())
        mlflow.log_metric(run, "auc", 0.80 + n / 100)
        mlflow.finish_run(run)
        version = mlflow.create_model_version(name, run_id=run)
        assert version == str(n)
        for key, value in tags.items():
            set_tag(mlflow, name, version, key, value)
        runs.append(run)
    return Model(name, tuple(runs))


def spec(model: str = "", alias: str = "champion",
         require_tags: tuple[tuple[str, str], ...] = ()) -> ExecutorSpec:
    return MlflowSpec(model=model, alias=alias, require_tags=require_tags)


def job(version: str, model: str = "") -> StageJob:
    return StageJob(deployment_id="7", use_case="churn", version=version, stage="prod", wave=None,
                    targets=(), callback_url="", requested_by="U1", model=model)


async def deploy(executor: MlflowExecutor, version: str, *, model: str = "", linked: str = "",
                 require_tags: tuple[tuple[str, str], ...] = ()) -> ExecutorResult:
    return await executor.run(spec(model, require_tags=require_tags), job(version, linked),
                              timeout=TIMEOUT)


async def test_the_alias_moves_to_the_version_and_mlflow_reads_it_back(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, validation="passed")
    mlflow_server.set_alias(model.name, "champion", "1")

    result = await deploy(executor, "2", linked=model.name, require_tags=PASSED)

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    assert result.detail == f"`{model.name}@champion`: v1 → v2"
    assert result.undo == {"model": model.name, "alias": "champion", "version": "1", "deployed": "2"}
    assert alias_of(mlflow_server, model.name, "champion") == "2"


async def test_the_result_says_which_model_version_it_is_with_its_time_run_and_page(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    """Pass or fail, once MLflow has the version the result names it (DORA's lead time runs from
    its creation; the card links it); a version MLflow does not have is no change at all."""
    model = a_model(mlflow_server, versions=2)
    mlflow_server.set_alias(model.name, "champion", "1")
    set_tag(mlflow_server, model.name, "2", "validation", "pending")
    raw = mlflow_server.call("GET", "model-versions/get",
                             params={"name": model.name, "version": "2"})["model_version"]
    created = datetime.fromtimestamp(int(raw["creation_timestamp"]) / 1000, UTC)
    expected = Change(ChangeKind.MODEL_VERSION, "2", created,
                      f"{mlflow_server.url.rstrip('/')}/#/models/{model.name}/versions/2",
                      run_id=model.runs[1])

    moved = await deploy(executor, "2", model=model.name)
    refused = await deploy(executor, "2", model=model.name, require_tags=PASSED)
    missing = await deploy(executor, "9", model=model.name)

    assert moved.outcome is Outcome.SUCCEEDED and moved.change == expected
    assert refused.outcome is Outcome.FAILED and refused.change == expected
    assert missing.outcome is Outcome.FAILED and missing.change is None


def test_a_version_page_never_carries_the_tracking_urls_secrets() -> None:
    rest = MlflowRest("https://bot:s3cret@mlflow.example:8443/tracking/?token=x#top")
    assert rest.version_url("churn model", "7") == (
        "https://mlflow.example:8443/tracking/#/models/churn%20model/versions/7")
    assert MlflowRest("file:///srv/mlruns").version_url("churn", "7") is None


async def test_the_stage_model_wins_over_the_linked_one_and_none_at_all_fails(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, versions=1)
    result = await deploy(executor, "1", model=model.name, linked="some-other-model")
    assert result.outcome is Outcome.SUCCEEDED, result.detail
    assert result.detail == f"`{model.name}@champion`: nowhere → v1"

    nothing = await deploy(executor, "1")
    assert (nothing.outcome, nothing.detail) == (Outcome.FAILED, NO_MODEL)


async def test_a_missing_version_model_or_non_number_fails_naming_it(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, versions=1)
    mlflow_server.set_alias(model.name, "champion", "1")

    missing = await deploy(executor, "9", model=model.name)
    assert (missing.outcome, missing.detail) == (Outcome.FAILED, f"MLflow has no version 9 of `{model.name}`")
    no_model = await deploy(executor, "1", model="no-such-model-x1")
    assert no_model.detail == "MLflow has no registered model `no-such-model-x1`"
    word = await deploy(executor, "v1.2", model=model.name)
    assert word.outcome is Outcome.FAILED
    assert word.detail == (f"`v1.2` is not an MLflow model version number; deploy a version of "
                           f"`{model.name}` like `7`")
    assert missing.undo is None and alias_of(mlflow_server, model.name, "champion") == "1"


async def test_missing_or_different_tags_are_each_named(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, versions=2)
    mlflow_server.set_alias(model.name, "champion", "1")
    set_tag(mlflow_server, model.name, "2", "validation", "pending")

    result = await deploy(executor, "2", model=model.name,
                          require_tags=(("validation", "passed"), ("owner", "ds-team")))

    assert result.outcome is Outcome.FAILED
    assert result.detail == (f"version 2 of `{model.name}` lacks tag validation=passed "
                             f"(it has validation=pending); version 2 of `{model.name}` lacks tag "
                             f"owner=ds-team (it has no `owner` tag)")
    assert alias_of(mlflow_server, model.name, "champion") == "1"  # nothing moved


async def test_undo_puts_the_previous_version_back(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server)
    mlflow_server.set_alias(model.name, "champion", "1")
    result = await deploy(executor, "2", model=model.name)
    assert result.undo is not None

    assert await executor.undo(result.undo) == f"`{model.name}@champion` points back at v1"
    assert alias_of(mlflow_server, model.name, "champion") == "1"


async def test_undo_removes_an_alias_that_pointed_nowhere_before(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server)
    result = await deploy(executor, "2", model=model.name)
    assert result.undo is not None and result.undo["version"] == ""
    assert alias_of(mlflow_server, model.name, "champion") == "2"

    assert await executor.undo(result.undo) == f"`{model.name}@champion` removed: it pointed nowhere before"
    assert alias_of(mlflow_server, model.name, "champion") is None


async def test_undo_leaves_an_alias_someone_moved_since(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, versions=3)
    mlflow_server.set_alias(model.name, "champion", "1")
    result = await deploy(executor, "2", model=model.name)
    assert result.undo is not None
    mlflow_server.set_alias(model.name, "champion", "3")  # by hand, outside the bot

    line = await executor.undo(result.undo)

    assert line == f"`{model.name}@champion` points at v3, moved since v2: left as it is"
    assert alias_of(mlflow_server, model.name, "champion") == "3"


async def test_undo_of_a_missing_model_fails_saying_so(executor: MlflowExecutor) -> None:
    with pytest.raises(UndoFailed) as failed:
        await executor.undo({"model": "no-such-model-x2", "alias": "champion", "version": "1"})
    assert str(failed.value).startswith("could not point `no-such-model-x2@champion` back at v1: MLflow")


async def test_recent_versions_list_aliases_tags_and_runs_newest_first(
        mlflow_server: MlflowServer, executor: MlflowExecutor) -> None:
    model = a_model(mlflow_server, versions=3, validation="passed")
    mlflow_server.set_alias(model.name, "champion", "2")
    mlflow_server.set_alias(model.name, "challenger", "3")

    versions = await executor.recent_versions(model.name, limit=2)

    assert [(v.version, v.status, v.aliases, v.tags, v.run_id) for v in versions] == [
        ("3", "READY", ("challenger",), PASSED, model.runs[2]),
        ("2", "READY", ("champion",), PASSED, model.runs[1]),
    ]
    assert all(v.created is not None for v in versions)
    assert await executor.run_metrics(model.runs[0]) == {"auc": 0.81}


async def test_an_unreachable_server_fails_without_raising() -> None:
    rest = MlflowRest("http://user:s3cret-pw@127.0.0.1:9")
    try:
        result = await MlflowExecutor(rest).run(spec("churn"), job("2"), timeout=TIMEOUT)
        with pytest.raises(SourceFailure) as caught:
            await MlflowExecutor(rest).recent_versions("churn")
    finally:
        await rest.close()
    assert result.outcome is Outcome.FAILED and "cannot reach MLflow at 127.0.0.1:9" in result.detail
    assert "s3cret-pw" not in result.detail + str(caught.value)
