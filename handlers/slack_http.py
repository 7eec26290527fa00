"""`POST /slack/events`: each delivery is verified and checked here before bolt sees it.

1. The signature: ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>`` with the signing secret, the
   timestamp within 300 s either way (whole seconds, the same window as the callbacks'). Else 401.
2. The payload: a JSON object of the shape its kind needs (``handlers.slack_payload``). Else 400
   and one log line: bolt's own parsing would fail with a traceback and a 500.
3. bolt dispatches it, a few requests at a time, with the payload as parsed in 2.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.clock import within_window
from bot.log_events import get_logger
from handlers.slack_payload import Malformed, parse

log = get_logger(__name__)

_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")


def wall_clock() -> float:
    """Slack's timestamps are real time, whatever clock the services are given."""
    return time.time()


def register(web_app: web.Application, bolt: AsyncApp, signing_secret: str, *, at_once: int) -> None:
    turns = asyncio.Semaphore(at_once)
    key = signing_secret.encode()

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(key, request.headers.get("X-Slack-Request-Timestamp", ""),
                      request.headers.get("X-Slack-Signature", ""), body, now=wall_clock()):
            log.info("slack_refused", status=401, reason="signature")  # as bolt did, sans body
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            payload = parse(body, request.content_type)
        except Malformed as bad:
            log.info("slack_refused", status=400, reason=bad)
            return web.json_response({"error": f"malformed request: {bad}"}, status=400)
        async with turns:
            return await to_aiohttp_response(await bolt.async_dispatch(parsed(request, payload)))

    web_app.router.add_post("/slack/events", slack_events)


def parsed(request: web.Request, payload: dict[str, Any]) -> AsyncBoltRequest:
    """The request for bolt with the payload parsed once, here. bolt takes a parsed body only
    in its "socket_mode"; the mode is read nowhere else but to copy a request for a lazy
    listener, which the bot has none of (its slow work runs in `background`, after the ack)."""
    return AsyncBoltRequest(body=payload, query=request.query_string,
                            headers=request.headers,  # type: ignore[arg-type]
                            mode="socket_mode")


def signed(key: bytes, timestamp: str, signature: str, body: bytes, *, now: float) -> bool:
    """Slack's signature, checked on the bytes as they arrived; headers of any other shape are
    refused before anything is computed."""
    if not (_TIMESTAMP_RE.fullmatch(timestamp) and _SIGNATURE_RE.fullmatch(signature)):
        return False
    if not within_window(int(timestamp), now):
        return False
    expected = hmac.new(key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v0=" + expected, signature)
