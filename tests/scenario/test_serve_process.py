"""`bizdevops serve` as a real process, answering signed requests against a fake Slack API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.simulator.fake_slack import FakeSlack
from bot.simulator.signer import SlackRequestSigner, slash_command_body
from storage.migrate import head_revision

SECRET = "test-signing-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token="xoxb-test-token")
    await slack.start()
    slack.add_user("alice")
    slack.add_channel("general")
    yield slack
    await slack.stop()


def _env(fake: FakeSlack, database_url: str, port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    return {
        **keep, "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "DATABASE_URL": database_url, "PORT": str(port),
        "BIZDEVOPS_ADMINS": "UALICE", "LOG_LEVEL": "INFO",
    }


async def _run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def _wait_healthy(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    assert await response.json() == {"status": "ok"}
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("serve never became healthy")


async def test_serve_answers_signed_requests_and_delivers_announcements(
    fake: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = _env(fake, database_url, port)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    signer = SlackRequestSigner(SECRET)
    body = slash_command_body(
        command="/usecase", text='new churn "Predict churn"', user_id="UALICE",
        user_name="alice", channel_id="CGENERAL", channel_name="general", team_id="T0SIM",
        response_url=fake.new_response_url(), trigger_id="1.2.3",
    )
    try:
        async with aiohttp.ClientSession() as http:
            await _wait_healthy(http, base)
            bad = {**signer.headers(body), "X-Slack-Signature": "v0=deadbeef"}
            async with http.post(f"{base}/slack/events", data=body, headers=bad) as response:
                assert response.status == 401
            async with http.post(f"{base}/slack/events", data=body,
                                 headers=signer.headers(body)) as response:
                assert response.status == 200
                reply = await response.json()
        assert reply["response_type"] == "ephemeral" and "Created *churn*" in reply["text"]
        for _ in range(200):  # the background worker delivers the announcement
            if fake.calls_to("chat.postMessage"):
                break
            await asyncio.sleep(0.05)
        [announcement] = fake.calls_to("chat.postMessage")
        assert announcement.args["channel"] == "CGENERAL"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, out.decode()
    assert "xoxb-test-token" not in out.decode() and SECRET not in out.decode()


async def test_serve_refuses_a_database_behind_the_code(fake: FakeSlack, tmp_path: Path) -> None:
    env = _env(fake, f"sqlite+aiosqlite:///{tmp_path}/new.db", _free_port())
    code, out = await _run("serve", env=env, cwd=tmp_path)
    assert code == 1
    assert "run `bizdevops migrate`" in out

    code, out = await _run("migrate", env=env, cwd=tmp_path)
    assert code == 0 and f"revision {head_revision()}" in out


async def test_missing_required_setting_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    code, out = await _run("serve", env=env, cwd=tmp_path)
    assert code == 2
    assert out.strip().splitlines() == [
        "bizdevops: configuration error: SLACK_BOT_TOKEN is required for `bizdevops serve` "
        "(a token starting with xoxb-)"
    ]


# ── DATABASE_URL problems: one line naming the variable, never a traceback ─────────────────

def _bare_env(database_url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    return {**keep, "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": database_url, "PORT": str(_free_port())}


@pytest.mark.parametrize("command", [("check-config",), ("serve",), ("migrate",)])
async def test_a_database_url_whose_port_is_no_number_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    code, out = await _run(*command, env=_bare_env("postgresql://bot:pw@db:abc/x"), cwd=tmp_path)
    assert code != 0
    first = out.strip().splitlines()[0]  # check-config adds a count of the problems after it
    assert first.endswith("DATABASE_URL is malformed: its port is not a number")
    assert "Traceback" not in out and "pw" not in out


MISSING_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bizdevops_no_such_database"


@pytest.mark.parametrize(("command", "url", "problem"), [
    (("serve",), "postgresql+asyncpg://postgres:pw@127.0.0.1:9/x", "cannot connect to 127.0.0.1:9: "
     "connection refused"),
    (("migrate",), MISSING_PG, 'database "bizdevops_no_such_database" does not exist'),
    (("token", "list"), "sqlite+aiosqlite:////nonexistent/dir/bizdevops.db",
     "cannot use the database at /nonexistent/dir/bizdevops.db: unable to open database file"),
])
async def test_an_unreachable_or_missing_database_is_one_line(
    tmp_path: Path, request: pytest.FixtureRequest, command: tuple[str, ...], url: str, problem: str
) -> None:
    if url == MISSING_PG:
        request.getfixturevalue("pg_databases")  # a server to say the database is missing
    code, out = await _run(*command, env=_bare_env(url), cwd=tmp_path)
    assert code == 1
    [line] = out.strip().splitlines()
    assert line.startswith("bizdevops: DATABASE_URL: ") and problem in line
    assert "pw" not in out
