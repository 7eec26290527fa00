"""Helpers for the /deploy pipeline scenarios.

A real webhook receiver (it checks every signature the bot sends), signed executor callbacks,
pipeline files, and readers over what Slack shows (the deployment message, its thread, the
closing announcement) and what the database holds.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import Deployment, Event
from bot.executors.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    callback_path,
    sign_callback,
    verify,
)
from bot.simulator.fake_slack_state import FakeMessage
from bot.simulator.signer import block_actions_body, escape_mentions, slash_command_body
from bot.simulator.simulator import Simulator, Step

SECRET = "s3cret"
PY = sys.executable
FINAL_STATES = ("succeeded", "failed", "cancelled", "expired", "rejected")

Answer = tuple[int, dict[str, Any] | None]
Policy = Callable[[dict[str, Any]], Answer | Awaitable[Answer]]


def succeeded(detail: str = "done") -> Answer:
    return 200, {"status": "succeeded", "detail": detail}


def failed(detail: str = "broken") -> Answer:
    return 200, {"status": "failed", "detail": detail}


ACCEPTED: Answer = (202, None)


def always(answer: Answer) -> Policy:
    return lambda _job: answer


def in_turn(*answers: Answer) -> Policy:
    """The answers one after the other; the last one repeats."""
    queue = list(answers)
    return lambda _job: queue.pop(0) if len(queue) > 1 else queue[0]


@dataclass
class Receiver:
    """An executor's HTTP endpoint on 127.0.0.1: checks the signature, records the job, answers
    what the policy of its path says (``/deploy``, ``/health``, ...)."""

    secret: str = SECRET
    policies: dict[str, Policy] = field(default_factory=dict)
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    base_url: str = ""

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def on(self, name: str, policy: Policy) -> None:
        self.policies[name] = policy

    def jobs_for(self, name: str, deployment_id: int | None = None) -> list[dict[str, Any]]:
        return [job for path, job in self.jobs if path == name
                and (deployment_id is None or job["deployment_id"] == str(deployment_id))]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not verify(self.secret, request.headers.get(TIMESTAMP_HEADER),
                      request.headers.get(SIGNATURE_HEADER), raw, now=time.time()):
            self.refused += 1
            return web.json_response({"error": "bad signature"}, status=401)
        name = request.match_info["name"]
        job = json.loads(raw)
        self.jobs.append((name, job))
        answer = self.policies.get(name, always(succeeded()))(job)
        status, body = await answer if inspect.isawaitable(answer) else answer
        return web.Response(status=status) if body is None else web.json_response(body, status=status)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        app = web.Application()
        app.router.add_post("/{name}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            yield self
        finally:
            await runner.cleanup()


# ── callbacks ──────────────────────────────────────────────────────────────────────────────

def rebase(url: str, base_url: str) -> str:
    """The same callback path on another bot process (its public URL changed on restart)."""
    parts = urlsplit(url)
    return f"{base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")


async def post_result(http: aiohttp.ClientSession, url: str, status: str = "succeeded", *,
                      detail: str = "", secret: str = SECRET, timestamp: int | None = None,
                      signature: str | None = None) -> int:
    """POST an executor's result to ``url``, signed for that URL as executors sign callbacks
    (``timestamp.path.body``); the HTTP status."""
    body = json.dumps({"status": status, "detail": detail}).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
               SIGNATURE_HEADER: signature or sign_callback(secret, stamp, callback_path(url), body)}
    async with http.post(url, data=body, headers=headers) as response:
        return response.status


async def callback(sim: Simulator, url: str, status: str = "succeeded", **how: Any) -> int:
    """An executor's result arrives; then the bot runs what became due and delivers messages."""
    code = await post_result(sim.http, url, status, **how)
    await sim.app.settle()
    return code


# ── pipelines and simulators ────────────────────────────────────────────────────────────────

def write_pipeline(directory: Path, text: str) -> Path:
    path = directory / "pipelines.toml"
    path.write_text(text, encoding="utf-8")
    return path


def running_ship_pipeline(directory: Path, receiver: Receiver) -> Path:
    """One stage, `ship`, whose webhook answers 202 (the result comes later): the deployment
    keeps running."""
    receiver.on("ship", always(ACCEPTED))
    return write_pipeline(directory, f"""
[pipelines.default]
[[pipelines.default.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
timeout = "2h"
""")


def toml_list(items: list[str]) -> str:
    return json.dumps(items)


def with_pipeline(settings: Settings, path: Path) -> Settings:
    return replace(settings, pipelines_path=str(path), webhook_secret=SECRET)


@asynccontextmanager
async def simulator(settings: Settings, clock: ManualClock) -> AsyncIterator[Simulator]:
    async with Simulator(settings, clock=clock) as sim:
        yield sim


async def new_use_case(sim: Simulator, slug: str = "churn", *, owner: str | None = None) -> None:
    extra = f" owner=@{owner}" if owner else ""
    step = await sim.command(f'/usecase new {slug} "Predict {slug}"{extra}')
    assert step.status == 200


def deployment_id_of(reply: dict[str, Any] | None) -> int:
    """The id from the reply to ``/deploy <slug> <version>``."""
    text = (reply or {}).get("text", "")
    found = re.search(r"(?:Deployment|Rollback) (\d+)", text)
    assert found, f"no deployment started: {text!r}"
    return int(found.group(1))


async def deploy(sim: Simulator, line: str) -> int:
    """Start a deployment; returns its id once the bot has run all it could right away."""
    return deployment_id_of((await sim.command(line)).reply)


