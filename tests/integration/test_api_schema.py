"""schemathesis against a running `bizdevops serve` (SQLite, a fake Slack, a token made with the
CLI): every /api/v1 endpoint keeps the shapes and refusals handlers/openapi.yaml documents for
generated input — never a 5xx, every answer of a documented status, content type and schema.

schemathesis is a test-only tool with many dependencies: it runs from its own venv, which
``python3 scripts/tools.py schemathesis`` makes (seconds; .ci/run does). Without it this test is
skipped, unless ``BIZDEVOPS_REQUIRE_SCHEMATHESIS=1`` (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.domain.deployment_model import DeploymentState, StageState
from bot.simulator.fake_slack import FakeSlack
from bot.simulator.signer import SlackRequestSigner, slash_command_body
from scripts import tools
from tests.servers import free_port, unavailable

REQUIRE = "BIZDEVOPS_REQUIRE_SCHEMATHESIS"
ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "handlers" / "openapi.yaml"
SIGNING = "schema-signing-secret-0123456789"
# The handlers check more than a schema can say (a time ahead of the bot's clock, a use case or
# pipeline that exists): well-shaped input may be refused 400 or 404 with its reason.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
"""


def schemathesis_python() -> Path:
    root = tools.schemathesis_venv()
    if not tools.ready(root):
        unavailable(f"no schemathesis {tools.SCHEMATHESIS_VERSION} venv at {root}; create it with "
                    "`python3 scripts/tools.py schemathesis`", REQUIRE)
    return tools.venv_python(root)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token="xoxb-test-token")
    await slack.start()
    slack.add_user("alice")
    slack.add_user("bob")  # a second admin: the default pipeline's gate is no dead end for alice
    slack.add_channel("general")
    yield slack
    await slack.stop()


def _env(fake: FakeSlack, tmp_path: Path, port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    return {**keep, "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": fake.api_url, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
            "PORT": str(port), "BIZDEVOPS_ADMINS": "UALICE,UBOB", "LOG_LEVEL": "WARNING",
            "BIZDEVOPS_WEBHOOK_SECRET": "callback-secret", "BIZDEVOPS_MLFLOW_WEBHOOK_SECRET": "mlflow"}


async def _bot(*args: str, env: dict[str, str], cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def _healthy(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(400):
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("serve never became healthy")


async def _seed(http: aiohttp.ClientSession, base: str, fake: FakeSlack, secret: str) -> None:
    """A use case (by a signed /usecase new) and one deployment through the API: deployment 1,
    which the document's example GETs."""
    body = slash_command_body(command="/usecase", text='new churn "Predict churn"', user_id="UALICE",
                              user_name="alice", channel_id="CGENERAL", channel_name="general",
                              team_id="T0SIM", response_url=fake.new_response_url(), trigger_id="1.2.3")
    headers = SlackRequestSigner(SIGNING).headers(body)
    async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
        assert response.status == 200
    start = {"use_case": "churn", "version": "1.0.0", "requested_by": "UALICE", "commit": "abc1234"}
    async with http.post(f"{base}/api/v1/deployments", json=start,
                         headers={"Authorization": f"Bearer {secret}"}) as response:
        assert response.status == 201, await response.text()
        assert (await response.json())["id"] == 1


def test_the_documented_states_are_the_domains() -> None:
    """The document's enums are the domain's states, so a new state cannot go undocumented."""
    schemas = yaml.safe_load(SPEC.read_text())["components"]["schemas"]
    deployment = schemas["Deployment"]["properties"]
    assert deployment["state"]["enum"] == [s.value for s in DeploymentState]
    assert deployment["stages"]["items"]["properties"]["state"]["enum"] == [s.value for s in StageState]


async def test_schemathesis_finds_every_api_v1_answer_as_documented(
    fake: FakeSlack, tmp_path: Path
) -> None:
    python = schemathesis_python()
    port = free_port()
    env, base = _env(fake, tmp_path, port), f"http://127.0.0.1:{port}"
    await _bot("migrate", env=env, cwd=tmp_path)
    created = await _bot("token", "create", "schemathesis", "--scope", "metrics:write",
                         "--scope", "deployments:write", "--scope", "audit:read", env=env,
                         cwd=tmp_path)
    secret = created.strip().splitlines()[-1]
    listed = await _bot("token", "list", env=env, cwd=tmp_path)
    assert "schemathesis\tlive\tmetrics:write,audit:read,deployments:write\t" in listed
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession() as http:
            await _healthy(http, base)
            await _seed(http, base, fake, secret)
        report = await _schemathesis(python, base, secret, tmp_path)
    finally:
        server.send_signal(signal.SIGTERM)
        logs, _ = await asyncio.wait_for(server.communicate(), timeout=30)
    assert report.returncode == 0, f"{report.out}\n--- the bot's log ---\n{logs.decode()[-4000:]}"
    assert "Traceback" not in logs.decode(), logs.decode()[-4000:]


class Report:
    def __init__(self, returncode: int, out: str) -> None:
        self.returncode, self.out = returncode, out


async def _schemathesis(python: Path, base: str, secret: str, cwd: Path) -> Report:
    # Nothing of the project's venv may leak into schemathesis's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    process = await asyncio.create_subprocess_exec(
        str(python), "-m", "schemathesis.cli", "--no-color", "--config-file", str(cwd / "schemathesis.toml"),
        "run", str(SPEC), "--url", base, "--header", f"Authorization: Bearer {secret}",
        "--checks", "all", "--max-examples", "25", "--seed", "7", "--workers", "1",
        "--request-timeout", "10",
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    return Report(process.returncode or 0, out.decode() + json.dumps({"exit": process.returncode}))
