"""Helpers for the MLflow crash scenarios: real `bizdevops serve` processes on one SQLite file,
killed by SIGKILL at the exact moment a request to MLflow is in flight.

A :class:`HoldingProxy` sits between the bots and the real MLflow server. It forwards every
request, except that the one request matching an armed :class:`Hold` is (optionally) forwarded
to MLflow first and then never answered; ``holding`` is set then, so the test kills the
process that sent it while it waits for the answer (the change, when forwarded, is made).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.domain.registry import sign_mlflow
from bot.simulator.fake_slack import FakeSlack
from tests.scenario.scale_support import (
    Commander,
    Serve,
    free_port,
    run_cli,
    serve_env,
)
from tests.servers.mlflow import API, MlflowServer, unique

HOOK_SECRET = "mlflow-crash-hook-secret-4Tq"
HOOK_PATH = "/api/v1/hooks/mlflow"
LEASE_SECONDS = 5
CHANNEL = "churn-ml"


# ── the holding proxy ───────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Hold:
    """The request to hold: ``method`` and ``endpoint`` (after /api/2.0/mlflow/), and fields
    its JSON body (POST) or query (GET) must have; ``forward``: MLflow gets it first."""

    method: str
    endpoint: str
    fields: dict[str, str] = field(default_factory=dict)
    forward: bool = True

    def matches(self, method: str, endpoint: str, sent: dict[str, Any]) -> bool:
        return (method == self.method and endpoint == self.endpoint
                and all(str(sent.get(k)) == v for k, v in self.fields.items()))


class HoldingProxy:
    """An aiohttp server in the test process in front of MLflow (one hold at a time, once)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.holding = asyncio.Event()
        self.held: list[tuple[str, str, dict[str, Any]]] = []
        self._rule: Hold | None = None
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, rule: Hold) -> None:
        self.holding.clear()
        self._rule = rule

    def disarm(self) -> None:
        self._rule = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        self._release.set()  # held requests end (their sender is dead by then)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        endpoint = request.path.removeprefix(API)
        sent: dict[str, Any] = dict(request.query)
        with contextlib.suppress(ValueError):
            loaded = json.loads(body) if body else {}
            sent.update(loaded if isinstance(loaded, dict) else {})
        rule = self._rule
        if rule is None or not rule.matches(request.method, endpoint, sent):
            return await self._forward(request, body)
        self._rule = None  # once: the process taking over sends the same request again
        if rule.forward:
            await self._forward(request, body)
        self.held.append((request.method, endpoint, sent))
        self.holding.set()
        await self._release.wait()
        return web.json_response({"error_code": "HELD", "message": "held by the test"}, status=599)

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type",
                                                                             "authorization")}
        async with self._http.request(request.method, self.upstream + request.path_qs,
                                      data=body or None, headers=headers) as answer:
            payload = await answer.read()
            return web.Response(body=payload, status=answer.status,
                                content_type=answer.content_type)


# ── MLflow, straight (not through the proxy) ────────────────────────────────────────────────

class Model:
    """A registered model of the test's own on the real MLflow server."""

    def __init__(self, server: MlflowServer) -> None:
        self.server = server
        self.name = unique("churn")
        self.experiment = server.create_experiment(unique("churn-training"))
        server.create_registered_model(self.name)

    def version(self, *, auc: float = 0.9) -> tuple[str, str]:
        """A new version from a finished run with an ``auc`` metric: (version, run id)."""
        run = self.server.create_run(self.experiment)
        self.server.log_metric(run, "auc", auc)
        self.server.finish_run(run)
        return self.server.create_model_version(self.name, run_id=run), run

    def alias(self, alias: str) -> str | None:
        try:
            answer = self.server.call("GET", "registered-models/alias",
                                      params={"name": self.name, "alias": alias})
        except AssertionError:  # MLflow answers an error for an alias that points nowhere
            return None
        return str(answer["model_version"]["version"])

    async def aliases(self) -> tuple[str | None, str | None]:
        """(challenger, champion) as MLflow has them now."""
        return (await asyncio.to_thread(self.alias, "challenger"),
                await asyncio.to_thread(self.alias, "champion"))


# ── the rig: Slack, the proxy, one SQLite file, process A ───────────────────────────────────

