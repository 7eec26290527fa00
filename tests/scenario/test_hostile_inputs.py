"""Property test over HTTP: correctly signed but hostile deliveries of every kind never get a
5xx, never leave a traceback in the log, and a refused one stores nothing.

Each kind starts from a well-formed body (a slash command, a button press, a dialog submission,
an event, a KPI push with a valid token, an executor callback signed for its path) and mutates
it: fields dropped, retyped, made huge, nested deep, filled with control characters, mentions,
quotes and long numbers. Hypothesis runs in a worker thread; each example is sent through the
real app on the test's event loop, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.config import Settings
from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, callback_path, sign_callback
from bot.services.tokens import TokenService
from bot.simulator.signer import FORM, JSON
from bot.simulator.simulator import Simulator
from bot.slack import ids
from tests.scenario.deploy_support import (
    ACCEPTED,
    SECRET,
    Receiver,
    always,
    deploy,
    new_use_case,
    simulator,
    with_pipeline,
    write_pipeline,
)
from tests.scenario.hostile_support import STRINGS, explore, mutated, send


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


@pytest.fixture
async def world(sim: Simulator) -> Simulator:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    return sim


# ── Slack: slash commands ──────────────────────────────────────────────────────────────────

WORDS = st.sampled_from([
    "new", "list", "show", "advance", "back", "owner", "team", "add", "remove", "archive", "status",
    "history", "cancel", "lock", "unlock", "rollback", "record", "target", "dora", "schedule", "now",
    "off", "help", "churn", "churn-2", "1.0.0", "1", "2147483648", "99999999999999999999999", ">=",
    "0.8", "devops", "@erin", "#general", "<@U" + "X" * 40 + ">", "<#C" + "X" * 40 + "|ops>",
    "<@UERIN|erin>", "mine",
])
OPTIONS = st.builds(lambda key, value: f'{key}="{value}"', st.sampled_from(
    ["domain", "owner", "channel", "unit", "days", "tz", "pipeline", "phase", "override"]), STRINGS)
COMMAND_TEXT = st.lists(st.one_of(WORDS, WORDS, OPTIONS, STRINGS.map(lambda s: f'"{s}"'), STRINGS),
                        max_size=6).map(" ".join)


@st.composite
def slash_commands(draw: st.DrawFn, response_url: str) -> tuple[dict[str, Any], str]:
    body: dict[str, Any] = {
        "token": "t", "team_id": "T0SIM", "team_domain": "simulated", "channel_id": "CGENERAL",
        "channel_name": "general", "user_id": draw(st.sampled_from(["UALICE", "UERIN", "UDAVE"])),
        "user_name": "someone", "command": draw(st.sampled_from(["/usecase", "/deploy", "/metric",
                                                                "/digest", "/nope"])),
        "text": draw(COMMAND_TEXT), "api_app_id": "A0SIM", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"{uuid.uuid4().hex}.trigger",
    }
    if draw(st.integers(0, 3)) == 0:
        body = draw(mutated(body))
    return body, draw(st.sampled_from([FORM, FORM, FORM, JSON]))


def encode(body: Any, content_type: str) -> str:
    if content_type == FORM and isinstance(body, dict):
        return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return json.dumps(body)


async def test_signed_slash_commands_of_any_shape(world: Simulator, logs: pytest.LogCaptureFixture) -> None:
    async def check(case: tuple[dict[str, Any], str]) -> None:
        body, content_type = case
        raw = encode(body, content_type)
        headers = world.signer.headers(raw, content_type=content_type)
        await send(world, logs, world.url, raw.encode(), headers, stores=True)

    await explore(slash_commands(world.fake.new_response_url()), check)


# ── Slack: buttons, dialogs, events ────────────────────────────────────────────────────────

def _button_press(action_id: str, value: str, on_home: bool, response_url: str) -> dict[str, Any]:
    place: dict[str, Any] = ({"view": {"id": "V1", "type": "home"}, "container": {"type": "view"}}
                             if on_home else {"channel": {"id": "CGENERAL", "name": "general"},
                                              "message": {"ts": "1.1", "text": "x"},
                                              "container": {"type": "message", "message_ts": "1.1"},
                                              "response_url": response_url})
    return {"type": "block_actions", "user": {"id": "UALICE", "name": "alice", "team_id": "T0SIM"},
            "api_app_id": "A0SIM", "token": "t", "trigger_id": f"{uuid.uuid4().hex}.trigger",
            "team": {"id": "T0SIM", "domain": "simulated"}, "enterprise": None,
            "is_enterprise_install": False, "state": {"values": {}}, **place,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "deployment-1",
                         "value": value, "action_ts": "1.1",
                         "text": {"type": "plain_text", "text": "Approve"}}]}


def _submission(callback_id: str, metadata: str, field: str, value: Any) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": "T0SIM"}, "api_app_id": "A0SIM",
            "user": {"id": "UALICE", "name": "alice", "team_id": "T0SIM"}, "token": "t",
            "trigger_id": f"{uuid.uuid4().hex}.trigger", "response_urls": [],
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                     "state": {"values": {field: {field: {"type": "plain_text_input",
                                                          "value": value}}}}}}


def _event(kind: str, user: str) -> dict[str, Any]:
    return {"token": "t", "team_id": "T0SIM", "api_app_id": "A0SIM", "type": "event_callback",
            "event": {"type": kind, "user": user, "channel": "D1", "tab": "home", "text": "hi",
                      "event_ts": "1.1"},
            "event_id": f"Ev{uuid.uuid4().hex[:16].upper()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0SIM", "user_id": "U0BOT", "is_bot": True}]}


# Every button and every dialog the bot puts on the wire, and one it never made.
ACTIONS = st.sampled_from([ids.DEPLOY_APPROVE, ids.DEPLOY_CANCEL, ids.DEPLOY_REJECT, ids.DEPLOY_VERSION,
                           ids.HOME_NEW_USECASE, ids.USECASE_ADVANCE, ids.USECASE_BACK,
                           ids.USECASE_DEPLOY, "something_else"])
DIALOGS = st.sampled_from([ids.REJECT_DIALOG, ids.USECASE_NEW, ids.ADVANCE_DIALOG, ids.BACK_DIALOG,
                           ids.DEPLOY_DIALOG, ids.REFUSED_DIALOG, "other"])
FIELDS = st.sampled_from([ids.REJECT_REASON, ids.NEW_SLUG, ids.NEW_TITLE, ids.NEW_OWNER, ids.NOTE,
                          ids.DEPLOY_VERSION_TYPED, ids.DEPLOY_PIPELINE, ids.DEPLOY_OVERRIDE])
EVENTS = st.builds(_event, st.sampled_from(["app_home_opened", "link_shared", "message", "app_mention",
                                                "nope"]),
                   st.sampled_from(["UALICE", "UERIN"]))


@st.composite
def interactions(draw: st.DrawFn, response_url: str) -> str:
    payload = draw(st.one_of(
        st.builds(_button_press, ACTIONS, STRINGS, st.booleans(), st.just(response_url)),
        st.builds(_submission, DIALOGS, STRINGS, FIELDS, STRINGS),
    ))
    if draw(st.booleans()):
        payload = draw(mutated(payload))
    form = draw(st.sampled_from(["payload", "payload", "not-json", "bare-json"]))
    if form == "not-json":
        return urlencode({"payload": json.dumps(payload)[: draw(st.integers(0, 200))]})
    return json.dumps(payload) if form == "bare-json" else urlencode({"payload": json.dumps(payload)})


async def test_signed_button_presses_and_dialogs_of_any_shape(
    world: Simulator, logs: pytest.LogCaptureFixture
) -> None:
    async def check(raw: str) -> None:
        content_type = JSON if raw.startswith("{") else FORM
        headers = world.signer.headers(raw, content_type=content_type)
        await send(world, logs, world.url, raw.encode(), headers)

    await explore(interactions(world.fake.new_response_url()), check)


@st.composite
def events(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(EVENTS)
    if draw(st.integers(0, 3)):
        body = draw(mutated(body))
    raw = json.dumps(body)
    return raw, draw(st.sampled_from([JSON, JSON, FORM]))


async def test_signed_events_of_any_shape(world: Simulator, logs: pytest.LogCaptureFixture) -> None:
    async def check(case: tuple[str, str]) -> None:
        raw, content_type = case
        headers = world.signer.headers(raw, content_type=content_type)
        await send(world, logs, world.url, raw.encode(), headers, stores=True)

    await explore(events(), check)


# ── POST /api/v1/metrics with a valid token ────────────────────────────────────────────────

POINT = {"use_case": "churn", "name": "auc", "value": 0.8, "unit": "ratio", "at": "2026-03-02T08:00:00Z"}
RAW_BODIES = st.one_of(
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 6000).map(lambda n: b'{"use_case": "churn", "name": "auc", "value": ' + b"9" * n + b"}"),
    st.binary(max_size=200),
)


@st.composite
def pushes(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["one", "batch", "raw"]))
    if shape == "raw":
        return draw(RAW_BODIES)
    point = draw(mutated(POINT)) if draw(st.integers(0, 4)) else POINT
    body: Any = point if shape == "one" else [POINT] * draw(st.integers(0, 3)) + [point]
    return json.dumps(body).encode()


async def test_metric_pushes_of_any_shape(world: Simulator, logs: pytest.LogCaptureFixture) -> None:
    token = await TokenService(world.app.db.uow, world.clock).create("ci")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    async def check(raw: bytes) -> None:
        await send(world, logs, f"{world.base_url}/api/v1/metrics", raw, headers, stores=True)

    await explore(pushes(), check)


# ── executor callbacks, signed for the path they are posted to ─────────────────────────────

@pytest.fixture
async def waiting(settings: Settings, clock: ManualClock, tmp_path: Path) -> AsyncIterator[
        tuple[Simulator, str]]:
    """A deployment whose ``ship`` stage waits for its callback; the callback URL."""
    async with Receiver().running() as receiver:
        receiver.on("ship", always(ACCEPTED))
        pipeline = f"""
