"""`POST /api/v1/hooks/mlflow`: deliveries from a real MLflow server's webhook, and hand-signed
requests for every refusal."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.registry import RegistryEvent, sign_mlflow
from handlers import mlflow_hooks
from handlers.mlflow_hooks import PATH
from tests.servers.mlflow import MlflowServer, unique

SECRET = "mlflow-hook-secret-5Rk"
DELIVERY = "9f1c2b8e-1111-4c1e-9d7e-2d1c6f2e0a11"
VERSION_CREATED = {"entity": "model_version", "action": "created",
                   "timestamp": "2026-03-02T10:00:00+00:00",
                   "data": {"name": "churn", "version": "7", "source": "models:/m-1", "run_id": "r1",
                            "tags": {"validation": "passed"}, "description": None}}


@dataclass
class Received:
    events: list[RegistryEvent] = field(default_factory=list)
    fail: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, event: RegistryEvent) -> None:
        if self.fail:
            raise RuntimeError("database is down")
        self.events.append(event)
        self.arrived.set()


def hook_app(received: Received, secret: str = SECRET) -> web.Application:
    app = web.Application()
    mlflow_hooks.register(app, secret, time.time, received)
    return app


@pytest.fixture
async def received() -> Received:
    return Received()


@pytest.fixture
async def client(received: Received) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(hook_app(received))) as client:
        yield client


def signed(payload: object, *, secret: str = SECRET, delivery: str = DELIVERY, age: int = 0,
           raw: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time()) - age)
    return body, {"Content-Type": "application/json", "X-MLflow-Delivery-Id": delivery,
                  "X-MLflow-Timestamp": timestamp,
                  "X-MLflow-Signature": sign_mlflow(secret, delivery, timestamp, body)}


async def post(client: TestClient[web.Request, web.Application], body: bytes,
               headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with client.post(PATH, data=body, headers=headers) as answer:
        return answer.status, await answer.json()


# ── hand-signed requests ────────────────────────────────────────────────────────────────────

async def test_a_signed_new_version_reaches_on_event(client: TestClient[web.Request, web.Application],
                                                     received: Received) -> None:
    assert await post(client, *signed(VERSION_CREATED)) == (200, {"ok": True})
    [event] = received.events
    assert (event.kind, event.model, event.version, event.run_id, event.tags, event.delivery_id) == (
        "model_version.created", "churn", "7", "r1", (("validation", "passed"),), DELIVERY)

    again = await post(client, *signed(VERSION_CREATED))  # a replay inside the window
    assert again[0] == 200 and "handled already" in str(again[1]["ignored"])
    assert len(received.events) == 1


async def test_a_wrong_missing_or_stale_signature_is_401_and_nothing_is_called(
        client: TestClient[web.Request, web.Application], received: Received,
        caplog: pytest.LogCaptureFixture) -> None:
    body, headers = signed(VERSION_CREATED, secret="another-secret")
    assert (await post(client, body, headers))[0] == 401
    body, headers = signed(VERSION_CREATED, age=301)
    assert await post(client, body, headers) == (401, {"error": "wrong or stale signature"})
    body, headers = signed(VERSION_CREATED, age=-301)  # from the future
    assert (await post(client, body, headers))[0] == 401
    body, headers = signed(VERSION_CREATED)
    tampered = body.replace(b'"7"', b'"8"')
    assert (await post(client, tampered, headers))[0] == 401
    del headers["X-MLflow-Signature"]
    assert (await post(client, body, headers))[0] == 401
    assert received.events == []
    assert SECRET not in caplog.text


async def test_five_minutes_either_way_still_passes(client: TestClient[web.Request, web.Application],
                                                    received: Received) -> None:
    assert (await post(client, *signed(VERSION_CREATED, age=299, delivery="d-old")))[0] == 200
    assert (await post(client, *signed(VERSION_CREATED, age=-299, delivery="d-new")))[0] == 200
    assert len(received.events) == 2


@pytest.mark.parametrize(("raw", "status", "error"), [
    (b"{not json", 400, "the body is not JSON"),
    (b"[1, 2]", 400, "the body must be a JSON object"),
    (b"[" * 30_000 + b"]" * 30_000, 400, "the body is not JSON"),
    (b'{"entity": "model_version", "action": "created", "data": {"name": "churn"}}', 400,
     'data.version: must be a model version number like "7"'),
    (b'{"entity": "model_version_alias", "action": "created", "data": {"name": "churn", "version": "2"}}',
     400, "data.alias: must be a non-empty string"),
    # G9: an alias MLflow would never send (300 characters, a NUL) is data, not our failure
    (b'{"entity": "model_version_alias", "action": "created", "data": {"name": "churn", "alias": "'
     + b"a" * 300 + b'", "version": "2"}}', 400,
     "data.alias: must be an MLflow alias (letters, digits, `_`, `-`; at most 255 characters)"),
    (b'{"entity": "model_version_alias", "action": "created", "data": {"name": "churn", '
     b'"alias": "champ\\u0000", "version": "2"}}', 400,
     "data.alias: must be an MLflow alias (letters, digits, `_`, `-`; at most 255 characters)"),
    (b'{"entity": 7, "action": "created"}', 400,
     'entity: must be an MLflow event entity like "model_version"'),
    (b'{"data": "' + b"x" * 70_000 + b'"}', 400, "the body is over 64 KiB; a registry event is small"),
])
async def test_a_signed_malformed_delivery_is_a_4xx_with_one_log_line(
        client: TestClient[web.Request, web.Application], received: Received,
        caplog: pytest.LogCaptureFixture, raw: bytes, status: int, error: str) -> None:
    caplog.set_level(logging.INFO, logger="handlers.mlflow_hooks")
    assert await post(client, *signed(None, raw=raw)) == (status, {"error": error})
    assert received.events == []
    assert len([r for r in caplog.records if r.name == "handlers.mlflow_hooks"]) == 1
    assert "Traceback" not in caplog.text


async def test_the_wrong_content_type_is_415(client: TestClient[web.Request, web.Application]) -> None:
    body, headers = signed(VERSION_CREATED)
    assert (await post(client, body, {**headers, "Content-Type": "text/plain"}))[0] == 415


async def test_kinds_we_do_not_act_on_are_ignored(client: TestClient[web.Request, web.Application],
                                                  received: Received) -> None:
    prompt = {"entity": "prompt", "action": "created", "data": {"name": "p", "tags": {}}}
    assert await post(client, *signed(prompt)) == (200, {"ignored": "prompt.created events are not acted on"})
    assert received.events == []


async def test_without_a_secret_every_delivery_is_503(received: Received) -> None:
    async with TestClient(TestServer(hook_app(received, secret=""))) as client:
        status, answer = await post(client, *signed(VERSION_CREATED))
    assert status == 503 and "BIZDEVOPS_MLFLOW_WEBHOOK_SECRET is not set" in str(answer["error"])
    assert received.events == []


async def test_a_failing_on_event_is_503_so_mlflow_delivers_again(
        client: TestClient[web.Request, web.Application], received: Received) -> None:
    received.fail = True
    assert (await post(client, *signed(VERSION_CREATED)))[0] == 503
    received.fail = False
    assert await post(client, *signed(VERSION_CREATED)) == (200, {"ok": True})  # the retry counts
    assert len(received.events) == 1


# ── a real MLflow server's webhook ──────────────────────────────────────────────────────────

async def wait_for(received: Received, model: str, count: int) -> list[RegistryEvent]:
    async with asyncio.timeout(30):
        while len(mine := [e for e in received.events if e.model == model]) < count:
            received.arrived.clear()
            await received.arrived.wait()
    return mine


@pytest.mark.mlflow
async def test_mlflow_deliveries_reach_on_event_verified(mlflow_server: MlflowServer,
                                                         received: Received) -> None:
    server = TestServer(hook_app(received), host="127.0.0.1")
    await server.start_server()
    mlflow = mlflow_server
    hook = await asyncio.to_thread(mlflow.call, "POST", "webhooks", {
        "name": unique("bizdevops"), "url": str(server.make_url(PATH)), "secret": SECRET,
        "events": [{"entity": "MODEL_VERSION", "action": "CREATED"},
                   {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}]})
    try:
        model = unique("churn")
        await asyncio.sleep(1.1)  # MLflow caches its webhooks per event for a second (the fixture's TTL)
        await asyncio.to_thread(mlflow.create_registered_model, model)
        version = await asyncio.to_thread(mlflow.create_model_version, model, source="s3://m/1")
        await wait_for(received, model, 1)  # deliveries run in a pool: keep the order for the test
        await asyncio.to_thread(mlflow.set_alias, model, "champion", version)
        created, aliased = await wait_for(received, model, 2)
    finally:
        await asyncio.to_thread(mlflow.call, "DELETE", f"webhooks/{hook['webhook']['webhook_id']}")
        await server.close()
    assert (created.kind, created.version, created.run_id) == ("model_version.created", version, "")
    assert (aliased.kind, aliased.version, aliased.alias) == ("model_version_alias.created", version,
                                                              "champion")
    assert created.delivery_id != aliased.delivery_id and created.at is not None
