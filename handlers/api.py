"""HTTP API beside Slack's endpoint: executor callbacks (signed with the webhook secret).

A callback's signature covers its timestamp, the path and query it was posted to, and its body,
so a result signed for one step is worthless on any other; the step itself takes one result.
Every refusal is a 4xx with ``{"error": ...}`` and one log line.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.domain.deployment_model import StepKind
from bot.domain.safe_text import web_url
from bot.executors.base import ExecutorResult, Outcome
from bot.executors.webhook import DETAIL_LIMIT, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_callback
from bot.log_events import get_logger
from bot.services.deployment_runs import DeploymentRuns
from handlers.grammar.parsing import parse_id

log = get_logger(__name__)

KINDS = frozenset(k.value for k in StepKind)
EXPECTED = 'expected JSON {"status": "succeeded"|"failed", "detail"?: "...", "url"?: "https://..."}'


class Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status


def register(web_app: web.Application, runs: DeploymentRuns, secret: str, public_url: str) -> None:
    # Behind a proxy that strips a path prefix (public URL https://host/bot), the callback URL the
    # executor signed still has it: put it back before checking.
    prefix = urlsplit(public_url).path.rstrip("/")

    async def stage_result(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            if not verify_callback(secret, request.headers.get(TIMESTAMP_HEADER),
                                   request.headers.get(SIGNATURE_HEADER), prefix + request.raw_path,
                                   body, now=time.time()):
                raise Refused(401, "bad or missing signature")
            deployment_id, stage, kind, wave = _step(request)
            result = _result(body)
        except Refused as refused:
            log.info("callback_refused", status=refused.status, reason=refused, path=request.raw_path[:200])
            return web.json_response({"error": str(refused)}, status=refused.status)
        saved = await runs.record_callback(deployment_id, stage, kind, wave, result)
        log.info("callback", deployment_id=deployment_id, stage=stage, status=result.outcome, applied=saved)
        if not saved:  # another step's turn now, or this one had its result already
            return web.json_response({"error": "that step is not waiting for a result"}, status=409)
        return web.json_response({"ok": True})

    web_app.router.add_post("/api/v1/deployments/{id}/stages/{stage}/result", stage_result)


def _step(request: web.Request) -> tuple[int, str, StepKind, int | None]:
    """The step the URL names: deployment, stage, ``kind`` and 1-based ``wave`` (0-based out)."""
    deployment_id = parse_id(request.match_info["id"])
    kind = request.query.get("kind", "run")
    if deployment_id is None or kind not in KINDS:
        raise Refused(404, "no such step")
    if "wave" not in request.query:
        return deployment_id, request.match_info["stage"], StepKind(kind), None
    wave = parse_id(request.query["wave"])
    if wave is None:
        raise Refused(404, "no such step")
    return deployment_id, request.match_info["stage"], StepKind(kind), wave - 1


def _result(body: bytes) -> ExecutorResult:
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, absurdly deep or long numbers
        raise Refused(400, EXPECTED) from None
    if not isinstance(payload, dict) or payload.get("status") not in ("succeeded", "failed"):
        raise Refused(400, EXPECTED)
    detail, url = payload.get("detail") or "", payload.get("url")
    if not isinstance(detail, str):
        raise Refused(400, "detail: must be a string")
    if url is not None and web_url(url) is None:
        raise Refused(400, "url: must be an http(s) URL without spaces, control characters, <, > or |")
    return ExecutorResult(Outcome(payload["status"]), detail[:DETAIL_LIMIT], url)
