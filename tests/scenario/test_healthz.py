from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings


async def _status(settings: Settings) -> tuple[int, dict[str, str]]:
    app = create_app(replace(settings, slack_bot_token="xoxb-test", slack_signing_secret="s"))
    try:
        async with TestClient(TestServer(app.web)) as client:
            response = await client.get("/healthz")
            return response.status, await response.json()
    finally:
        await app.stop()


async def test_healthz_is_ok_when_the_database_answers(settings: Settings) -> None:
    assert await _status(settings) == (200, {"status": "ok"})


async def test_healthz_is_503_when_the_database_does_not(settings: Settings) -> None:
    down = replace(settings, database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    status, body = await _status(down)
    assert status == 503
    assert body["status"] == "unavailable"
