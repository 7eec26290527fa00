from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings

DOWN = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"


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
    down = replace(settings, database_url=DOWN)
    status, body = await _status(down)
    assert status == 503
    assert body["status"] == "unavailable"


@pytest.mark.parametrize("url", [DOWN, "sqlite+aiosqlite:////nonexistent/dir/bizdevops.db"])
async def test_metrics_and_the_push_api_are_503_while_the_database_is_down(
    caplog: pytest.LogCaptureFixture, url: str
) -> None:
    app = create_app(replace(Settings(), database_url=url, slack_bot_token="xoxb-test",
                             slack_signing_secret="s"))
    try:
        async with TestClient(TestServer(app.web)) as client:
            scraped = await client.get("/metrics")
            pushed = await client.post("/api/v1/metrics", json={"use_case": "churn", "name": "auc",
                                                                "value": 0.8},
                                       headers={"Authorization": "Bearer bdo_" + "x" * 43})
            assert (scraped.status, pushed.status) == (503, 503)
            assert (await pushed.json())["status"] == "unavailable"
    finally:
        await app.stop()
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [], "no traceback"
