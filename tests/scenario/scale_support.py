"""Helpers for the scale-out scenarios: real `bizdevops serve` processes on one PostgreSQL.

Each process logs to a file (so a full pipe never stalls it); command stages append
"<deployment> <stage> <serve pid> start|end" to a step log, so the test can tell which process
ran which step and whether anything ran twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from sqlalchemy import select

from bot.clock import SystemClock
from bot.domain.deployment_model import Deployment, Event
from bot.render.cards import slack_args
from bot.simulator.fake_slack import FakeSlack
from bot.simulator.signer import SlackRequestSigner, slash_command_body
from storage.database import Database
from storage.models import OutboxRow

SECRET = "test-signing-secret-0123456789"
TOKEN = "xoxb-test-token"
PY = sys.executable
FINAL_STATES = ("succeeded", "failed", "cancelled", "expired", "rejected")

# A command stage for `python -c` (no braces: `{…}` in argv is a placeholder). argv: log file,
# stage name, seconds to take. Its parent is the `serve` process that launched it.
STEP = (
    "import os, sys, time\n"
    "dep, parent = os.environ['BIZDEVOPS_DEPLOYMENT_ID'], str(os.getppid())\n"
    "def note(what):\n"
    "    line = ' '.join([dep, sys.argv[2], parent, what])\n"
    "    with open(sys.argv[1], 'a') as f: f.write(line + chr(10))\n"
    "note('start')\n"
    "time.sleep(float(sys.argv[3]))\n"
    "note('end')\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pipeline_file(directory: Path, log: Path, stages: list[tuple[str, float]]) -> Path:
    """One pipeline, ``scale``, of command stages (name, seconds); no approval gate."""
    parts = ["[pipelines.scale]", 'description = "scale-out test"', ""]
    for name, seconds in stages:
        argv = json.dumps([PY, "-c", STEP, str(log), "{stage}", str(seconds)])
        parts += ["[[pipelines.scale.stages]]", f'name = "{name}"',
                  f'run = {{ executor = "command", argv = {argv} }}', 'timeout = "2m"', ""]
    path = directory / "pipelines.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def serve_env(fake: FakeSlack, database_url: str, port: int, pipelines: Path,
              **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    return {
        **keep, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "DATABASE_URL": database_url, "PORT": str(port),
        "BIZDEVOPS_ADMINS": "UALICE", "BIZDEVOPS_PIPELINES": str(pipelines),
        "BIZDEVOPS_PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "INFO", **extra,
    }


async def run_cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        PY, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, out.decode()


@dataclass
class Serve:
    """One `python -m bot serve` process."""

    name: str
    env: dict[str, str]
    cwd: Path
    process: asyncio.subprocess.Process | None = None
    _out: IO[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.cwd / f"serve-{self.name}.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self) -> None:
        self._out = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            PY, "-m", "bot", "serve", env=self.env, cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL, stdout=self._out, stderr=asyncio.subprocess.STDOUT,
        )

    async def wait_healthy(self, http: aiohttp.ClientSession, *, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.returncode is None, \
                f"serve {self.name} exited early:\n{self.output()}"
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"{self.base}/healthz") as response:
                    if response.status == 200 and await response.json() == {"status": "ok"}:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError(f"serve {self.name} never became healthy:\n{self.output()}")

    def sigkill(self) -> None:
        """SIGKILL right now (synchronous: nothing else runs between the caller's check and this)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self, *, grace: float = 20) -> int:
        """SIGTERM and wait (SIGKILL if it hangs); the exit code. Safe to call more than once."""
        try:
            if self.process is not None and self.process.returncode is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(self.process.wait(), timeout=grace)
                except TimeoutError:
                    self.process.kill()
                    await self.process.wait()
        finally:
            if self._out is not None:
                self._out.close()
                self._out = None
        return 0 if self.process is None or self.process.returncode is None else self.process.returncode

    async def killed(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        return await self.process.wait()


class Commander:
    """Signed slash commands as @alice, spread over the processes in turn."""

    def __init__(self, fake: FakeSlack, http: aiohttp.ClientSession, processes: list[Serve]) -> None:
        self.fake = fake
        self.http = http
        self.processes = processes
        self.signer = SlackRequestSigner(SECRET)
        self._turn = 0

    def next_process(self) -> Serve:
        process = self.processes[self._turn % len(self.processes)]
        self._turn += 1
        return process

    async def command(self, line: str, *, channel: str, to: Serve | None = None) -> dict[str, Any]:
        to = to or self.next_process()
        name, _, text = line.partition(" ")
        chan = self.fake.channel(channel)
        assert chan is not None
        body = slash_command_body(
            command=name, text=text, user_id="UALICE", user_name="alice", channel_id=chan.id,
            channel_name=chan.name, team_id=self.fake.team_id,
            response_url=self.fake.new_response_url(channel=chan.id, user_id="UALICE"),
            trigger_id=f"{uuid.uuid4().hex}.scale.trigger",
        )
        async with self.http.post(f"{to.base}/slack/events", data=body.encode(),
                                  headers=self.signer.headers(body)) as response:
            assert response.status == 200, f"{line} on {to.name}: HTTP {response.status}"
            reply: dict[str, Any] = await response.json(content_type=None)
        return reply


def deployment_id_of(reply: dict[str, Any]) -> int:
    found = re.search(r"Deployment (\d+)", reply.get("text", ""))
    assert found, f"no deployment started: {reply!r}"
    return int(found.group(1))


# ── the step log ────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class StepLine:
    deployment: int
    stage: str
    pid: int
    what: str


def step_lines(log: Path) -> list[StepLine]:
    if not log.exists():
        return []
    lines = []
    for raw in log.read_text().splitlines():
        dep, stage, pid, what = raw.split()
        lines.append(StepLine(int(dep), stage, int(pid), what))
    return lines


def starts(log: Path) -> Counter[tuple[int, str]]:
    return Counter((s.deployment, s.stage) for s in step_lines(log) if s.what == "start")


def running_on(log: Path, pid: int) -> set[tuple[int, str]]:
    """(deployment, stage) steps the process ``pid`` started and that have not ended yet."""
    lines = step_lines(log)
    ended = {(s.deployment, s.stage) for s in lines if s.what == "end"}
    return {(s.deployment, s.stage) for s in lines
            if s.what == "start" and s.pid == pid and (s.deployment, s.stage) not in ended}


_STEP_START = re.compile(r"action=step\.start deployment_id=(\d+) stage=(\S+)")


def engine_steps(serve_output: str) -> Counter[tuple[int, str]]:
    """(deployment, stage) steps a process's engine launched, from its log."""
    return Counter((int(m[1]), m[2]) for m in _STEP_START.finditer(serve_output))


# ── the database ────────────────────────────────────────────────────────────────────────────

async def deployments(db: Database, ids: list[int]) -> dict[int, Deployment]:
    found = {}
    async with db.uow() as uow:
        for d_id in ids:
            d = await uow.deployments.get(d_id)
            assert d is not None, f"no deployment {d_id}"
            found[d_id] = d
    return found


async def events(db: Database, d_id: int) -> list[Event]:
    async with db.uow() as uow:
        return await uow.deployments.events(d_id)


async def outbox_rows(db: Database) -> list[OutboxRow]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def open_db(url: str) -> Database:
    return Database(url, SystemClock(), words=slack_args)


# ── what Slack got ──────────────────────────────────────────────────────────────────────────

def _key(method: str, args: dict[str, Any]) -> tuple[str, str, str, str]:
    return (method, str(args.get("channel")), str(args.get("text", "")),
            json.dumps(args.get("blocks", []), sort_keys=True, ensure_ascii=False))


# A direct message's link to its deployment message is added when it is sent (outbox_worker).
_DELIVERY_LINK = re.compile(r"(?: — <[^<>]+\|open>| in <#[A-Z0-9]+>)$")


def slack_calls(fake: FakeSlack, method: str) -> Counter[tuple[str, str, str, str]]:
    """What Slack accepted, as (method, channel, text, blocks), counted; a direct message
    without the link its delivery added, so that it compares with what the outbox holds."""
    def stored(args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("channel", ""))[:1] in "UW":
            return {**args, "text": _DELIVERY_LINK.sub("", str(args.get("text", "")))}
        return args

    return Counter(_key(method, stored(c.args)) for c in fake.calls_to(method))


def sent_rows(rows: list[OutboxRow], method: str) -> Counter[tuple[str, str, str, str]]:
    return Counter(_key(method, r.args) for r in rows if r.method == method and r.status == "sent")


def closing_announcements(fake: FakeSlack, d_id: int) -> list[str]:
    pattern = re.compile(rf"Deployment {d_id}: .*: ({'|'.join(FINAL_STATES)})")
    return [c.args.get("text", "") + json.dumps(c.args.get("blocks", []), ensure_ascii=False)
            for c in fake.calls_to("chat.postMessage")
            if not c.args.get("thread_ts") and pattern.fullmatch(c.args.get("text", ""))]


def backlog_empty(db: Database) -> Callable[[], Awaitable[bool]]:
    async def empty() -> bool:
        return await db.outbox.backlog() == 0
    return empty


async def wait_until(condition: Callable[[], Any], *, deadline: float, what: str,
                     every: float = 0.1) -> None:
    """Poll ``condition`` (sync or async) until true, or fail at ``deadline`` (monotonic)."""
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(every)