async def command_without_settling(sim: Simulator, line: str) -> dict[str, Any]:
    """A signed slash command whose effects are left for the test to drive (no settle)."""
    name, _, text = line.partition(" ")
    text = escape_mentions(text, sim.fake.user, sim.fake.channel, sim.fake.usergroup)
    body = slash_command_body(
        command=name, text=text, user_id=sim.user, user_name=sim.name_of(sim.user),
        channel_id=sim.channel, channel_name=sim.name_of(sim.channel), team_id=sim.fake.team_id,
        trigger_id=f"{uuid.uuid4().hex}.command.trigger",
        response_url=sim.fake.new_response_url(channel=sim.channel, user_id=sim.user),
    )
    async with sim.http.post(sim.url, data=body.encode(), headers=sim.signer.headers(body)) as resp:
        assert resp.status == 200
        reply: dict[str, Any] = await resp.json(content_type=None)
    return reply


def carry_over_slack(old: Simulator, new: Simulator) -> None:
    """Slack outlives a bot restart: the new process's fake workspace keeps the old messages."""
    new.fake._state.messages[:0] = old.fake._state.messages
    new.fake._state._seq = max(new.fake._state._seq, old.fake._state._seq)


async def wait_for(condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
    """Short polling for something another process does (a command writing its file)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


# ── what the database holds ─────────────────────────────────────────────────────────────────

async def load(sim: Simulator, deployment: int) -> Deployment:
    async with sim.app.db.uow() as uow:
        found = await uow.deployments.get(deployment)
    assert found is not None, f"no deployment {deployment}"
    return found


async def events(sim: Simulator, deployment: int) -> list[Event]:
    async with sim.app.db.uow() as uow:
        return await uow.deployments.events(deployment)


async def history(sim: Simulator, slug: str = "churn") -> list[Deployment]:
    async with sim.app.db.uow() as uow:
        return await uow.deployments.history(slug, limit=50)


def kinds(trail: list[Event]) -> list[str]:
    return [e.kind for e in trail]


def stage_states(d: Deployment) -> dict[str, str]:
    return {s.name: s.state.value for s in d.stages}


# ── what Slack shows ───────────────────────────────────────────────────────────────────────

def _text(message: FakeMessage | dict[str, Any]) -> str:
    if isinstance(message, FakeMessage):
        return message.text + json.dumps(message.blocks, ensure_ascii=False)
    return message.get("text", "") + json.dumps(message.get("blocks", []), ensure_ascii=False)


def deployment_message(sim: Simulator, deployment: int) -> FakeMessage:
    """The one message of a deployment, as the channel shows it now (after every edit)."""
    titles = (f"Deployment {deployment}: ", f"Rollback {deployment}: ")
    found = [m for m in sim.fake.messages() if m.thread_ts is None and m.blocks
             and m.blocks[0].get("type") == "header"
             and m.blocks[0]["text"]["text"].startswith(titles)]
    assert len(found) == 1, f"expected one message for deployment {deployment}, got {len(found)}"
    return found[0]


def message_text(sim: Simulator, deployment: int) -> str:
    return _text(deployment_message(sim, deployment))


def thread(sim: Simulator, deployment: int) -> list[str]:
    """The notes posted in the deployment message's thread (their text), oldest first."""
    ts = deployment_message(sim, deployment).ts
    return [m.text for m in sim.fake.messages() if m.thread_ts == ts]


def announcements(sim: Simulator, deployment: int) -> list[str]:
    """Closing announcements in the channel (not in the thread) for this deployment."""
    pattern = re.compile(rf"(?:Deployment|Rollback) {deployment}: .*: ({'|'.join(FINAL_STATES)})")
    return [_text(c.args) for c in sim.fake.calls_to("chat.postMessage")
            if not c.args.get("thread_ts") and pattern.fullmatch(c.args.get("text", ""))]


def buttons(sim: Simulator, deployment: int) -> dict[str, str]:
    """action_id → value of the buttons the deployment message shows now."""
    found: dict[str, str] = {}
    for block in deployment_message(sim, deployment).blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element["action_id"]] = element["value"]
    return found


async def press(sim: Simulator, deployment: int, action_id: str, *,
                value: str | None = None) -> Step:
    """Click a button of the deployment message as the current user (a signed block_actions)."""
    message = deployment_message(sim, deployment)
    value = value or buttons(sim, deployment)[action_id]
    action = {"type": "button", "action_id": action_id, "block_id": f"deployment-{deployment}",
              "value": value, "text": {"type": "plain_text", "text": action_id}}
    return await click(sim, message, action)


async def click(sim: Simulator, message: FakeMessage, action: dict[str, Any]) -> Step:
    """A signed block_actions for ``action`` on ``message``, from the current user."""
    body = block_actions_body(
        user_id=sim.user, user_name=sim.name_of(sim.user), channel_id=message.channel,
        team_id=sim.fake.team_id, action=action,
        message={"ts": message.ts, "text": message.text, "blocks": message.blocks},
        container=None, trigger_id=f"{uuid.uuid4().hex}.click.trigger",
        response_url=sim.fake.new_response_url(channel=message.channel, user_id=sim.user,
                                               message_ts=message.ts),
    )
    return await sim.send_signed(body, settle=sim.answered())


def private_replies(step: Step) -> str:
    """What the clicker was told privately (through response_url)."""
    return " ".join(_text(body) for _token, body in step.responses)
