"""Where `/deploy changes` asks: GitHub's compare view (the fake GitHub that holds both sides to
GitHub's OpenAPI description) and a real MLflow server's model versions, through the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.domain import usecases
from bot.domain.change_results import ModelChanges
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment, DeploymentState, StageRun
from bot.domain.executor_specs import MlflowSpec
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import StageSpec
from bot.domain.production import Running
from bot.domain.usecases import Conflict
from bot.executors.github_commits import GithubCompare
from bot.executors.mlflow import MlflowExecutor
from bot.services.commands import Actor, ShowChanges
from bot.services.deploy_changes import ChangeService
from bot.sources.mlflow_rest import MlflowRest
from tests.fakes.uow import InMemoryDatabase
from tests.servers import free_port
from tests.servers.fake_github import FakeGithub, fake_github, github_validator  # noqa: F401
from tests.servers.mlflow import MlflowServer, now_ms, unique

TOKEN = "ghp_compareToken000000000000000000000000"
START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.mark.github_spec
async def test_the_compare_view_counts_lists_the_first_ten_and_links_the_page(
        fake_github: FakeGithub) -> None:  # noqa: F811
    repo = fake_github.repository
    base = repo.push("Deployed last week", "mona")
    for n in range(12):
        repo.push(f"Change {n}\n\nWith a body that is not shown", "hubot" if n % 2 else "mona")

    found = await GithubCompare(fake_github.url, TOKEN).compare("acme/churn", base.sha, "main")

    assert (found.ahead, found.behind) == (12, 0)
    assert [line.title for line in found.commits] == [f"Change {n}" for n in range(10)]
    assert [line.author for line in found.commits[:2]] == ["mona", "hubot"]
    assert found.commits[0].sha == repo.commits[-12].sha
    assert found.commits[0].url == f"https://github.com/acme/churn/commit/{repo.commits[-12].sha}"
    assert found.commits[0].at == repo.commits[-12].at
    assert found.url == f"https://github.com/acme/churn/compare/{base.sha}...main"
    (request,) = fake_github.requests
    assert request[1] == f"/repos/acme/churn/compare/{base.sha}...main"


@pytest.mark.github_spec
async def test_github_refusing_or_away_is_a_source_failure_without_the_token(
        fake_github: FakeGithub) -> None:  # noqa: F811
    fake_github.fail(1, 404, f"Not Found ({TOKEN})", on="compare")
    with pytest.raises(SourceFailure) as refused:
        await GithubCompare(fake_github.url, TOKEN).compare("acme/churn", "f" * 40, "main")
    with pytest.raises(SourceFailure) as away:
        await GithubCompare(f"http://127.0.0.1:{free_port()}", TOKEN).compare("acme/churn", "a", "b")

    assert str(refused.value) == "GitHub API answered HTTP 404: Not Found (***)"
    assert "cannot connect to 127.0.0.1" in str(away.value) and TOKEN not in str(away.value)


@pytest.fixture
async def registry(mlflow_server: MlflowServer) -> AsyncIterator[MlflowExecutor]:
    rest = MlflowRest(mlflow_server.url)
    yield MlflowExecutor(rest)
    await rest.close()


def a_model(mlflow: MlflowServer, versions: int) -> str:
    experiment, name = mlflow.create_experiment(unique("train")), unique("churn")
    mlflow.create_registered_model(name)
    for _ in range(versions):
        run = mlflow.create_run(experiment, start_time=now_ms())
        mlflow.finish_run(run)
        mlflow.create_model_version(name, run_id=run)
    return name


async def in_production(db: InMemoryDatabase, version: str, model: str) -> None:
    d = Deployment("churn", version, "release", "U1", START, "C1",
                   (StageRun(StageSpec("production", MlflowSpec(alias="champion", model=model))),),
                   DeploymentState.SUCCEEDED, finished_at=START,
                   change=Change(ChangeKind.MODEL_VERSION, version))
    async with db.uow() as uow:
        await uow.use_cases.add(usecases.create("churn", "Churn", creator_id="U1", channel_id="C1",
                                                now=START))
        added = await uow.deployments.add(d)
        await uow.deployments.save(replace(added, production=(Running(version, ("*",), START,
                                                                       added.id),)))
        await uow.commit()


@pytest.mark.mlflow
async def test_model_versions_between_production_and_the_newest_from_mlflow(
        mlflow_server: MlflowServer, registry: MlflowExecutor) -> None:
    model = a_model(mlflow_server, 5)
    db = InMemoryDatabase(ManualClock(START))
    await in_production(db, "2", model)
    service = ChangeService(db.uow, None, registry)

    newest = await service.changes(ShowChanges("churn"), Actor("U2", "C1"))
    upto = await service.changes(ShowChanges("churn", "4"), Actor("U2", "C1"))

    assert isinstance(newest, ModelChanges) and isinstance(upto, ModelChanges)
    assert (newest.model, newest.head) == (model, "5")
    assert [v.version for v in newest.versions] == ["5", "4", "3"]
    assert all(v.created is not None and v.run_id for v in newest.versions)
    assert [v.version for v in upto.versions] == ["4", "3"]


@pytest.mark.mlflow
async def test_mlflow_away_is_refused_saying_so() -> None:
    db = InMemoryDatabase(ManualClock(START))
    await in_production(db, "2", "churn-model")
    rest = MlflowRest(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(Conflict) as away:
            await ChangeService(db.uow, None, MlflowExecutor(rest)).changes(ShowChanges("churn"),
                                                                             Actor("U2", "C1"))
    finally:
        await rest.close()
    assert away.value.key == "changes_mlflow_unreachable"