@dataclass
class Rig:
    fake: FakeSlack
    proxy: HoldingProxy
    model: Model
    http: aiohttp.ClientSession
    db_path: Path
    tmp_path: Path
    pipelines: Path
    processes: list[Serve] = field(default_factory=list)

    @property
    def channel_id(self) -> str:
        chan = self.fake.channel(CHANNEL)
        assert chan is not None
        return chan.id

    def env(self) -> dict[str, str]:
        return serve_env(self.fake, f"sqlite+aiosqlite:///{self.db_path}", free_port(),
                         self.pipelines, BIZDEVOPS_MLFLOW_URL=self.proxy.url,
                         BIZDEVOPS_MLFLOW_WEBHOOK_SECRET=HOOK_SECRET,
                         BIZDEVOPS_LEASE_SECONDS=str(LEASE_SECONDS))

    async def serve(self, name: str) -> Serve:
        process = Serve(name, self.env(), self.tmp_path)
        self.processes.append(process)
        await process.start()
        await process.wait_healthy(self.http)
        return process

    async def command(self, line: str, to: Serve) -> dict[str, Any]:
        return await Commander(self.fake, self.http, [to]).command(line, channel=CHANNEL)

    async def kill_when_held(self, victim: Serve, *, seconds: float = 15) -> None:
        """SIGKILL ``victim`` as soon as the proxy holds its request."""
        try:
            await asyncio.wait_for(self.proxy.holding.wait(), timeout=seconds)
        except TimeoutError:
            raise AssertionError(f"the proxy never held a request:\n{victim.output()[-3000:]}") \
                from None
        victim.sigkill()  # synchronously after the wake-up: the request is still unanswered
        assert await victim.killed() == -9


@asynccontextmanager
async def rig(tmp_path: Path, server: MlflowServer, pipeline: str) -> AsyncIterator[Rig]:
    """Fake Slack, the proxy, a migrated SQLite file, a model, process A with use case `churn`
    linked to the model (``rig.processes[0]``)."""
    fake = FakeSlack(bot_token="xoxb-test-token")
    await fake.start()
    fake.add_user("alice")
    fake.add_channel(CHANNEL)
    proxy = HoldingProxy(server.url)
    await proxy.start()
    pipelines = tmp_path / "pipelines.toml"
    pipelines.write_text(pipeline, encoding="utf-8")
    model = await asyncio.to_thread(Model, server)
    async with aiohttp.ClientSession() as http:
        r = Rig(fake, proxy, model, http, tmp_path / "bot.db", tmp_path, pipelines)
        try:
            code, out = await run_cli("migrate", env=r.env(), cwd=tmp_path)
            assert code == 0, out
            a = await r.serve("a")
            assert "Created *churn*" in (await r.command('/usecase new churn "Churn"', a))["text"]
            linked = await r.command(f"/usecase link churn model {model.name}", a)
            assert f"linked to the MLflow model `{model.name}`" in linked["text"], linked
            yield r
        finally:
            for process in r.processes:
                await process.stop()
            await proxy.close()
            await fake.stop()


# ── reading what happened ───────────────────────────────────────────────────────────────────

def _query(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return list(conn.execute(sql, args))


async def state_of(r: Rig, d_id: int) -> str:
    [(state,)] = await asyncio.to_thread(_query, r.db_path,
                                         "SELECT state FROM deployments WHERE id = ?", d_id)
    return str(state)


async def events_of(r: Rig, d_id: int, kind: str) -> list[str]:
    """The details of the deployment's audit-trail rows of ``kind``."""
    rows = await asyncio.to_thread(
        _query, r.db_path, "SELECT detail FROM deployment_events WHERE deployment_id = ? "
        "AND kind = ? ORDER BY id", d_id, kind)
    return [str(detail) for (detail,) in rows]


def thread_of(fake: FakeSlack, d_id: int) -> list[str]:
    """The texts Slack took in the deployment message's thread (chat.postMessage, thread_ts)."""
    title = f"Deployment {d_id}: "
    heads = {str(c.response.get("ts")) for c in fake.calls_to("chat.postMessage")
             if not c.args.get("thread_ts") and str(c.args.get("text", "")).startswith(title)}
    return [str(c.args.get("text", "")) for c in fake.calls_to("chat.postMessage")
            if c.args.get("thread_ts") and str(c.args["thread_ts"]) in heads]


async def eventually(check: Callable[[], Awaitable[bool]], describe: Callable[[], Awaitable[str]],
                     *, deadline: float, what: str) -> None:
    """Poll ``check`` until true; at ``deadline`` fail saying ``what`` and how things stand."""
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; now: {await describe()}")
        await asyncio.sleep(0.2)


# ── MLflow's webhook deliveries ─────────────────────────────────────────────────────────────

def version_created(model: str, version: str, run_id: str) -> bytes:
    return json.dumps({
        "entity": "model_version", "action": "created", "timestamp": "2026-03-02T10:00:00Z",
        "data": {"name": model, "version": version, "run_id": run_id,
                 "source": f"runs:/{run_id}/model", "tags": {}, "description": None},
    }).encode()


async def deliver(http: aiohttp.ClientSession, to: Serve, body: bytes,
                  delivery: str | None = None) -> int:
    """POST a signed delivery (now's timestamp) to ``to``'s MLflow hook; its HTTP status."""
    delivery = delivery or str(uuid.uuid4())
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-MLflow-Delivery-Id": delivery,
               "X-MLflow-Timestamp": timestamp,
               "X-MLflow-Signature": sign_mlflow(HOOK_SECRET, delivery, timestamp, body)}
    async with http.post(f"{to.base}{HOOK_PATH}", data=body, headers=headers) as answer:
        return answer.status
