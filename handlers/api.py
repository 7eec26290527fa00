"""HTTP API beside Slack's endpoint: executor callbacks (signed with the webhook secret)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from aiohttp import web

from bot.domain.deployment_model import StepKind
from bot.executors.base import ExecutorResult, Outcome
from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from bot.services.deployment_runs import DeploymentRuns

log = logging.getLogger(__name__)


def register(web_app: web.Application, runs: DeploymentRuns, secret: str,
             wake: Callable[[], None]) -> None:
    async def stage_result(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(secret, request.headers.get(TIMESTAMP_HEADER),
                      request.headers.get(SIGNATURE_HEADER), body, now=time.time()):
            return web.json_response({"error": "bad or missing signature"}, status=401)
        try:
            deployment_id = int(request.match_info["id"])
            kind = StepKind(request.query.get("kind", "run"))
            wave = int(request.query["wave"]) - 1 if "wave" in request.query else None
            payload = json.loads(body)
            status = payload["status"]
            if status not in ("succeeded", "failed"):
                raise ValueError(status)
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"error": 'expected JSON {"status": "succeeded"|"failed", "detail"?, "url"?}'},
                status=400)
        stage = request.match_info["stage"]
        result = ExecutorResult(Outcome(status), str(payload.get("detail", ""))[:1000],
                                _url(payload.get("url")))
        saved = await runs.record_callback(deployment_id, stage, kind, wave, result)
        log.info("action=callback deployment_id=%s stage=%s status=%s applied=%s",
                 deployment_id, stage, status, saved)
        if not saved:
            return web.json_response({"error": "that stage is not waiting for a result"}, status=409)
        wake()
        return web.json_response({"ok": True})

    web_app.router.add_post("/api/v1/deployments/{id}/stages/{stage}/result", stage_result)


def _url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None
