"""`bizdevops socket` as a real process, connected over Socket Mode to the fake Slack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulator.fake_slack import FakeSlack
from bot.simulator.signer import event_body, slash_command_body

BOT_TOKEN = "xoxb-socket-test-token-0123"
APP_TOKEN = "xapp-1-A0SIM-socket-test-token-4567"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    await slack.start()
    slack.add_user("alice")
    slack.add_channel("general")
    yield slack
    await slack.stop()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}


def _env(fake: FakeSlack, database_url: str, port: int) -> dict[str, str]:
    return {
        **_clean_env(), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
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


def _slash(fake: FakeSlack, text: str) -> dict[str, str]:
    """The fields Slack posts for a slash command, as the dict Socket Mode carries."""
    return dict(parse_qsl(slash_command_body(
        command="/usecase", text=text, user_id="UALICE", user_name="alice",
        channel_id="CGENERAL", channel_name="general", team_id="T0SIM",
        response_url=fake.new_response_url(), trigger_id=f"{uuid.uuid4().hex}.trigger",
    )))


async def _until(check, what: str, within: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


async def test_connections_open_takes_only_the_app_token(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        client = AsyncWebClient(base_url=fake.api_url, session=http, retry_handlers=[])
        opened = await client.apps_connections_open(app_token=APP_TOKEN)
        assert opened["url"].startswith(f"ws://127.0.0.1:{fake.base_url.rsplit(':', 1)[1]}/socket/")
        for token, error in ((BOT_TOKEN, "not_allowed_token_type"),
                             ("xapp-1-wrong", "invalid_auth")):
            with pytest.raises(SlackApiError) as refused:
                await client.apps_connections_open(app_token=token)
            assert refused.value.response["error"] == error
        with pytest.raises(SlackApiError) as refused:  # an app token is no bot token either
            await AsyncWebClient(token=APP_TOKEN, base_url=fake.api_url, session=http,
                                 retry_handlers=[]).auth_test()
        assert refused.value.response["error"] == "not_allowed_token_type"

        async with http.ws_connect(opened["url"]) as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["connection_info"] == {"app_id": "A0SIM"}
            await fake.wait_connected(timeout=5)
            assert fake.socket_mode.num_connections == 1
        with pytest.raises(aiohttp.WSServerHandshakeError):  # a ticket is good for one socket
            async with http.ws_connect(opened["url"]):
                pass


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    port: int
    output: str = ""


@asynccontextmanager
async def _socket_bot(fake: FakeSlack, tmp_path: Path, **env_overrides: str) -> AsyncIterator[Bot]:
    """`bizdevops socket` on a freshly migrated SQLite database; SIGTERMed on the way out."""
    port = _free_port()
    env = {**_env(fake, f"sqlite+aiosqlite:///{tmp_path}/bizdevops.db", port), **env_overrides}
    code, migrated = await _run("migrate", env=env, cwd=tmp_path)
    assert code == 0, migrated
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "socket", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    bot = Bot(process, port)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        finally:
            if process.returncode is None:  # it ignored SIGTERM: do not leak it
                process.kill()
                out, _ = await process.communicate()
        bot.output = out.decode()
    assert BOT_TOKEN not in bot.output and APP_TOKEN not in bot.output


async def test_socket_mode_process_end_to_end(fake: FakeSlack, tmp_path: Path) -> None:
    async with _socket_bot(fake, tmp_path) as bot:
        await fake.wait_connected(timeout=20)

        ack = await fake.send_envelope("slash_commands", _slash(fake, 'new churn "Predict churn"'))
        reply = ack["payload"]
        assert reply["response_type"] == "ephemeral" and "Created *churn*" in reply["text"]
        # The announcement goes out through the outbox worker, over the Web API.
        [announcement] = await _until(lambda: fake.calls_to("chat.postMessage"), "announcement")
        assert announcement.args["channel"] == "CGENERAL"
        assert "churn" in announcement.args.get("text", "") + json.dumps(
            announcement.args.get("blocks", []))

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{bot.port}/healthz") as response:
                assert response.status == 200
                assert await response.json() == {"status": "ok"}

        ack = await fake.send_envelope("slash_commands", _slash(fake, "frobnicate"))
        assert "Unknown sub-command" in json.dumps(ack["payload"])

        home = json.loads(event_body(
            event={"type": "app_home_opened", "user": "UALICE", "channel": "DALICE",
                   "tab": "home", "event_ts": f"{time.time():.6f}"},
            team_id="T0SIM", api_app_id="A0SIM", event_id="Ev0HOME1",
            event_time=int(time.time()),
        ))
        ack = await fake.send_envelope("events_api", home)
        assert "payload" not in ack  # events are acknowledged with the envelope id alone
        [published] = await _until(lambda: fake.calls_to("views.publish"), "views.publish")
        assert published.args["user_id"] == "UALICE"
        assert published.args["view"]["type"] == "home"

        # Slack asks every connection to reconnect now and then; the bot must come back.
        await fake.socket_mode.request_reconnect()
        await fake.wait_connected(timeout=20, opened=2)
        ack = await fake.send_envelope("slash_commands", _slash(fake, "frobnicate"))
        assert "Unknown sub-command" in json.dumps(ack["payload"])
        assert bot.process.returncode is None
    assert bot.process.returncode == 0, bot.output
    assert fake.socket_mode.unexpected == []
    assert fake.socket_mode.num_connections == 0  # the bot said goodbye on SIGTERM


async def test_socket_mode_takes_no_unsigned_http_requests(fake: FakeSlack,
                                                           tmp_path: Path) -> None:
    """Socket Mode checks no signatures, so it must not offer the HTTP endpoint at all:
    anyone who can reach $PORT could otherwise act as any user, admins included."""
    async with _socket_bot(fake, tmp_path) as bot:
        await fake.wait_connected(timeout=20)
        body = slash_command_body(
            command="/usecase", text='new forged "Not from Slack"', user_id="UALICE",
            user_name="alice", channel_id="CGENERAL", channel_name="general", team_id="T0SIM",
            response_url=fake.new_response_url(), trigger_id="1.2.3",
        )
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{bot.port}/slack/events", data=body,
                                 headers=form) as response:
                assert response.status == 404


async def test_a_refused_app_token_stops_socket_mode(fake: FakeSlack, tmp_path: Path) -> None:
    async with _socket_bot(fake, tmp_path, SLACK_APP_TOKEN="xapp-1-revoked-token-89") as bot:
        await _until(lambda: fake.calls_to("apps.connections.open", ok_only=False), "the attempt")
        await asyncio.wait_for(bot.process.wait(), timeout=10)
    assert bot.process.returncode == 2, bot.output
    assert "SLACK_APP_TOKEN" in bot.output and "invalid_auth" in bot.output
    assert "xapp-1-revoked-token-89" not in bot.output
    assert "Traceback" not in bot.output


@pytest.mark.parametrize(("app_token", "problem"), [
    (None, "SLACK_APP_TOKEN is required for `bizdevops socket` (a token starting with xapp-)"),
    ("xoxb-not-an-app-token", "SLACK_APP_TOKEN is malformed: it must start with xapp-"),
])
async def test_socket_needs_an_app_token(tmp_path: Path, app_token: str | None,
                                         problem: str) -> None:
    env = {**_clean_env(), "SLACK_BOT_TOKEN": BOT_TOKEN}
    if app_token is not None:
        env["SLACK_APP_TOKEN"] = app_token
    code, out = await _run("socket", env=env, cwd=tmp_path)
    assert code == 2
    assert out.strip().splitlines() == [f"bizdevops: configuration error: {problem}"]
