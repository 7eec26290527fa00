"""Slack retries a delivery it thinks failed: handle each one once.

Events carry an ``event_id``; commands and interactions a ``trigger_id``. The first delivery
records its key; a repeat (``X-Slack-Retry-Num`` or not) is acknowledged and changes nothing.
A retry whose first delivery never arrived finds no key and is handled normally.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.clock import Clock
from storage.requests import RequestLog

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return None


def register(app: AsyncApp, requests: RequestLog, clock: Clock) -> None:
    @app.middleware
    async def once(body: dict[str, Any],
                   next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:  # noqa: A002
        key = delivery_key(body)
        if key is not None and not await requests.first(key, clock.now()):
            log.info("action=duplicate_delivery key=%s", key)
            return BoltResponse(status=200, body="")
        return await next()
