"""Executors against real things: a local HTTP server for webhooks, real processes for commands."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.domain.executor_specs import CommandSpec, DryRunSpec, KpiSpec, WebhookSpec
from bot.domain.kpis import GateVerdict, MaxDrop, Shortfall
from bot.domain.pipeline import ExecutorSpec
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.kpi import KpiGateExecutor
from bot.executors.registry import Executors
from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookExecutor, sign, verify

SECRET = "test-webhook-secret-123"
PY = sys.executable
SECOND = timedelta(seconds=1)


def make_job(version: str = "1.2.3", **changes: object) -> StageJob:
    fields: dict[str, object] = {
        "deployment_id": "D42",
        "use_case": "churn",
        "version": version,
        "stage": "deploy",
        "wave": 2,
        "targets": ("web-1", "web-2"),
        "callback_url": "http://bot.example/api/v1/deployments/D42/stages/deploy/result",
        "requested_by": "U123",
    }
    fields.update(changes)
    return StageJob(**fields)  # type: ignore[arg-type]


# --- webhook -------------------------------------------------------------------------------

Answer = Callable[[], Awaitable[web.StreamResponse]]


@dataclass
class Hook:
    """A webhook receiver that checks signatures and answers from a script."""

    answers: list[Answer]
    url: str = ""
    bodies: list[dict[str, object]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stamp, signature = request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
        if not verify(SECRET, stamp, signature, raw, now=time.time()):
            return web.Response(status=401, text="bad signature")
        self.bodies.append(json.loads(raw))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return await answer()


def reply(status: int, body: object = None) -> Answer:
    async def answer() -> web.StreamResponse:
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)

    return answer


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    hook = Hook(answers=[reply(200, {"status": "succeeded"})])
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/hook"))
    yield hook
    hook.release.set()  # lets a deliberately slow handler finish before shutdown
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def webhook(session: aiohttp.ClientSession, retries: int = 3) -> WebhookExecutor:
    return WebhookExecutor(SECRET, session, retries=retries, backoff=lambda n: 0.01)


def hook_spec(url: str) -> ExecutorSpec:
    return WebhookSpec(url=url)


async def test_webhook_sync_success_sends_the_signed_job(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(200, {"status": "succeeded", "detail": "rolled out", "url": "https://ci/1"})]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result == ExecutorResult(Outcome.SUCCEEDED, "rolled out", url="https://ci/1")
    assert hook.bodies == [{
        "deployment_id": "D42", "use_case": "churn", "version": "1.2.3", "stage": "deploy", "wave": 2,
        "targets": ["web-1", "web-2"], "callback_url": make_job().callback_url, "requested_by": "U123",
    }]


async def test_webhook_sync_failure_carries_the_detail(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(200, {"status": "failed", "detail": "migration 12 failed"})]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert (result.outcome, result.detail) == (Outcome.FAILED, "migration 12 failed")


async def test_webhook_unexpected_2xx_answer_fails(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(200, {"ok": True})]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("unexpected answer")


async def test_webhook_202_is_accepted(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(202)]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result.outcome is Outcome.ACCEPTED
    assert len(hook.bodies) == 1


async def test_webhook_retries_a_5xx(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(500), reply(200, {"status": "succeeded", "detail": "ok"})]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result.outcome is Outcome.SUCCEEDED
    assert len(hook.bodies) == 2
    assert hook.bodies[0] == hook.bodies[1]


async def test_webhook_retries_429_and_does_not_follow_redirects(
    hook: Hook, session: aiohttp.ClientSession
) -> None:
    hook.answers = [reply(429), reply(302)]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert (result.outcome, result.detail) == (Outcome.FAILED, "HTTP 302: (empty body)")
    assert len(hook.bodies) == 2


async def test_webhook_gives_up_after_the_retries(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(500)]
    result = await webhook(session, retries=2).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result.outcome is Outcome.FAILED
    assert "HTTP 500" in result.detail and "3 attempts" in result.detail
    assert len(hook.bodies) == 3


async def test_webhook_4xx_fails_without_retry(hook: Hook, session: aiohttp.ClientSession) -> None:
    hook.answers = [reply(404, {"error": "no such service"})]
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=5 * SECOND)
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("HTTP 404:") and "no such service" in result.detail
    assert len(hook.bodies) == 1


async def test_webhook_connection_refused_fails_after_retries(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await webhook(session, retries=2).run(
        hook_spec(f"http://127.0.0.1:{port}/hook"), make_job(), timeout=5 * SECOND
    )
    assert result.outcome is Outcome.FAILED
    assert "cannot connect" in result.detail and "3 attempts" in result.detail


async def test_webhook_slow_server_times_out(hook: Hook, session: aiohttp.ClientSession) -> None:
    async def slow() -> web.StreamResponse:
        await asyncio.wait_for(hook.release.wait(), 10)
        return web.json_response({"status": "succeeded"})

    hook.answers = [slow]
    started = time.monotonic()
    result = await webhook(session).run(hook_spec(hook.url), make_job(), timeout=timedelta(seconds=0.3))
    assert result.outcome is Outcome.FAILED
    assert "timed out" in result.detail
    assert time.monotonic() - started < 2


async def test_webhook_refuses_to_run_without_a_secret(session: aiohttp.ClientSession) -> None:
    executor = WebhookExecutor("", session)
    result = await executor.run(hook_spec("http://127.0.0.1:1/"), make_job(), timeout=SECOND)
    assert result.outcome is Outcome.FAILED


def test_verify_accepts_the_real_signature_only() -> None:
    body, now = b'{"status":"succeeded"}', 1_700_000_000.0
    ts = str(int(now))
    good = sign(SECRET, int(now), body)
    assert good.startswith("sha256=") and len(good) == len("sha256=") + 64
    assert verify(SECRET, ts, good, body, now=now)
    assert verify(SECRET, ts, good, body, now=now + 299)
    assert verify(SECRET, ts, good, body, now=now + 300.9)  # exactly 300 s old, in whole seconds
    assert verify(SECRET, ts, good, body, now=now - 300)    # exactly 300 s ahead: the same window
    assert not verify(SECRET, ts, good, body + b" ", now=now)                       # tampered body
    assert not verify(SECRET, ts, "sha256=" + "0" * 64, body, now=now)              # forged
    assert not verify(SECRET, ts, good.removeprefix("sha256="), body, now=now)     # malformed
    assert not verify(SECRET, ts, "sha256=é", body, now=now)                       # non-ASCII
    assert not verify("another-secret", ts, good, body, now=now)                   # wrong secret
    assert not verify(SECRET, ts, good, body, now=now + 301)                       # stale
    assert not verify(SECRET, ts, good, body, now=now - 301)                       # from the future
    assert not verify(SECRET, str(int(now) + 1), good, body, now=now)              # other timestamp
    assert not verify(SECRET, None, good, body, now=now)
    assert not verify(SECRET, ts, None, body, now=now)
    assert not verify(SECRET, "", "", body, now=now)
    assert not verify(SECRET, "12x", good, body, now=now)
    assert not verify("", ts, sign("", int(now), body), body, now=now)              # no secret: refuse


# --- command -------------------------------------------------------------------------------

def command(*code_and_args: str) -> ExecutorSpec:
    return CommandSpec(argv=(PY, "-c", *code_and_args))


async def run_command(spec: ExecutorSpec, job: StageJob | None = None, seconds: float = 10) -> ExecutorResult:
    return await CommandExecutor().run(spec, job or make_job(), timeout=timedelta(seconds=seconds))


def is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # Dead but not yet reaped (a container's PID 1 may be slow to reap orphans) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


async def wait_gone(*pids: int, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not all(is_gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if not is_gone(p)]}"
        await asyncio.sleep(0.02)


async def test_command_success_keeps_the_output() -> None:
    result = await run_command(command("import sys; print('hello'); print('oops', file=sys.stderr)"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.detail == "exit code 0"
    assert result.output_tail == ("hello", "oops")


async def test_command_nonzero_exit_fails() -> None:
    result = await run_command(command("print('bad'); raise SystemExit(1)"))
    assert (result.outcome, result.detail, result.output_tail) == (Outcome.FAILED, "exit code 1", ("bad",))


async def test_command_keeps_only_the_last_20_lines() -> None:
    result = await run_command(command("for i in range(1000): print(i)"))
    assert result.output_tail == tuple(str(i) for i in range(980, 1000))


async def test_command_huge_line_is_cut() -> None:
    result = await run_command(command("import sys; sys.stdout.write('x' * 2_000_000)"))
    assert result.outcome is Outcome.SUCCEEDED
    assert len(result.output_tail) == 1 and len(result.output_tail[0]) <= 500


GRANDPARENT = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
print(os.getpid(), grandchild.pid, flush=True)
time.sleep(30)
"""


