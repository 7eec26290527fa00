"""Slack retries a delivery it thinks failed: handle each one once.

Events carry an ``event_id``: recorded before they are handled. Commands and interactions
carry a ``trigger_id``: recorded in the transaction of the first change they make (see
``bot.services.deliveries``), so a read costs no write and a failed attempt is not marked done. A
retry (``X-Slack-Retry-Num``) of one already applied is acknowledged and changes nothing; one
whose first delivery never arrived finds no key and is handled normally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.clock import Clock
from bot.services.ports import DeliveryLog, log_duplicate


def register(app: AsyncApp, requests: DeliveryLog, clock: Clock) -> None:
    @app.middleware
    async def once(req: AsyncBoltRequest, body: dict[str, Any],
                   next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:  # noqa: A002
        if body.get("event_id"):
            key = f"event:{body['event_id']}"
            if not await requests.first(key, clock.now()):
                return _duplicate(key)
        elif body.get("trigger_id"):
            key = f"trigger:{body['trigger_id']}"
            if req.headers.get("x-slack-retry-num") and await requests.seen(key):
                return _duplicate(key)
            requests.handling(key)
        return await next()


def _duplicate(key: str) -> BoltResponse:
    log_duplicate(key)
    return BoltResponse(status=200, body="")