[pipelines.hooks]
[[pipelines.hooks.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
"""
        async with simulator(with_pipeline(settings, write_pipeline(tmp_path, pipeline)), clock) as sim:
            await new_use_case(sim)
            await deploy(sim, "/deploy churn 1.0.0")
            yield sim, receiver.jobs_for("ship")[0]["callback_url"]


RESULT = {"status": "failed", "detail": "disk full", "url": "https://ci.example/runs/1"}
PATH_PARTS = st.one_of(st.sampled_from(["1", "0", "2147483648", "99999999999999999999999", "ship",
                                        "run", "health", "-1", "%00"]), STRINGS)


@st.composite
def callbacks(draw: st.DrawFn, url: str) -> tuple[str, bytes]:
    parts = urlsplit(url)
    path, query = parts.path, dict(q.split("=") for q in parts.query.split("&"))
    if draw(st.booleans()):
        segments = path.split("/")  # ['', 'api', 'v1', 'deployments', id, 'stages', stage, 'result']
        segments[draw(st.sampled_from([4, 6]))] = quote(str(draw(PATH_PARTS)), safe="")
        path = "/".join(segments)
    if draw(st.booleans()):
        query[draw(st.sampled_from(["kind", "wave"]))] = str(draw(PATH_PARTS))
    body: Any = draw(mutated(RESULT)) if draw(st.integers(0, 4)) else RESULT
    raw = draw(RAW_BODIES) if draw(st.integers(0, 5)) == 0 else json.dumps(body).encode()
    return f"{parts.scheme}://{parts.netloc}{path}?{urlencode(query)}", raw


async def test_executor_callbacks_of_any_shape(
    waiting: tuple[Simulator, str], logs: pytest.LogCaptureFixture
) -> None:
    sim, url = waiting

    async def check(case: tuple[str, bytes]) -> None:
        target, raw = case
        now = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(now),
                   SIGNATURE_HEADER: sign_callback(SECRET, now, callback_path(target), raw)}
        await send(sim, logs, target, raw, headers, stores=True)

    await explore(callbacks(url), check)