async def test_command_timeout_kills_the_whole_process_group() -> None:
    started = time.monotonic()
    result = await run_command(command(GRANDPARENT), seconds=0.5)
    assert time.monotonic() - started < 4
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("timed out after")
    child, grandchild = (int(p) for p in result.output_tail[-1].split())
    await wait_gone(child, grandchild)


async def test_a_command_ignoring_sigterm_is_killed_after_the_grace() -> None:
    code = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(os.getpid(), flush=True); time.sleep(30)"
    )
    executor = CommandExecutor(kill_grace=0.2)
    started = time.monotonic()
    result = await executor.run(command(code), make_job(), timeout=timedelta(seconds=0.5))
    assert result.outcome is Outcome.FAILED and time.monotonic() - started < 3
    await wait_gone(int(result.output_tail[-1]))


async def test_cancelling_kills_the_process(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    code = GRANDPARENT.replace("print(", f"open({str(pids)!r}, 'w').write('%d %d' % (").replace(
        ", flush=True)", "))"
    )
    task = asyncio.create_task(run_command(command(code)))
    deadline = time.monotonic() + 5
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    child, grandchild = (int(p) for p in pids.read_text().split())
    await wait_gone(child, grandchild)


async def test_placeholders_are_literal_data_never_a_shell(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned-XYZ"
    version = f"1.0; touch {pwned} $(id) `id` {{stage}} {{0.__class__}}"
    spec = command(
        "import json, sys; print(json.dumps(sys.argv[1:]))",
        "{version}", "v={version}", "{use_case}/{stage}", "{targets}", "{wave}",
    )
    result = await run_command(spec, make_job(version))
    assert result.outcome is Outcome.SUCCEEDED
    assert json.loads(result.output_tail[-1]) == [version, f"v={version}", "churn/deploy", "web-1,web-2", "2"]
    assert not pwned.exists()


async def test_secrets_do_not_reach_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("BIZDEVOPS_WEBHOOK_SECRET", "whsec-very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    names = ["SLACK_BOT_TOKEN", "BIZDEVOPS_WEBHOOK_SECRET", "DATABASE_URL", "HARMLESS_SETTING"]
    names += [f"BIZDEVOPS_{n}" for n in ("DEPLOYMENT_ID", "VERSION", "USE_CASE", "STAGE", "TARGETS")]
    code = (
        "import json, os, sys; names = sys.argv[1:]; "
        "print(json.dumps({n: os.environ[n] for n in names if n in os.environ})); "
        "print(any('very-secret' in v or 'pw@' in v for v in os.environ.values()))"
    )
    result = await run_command(command(code, *names))
    env = json.loads(result.output_tail[0])
    assert result.output_tail[1] == "False"
    assert not {"SLACK_BOT_TOKEN", "BIZDEVOPS_WEBHOOK_SECRET", "DATABASE_URL"} & env.keys()
    assert env["HARMLESS_SETTING"] == "kept"
    assert env["BIZDEVOPS_DEPLOYMENT_ID"] == "D42"
    assert env["BIZDEVOPS_VERSION"] == "1.2.3"
    assert (env["BIZDEVOPS_USE_CASE"], env["BIZDEVOPS_STAGE"]) == ("churn", "deploy")
    assert env["BIZDEVOPS_TARGETS"] == "web-1,web-2"


async def test_missing_executable_fails() -> None:
    spec = CommandSpec(argv=("/nonexistent/deploy-tool-xyz", "{version}"))
    result = await run_command(spec)
    assert result.outcome is Outcome.FAILED
    assert "not found" in result.detail and "deploy-tool-xyz" in result.detail


# --- dry run and dispatch ------------------------------------------------------------------

async def test_dry_run_succeeds_and_says_so() -> None:
    spec = DryRunSpec(delay=timedelta(milliseconds=10))
    result = await DryRunExecutor().run(spec, make_job(), timeout=SECOND)
    assert result.outcome is Outcome.SUCCEEDED
    assert result.detail.startswith("dry run: nothing was deployed")
    assert "wave 2" in result.detail and "web-1" in result.detail


async def judge_auc(slug: str, name: str, max_drop: MaxDrop | None, started: datetime | None,
                    ran: datetime | None) -> GateVerdict:
    passed = name == "auc" and max_drop == MaxDrop(2, True)
    return GateVerdict(name, "", 0.9) if passed else GateVerdict(name, "", None,
                                                                 failed=Shortfall.NO_FRESH_VALUE)


async def test_registry_dispatches_on_kind(session: aiohttp.ClientSession) -> None:
    executors = Executors(webhook(session), CommandExecutor(), DryRunExecutor(),
                          KpiGateExecutor(judge_auc))
    plain_job = make_job(wave=None, targets=())
    dry = await executors.run(DryRunSpec(), plain_job, timeout=SECOND)
    assert dry.detail == "dry run: nothing was deployed"
    ran = await executors.run(command("print('ran')"), make_job(), timeout=5 * SECOND)
    assert ran.output_tail == ("ran",)
    gate = KpiSpec(kpi="auc", max_drop=MaxDrop(2, True))
    judged = await executors.run(gate, make_job(), timeout=SECOND)
    assert (judged.outcome, judged.detail) == (Outcome.SUCCEEDED, "KPI `auc` is 0.9: a fresh value")


async def test_a_kpi_gate_that_gets_no_verdict_in_time_fails() -> None:
    async def never(*_args: object) -> GateVerdict:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    gate = KpiSpec(kpi="auc")
    result = await KpiGateExecutor(never).run(gate, make_job(), timeout=timedelta(milliseconds=50))
    assert result.outcome is Outcome.FAILED
    assert result.detail == "KPI `auc`: no value within the stage's timeout, so the check fails"
