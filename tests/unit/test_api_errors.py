"""A failure of ours under /api/v1 answers JSON (500 with an error) and is logged; other paths
and aiohttp's own answers (404, 405) are left alone."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handlers.api_v1 import json_errors


async def _broken(request: web.Request) -> web.Response:
    raise RuntimeError("token ghp_secret in a bug")


async def test_a_bug_under_api_v1_is_a_json_500_and_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/api/v1/deployments/{id}", _broken)
    app.router.add_get("/slack/other", _broken)
    async with TestClient(TestServer(app)) as client:
        with caplog.at_level(logging.ERROR):
            answer = await client.get("/api/v1/deployments/1")
            body = await answer.json()
        other = await client.get("/slack/other")
        missing = await client.get("/api/v1/nothing-here")
    assert (answer.status, body) == (500, {"error": "the bot could not answer; its log says why"})
    assert "ghp_secret" not in str(body)
    assert any("action=api_error" in r.getMessage() for r in caplog.records)
    assert other.status == 500 and other.content_type != "application/json"  # not ours to shape
    assert missing.status == 404
