"""The MLflow KPI source against a real MLflow tracking server (runs logged over its REST API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.domain.kpis import MlflowSource, SourceFailure
from bot.sources.mlflow import MlflowReader
from tests.servers import free_port
from tests.servers.mlflow import MlflowServer, now_ms, unique

pytestmark = pytest.mark.mlflow
TIMEOUT = 10.0
TOKEN = "mlflow-token-7Hq2"


@pytest.fixture
async def reader(mlflow_server: MlflowServer) -> AsyncIterator[MlflowReader]:
    reader = MlflowReader(mlflow_server.url)
    yield reader
    await reader.close()


def finished_run(mlflow: MlflowServer, experiment_id: str, started: int, **metrics: float) -> str:
    run_id = mlflow.create_run(experiment_id, start_time=started)
    for key, value in metrics.items():
        mlflow.log_metric(run_id, key, value)
    mlflow.finish_run(run_id)
    return run_id


async def failure(reader: MlflowReader, source: MlflowSource) -> str:
    with pytest.raises(SourceFailure) as caught:
        await reader.read(source, TIMEOUT)
    return str(caught.value)


async def test_the_newest_finished_run_wins_over_newer_unfinished_ones(
        mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    name, start = unique("churn"), now_ms() - 60_000
    experiment = mlflow_server.create_experiment(name)
    finished_run(mlflow_server, experiment, start, auc=0.80)
    newest = mlflow_server.create_run(experiment, start_time=start + 1000)
    mlflow_server.log_metric(newest, "auc", 0.70, step=0)
    mlflow_server.log_metric(newest, "auc", 0.86, step=1)  # the latest value counts
    mlflow_server.finish_run(newest)
    running = mlflow_server.create_run(experiment, start_time=start + 2000)
    mlflow_server.log_metric(running, "auc", 0.99)
    failed = mlflow_server.create_run(experiment, start_time=start + 3000)
    mlflow_server.log_metric(failed, "auc", 0.10)
    mlflow_server.finish_run(failed, "FAILED")

    assert await reader.read(MlflowSource("auc", experiment=name), TIMEOUT) == 0.86


async def test_alias_mode_follows_the_alias_to_the_versions_run(
        mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    experiment, model, start = mlflow_server.create_experiment(unique("train")), unique("churn"), now_ms()
    first = finished_run(mlflow_server, experiment, start, auc=0.81)
    second = finished_run(mlflow_server, experiment, start + 1000, auc=0.88)
    mlflow_server.create_registered_model(model)
    v1 = mlflow_server.create_model_version(model, run_id=first)
    v2 = mlflow_server.create_model_version(model, run_id=second)
    source = MlflowSource("auc", model=model, alias="champion")

    mlflow_server.set_alias(model, "champion", v1)
    assert await reader.read(source, TIMEOUT) == 0.81  # not the newer run: the alias decides
    mlflow_server.set_alias(model, "champion", v2)
    assert await reader.read(source, TIMEOUT) == 0.88


async def test_a_missing_experiment_or_finished_run_is_named(
        mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    missing = unique("nowhere")
    assert await failure(reader, MlflowSource("auc", experiment=missing)) == (
        f"MLflow has no experiment named `{missing}`")
    name = unique("busy")
    mlflow_server.create_run(mlflow_server.create_experiment(name))  # still running
    assert await failure(reader, MlflowSource("auc", experiment=name)) == (
        f"MLflow experiment `{name}` has no finished run")


async def test_a_missing_metric_lists_the_metrics_the_run_has(
        mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    name = unique("churn")
    run_id = finished_run(mlflow_server, mlflow_server.create_experiment(name), now_ms(),
                          loss=0.3, f1=0.7, recall=0.6, precision=0.8, accuracy=0.9, brier=0.1)
    assert await failure(reader, MlflowSource("auc", experiment=name)) == (
        f"the newest finished run `{run_id}` of experiment `{name}` has no metric `auc`; "
        "it has `accuracy`, `brier`, `f1`, `loss`, `precision` and 1 more")


async def test_a_missing_model_or_alias_is_named(mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    model = unique("churn")
    assert await failure(reader, MlflowSource("auc", model=model, alias="champion")) == (
        f"MLflow has no registered model `{model}`")
    mlflow_server.create_registered_model(model)
    assert await failure(reader, MlflowSource("auc", model=model, alias="champion")) == (
        f"MLflow model `{model}` has no alias `champion`")


async def test_a_version_without_a_run_has_no_metrics(
        mlflow_server: MlflowServer, reader: MlflowReader) -> None:
    model = unique("imported")
    mlflow_server.create_registered_model(model)
    version = mlflow_server.create_model_version(model, source="s3://models/imported")
    mlflow_server.set_alias(model, "prod", version)
    assert await failure(reader, MlflowSource("auc", model=model, alias="prod")) == (
        f"`{model}@prod` (version {version}) was not registered from a run, so it has no metrics")


@dataclass
class Proxy:
    """In front of the real server: records each request's Authorization header; ``refuse``
    answers 401 with a message that echoes the token, as a careless server might."""

    upstream: str
    url: str = ""
    seen: list[str | None] = field(default_factory=list)
    refuse: bool = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.headers.get("Authorization"))
        if self.refuse:
            said = f"token {request.headers.get('Authorization', '')} is not valid here"
            return web.json_response({"error_code": "UNAUTHENTICATED", "message": said}, status=401)
        async with aiohttp.ClientSession() as session, session.request(
                request.method, self.upstream + request.path_qs, data=await request.read(),
                headers={"Content-Type": "application/json"}) as answer:
            return web.Response(body=await answer.read(), status=answer.status,
                                content_type="application/json")


@pytest.fixture
async def proxy(mlflow_server: MlflowServer) -> AsyncIterator[Proxy]:
    proxy = Proxy(mlflow_server.url)
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", proxy.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    proxy.url = str(server.make_url("")).rstrip("/")
    yield proxy
    await server.close()


async def test_the_token_is_sent_and_never_shown(mlflow_server: MlflowServer, proxy: Proxy) -> None:
    name = unique("churn")
    finished_run(mlflow_server, mlflow_server.create_experiment(name), now_ms(), auc=0.9)
    reader = MlflowReader(proxy.url, token=TOKEN)
    try:
        assert await reader.read(MlflowSource("auc", experiment=name), TIMEOUT) == 0.9
        assert proxy.seen == [f"Bearer {TOKEN}"] * 2  # get-by-name, then runs/search
        missing = await failure(reader, MlflowSource("auc", experiment=unique("nowhere")))
        proxy.refuse = True
        refused = await failure(reader, MlflowSource("auc", experiment=name))
    finally:
        await reader.close()
    assert TOKEN not in missing and TOKEN not in refused
    assert refused == "MLflow answered HTTP 401 UNAUTHENTICATED: token Bearer *** is not valid here"


async def test_no_token_sends_no_authorization(proxy: Proxy) -> None:
    reader = MlflowReader(proxy.url)
    try:
        await failure(reader, MlflowSource("auc", experiment=unique("nowhere")))
    finally:
        await reader.close()
    assert proxy.seen == [None]


@pytest.mark.parametrize("userinfo, token", [("", TOKEN), ("ml:pa55word@", "")])
async def test_unreachable_names_host_and_port_never_a_secret(userinfo: str, token: str) -> None:
    port = free_port()
    reader = MlflowReader(f"http://{userinfo}127.0.0.1:{port}", token=token)
    try:
        reason = await failure(reader, MlflowSource("auc", experiment="churn"))
    finally:
        await reader.close()
    assert reason.startswith(f"cannot reach MLflow at 127.0.0.1:{port}: ")
    assert TOKEN not in reason and "pa55word" not in reason


async def test_a_password_in_the_url_and_a_token_are_refused() -> None:
    reader = MlflowReader("http://ml:pa55word@127.0.0.1:5000", token=TOKEN)
    try:
        reason = await failure(reader, MlflowSource("auc", experiment="churn"))
    finally:
        await reader.close()
    assert reason == "the MLflow URL has a user and password and a token is set; use one"


async def test_a_server_that_never_answers_times_out() -> None:
    release = asyncio.Event()

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # accepts the connection, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = MlflowReader(f"http://127.0.0.1:{port}", token=TOKEN)
    try:
        with pytest.raises(SourceFailure) as caught:
            await reader.read(MlflowSource("auc", model="churn", alias="champion"), 0.3)
    finally:
        await reader.close()
        release.set()
        server.close()
        await server.wait_closed()
    assert str(caught.value) == f"MLflow at 127.0.0.1:{port} did not answer within 0.3 s"
