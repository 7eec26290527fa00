"""`POST /api/v1/hooks/mlflow`: MLflow's model-registry webhooks, signed with the shared secret.

Checked in this order, each refusal a JSON ``{"error": ...}`` and one log line, nothing called:
no secret configured 503; a signature header missing 401; a body over 64 KiB 400; a wrong or
stale signature 401; not ``application/json`` 415; not an event we can read 400. A verified
event of a kind the bot does not act on is answered 200 ``{"ignored": ...}``; one it acts on is
handed to ``on_event`` and answered 200 ``{"ok": true}`` — or 503 if that failed, so MLflow
delivers it again (its retries keep the delivery id; a delivery handled already is ignored).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.clock import SIGNATURE_WINDOW
from bot.domain.registry import (
    BadDelivery,
    IgnoredEvent,
    RegistryEvent,
    parse_registry_event,
    verify_mlflow_signature,
)
from bot.executors.webhook import read_bounded
from bot.log_events import get_logger
from bot.render.registry_blocks import bad_delivery, ignored

log = get_logger(__name__)

PATH = "/api/v1/hooks/mlflow"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
SIGNATURE_HEADER = "X-MLflow-Signature"
MAX_BODY = 64 * 1024  # a registry event is a few hundred bytes
NO_SECRET = "BIZDEVOPS_MLFLOW_WEBHOOK_SECRET is not set, so MLflow's deliveries cannot be verified"

OnEvent = Callable[[RegistryEvent], Awaitable[None]]


class Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status


class Deliveries:
    """Delivery ids handled (or being handled) lately: a replay inside the signature window, or
    MLflow's retry of a delivery we did answer, is not acted on twice (per process)."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def claim(self, delivery_id: str, now: float) -> bool:
        if len(self._at) > 1000:  # forget what the signature window refuses anyway
            self._at = {d: t for d, t in self._at.items() if now - t <= 2 * SIGNATURE_WINDOW}
        if delivery_id in self._at:
            return False
        self._at[delivery_id] = now
        return True

    def release(self, delivery_id: str) -> None:
        self._at.pop(delivery_id, None)


def register(web_app: web.Application, secret: str, clock: Callable[[], float],
             on_event: OnEvent) -> None:
    """``clock``: wall time in seconds (``time.time``); MLflow signs with real time, whatever
    clock the services run on."""
    deliveries = Deliveries()

    async def mlflow_hook(request: web.Request) -> web.Response:
        now = clock()
        try:
            event = await _event(request, secret, now)
        except Refused as refused:
            log.info("mlflow_hook_refused", status=refused.status, reason=refused)
            return web.json_response({"error": str(refused)}, status=refused.status)
        except IgnoredEvent as other:
            log.info("mlflow_hook_ignored", kind=other)
            return web.json_response({"ignored": ignored(other)})
        if not deliveries.claim(event.delivery_id, now):
            log.info("mlflow_hook_ignored", kind=event.kind, delivery_id=event.delivery_id,
                     reason="duplicate")
            return web.json_response({"ignored": f"delivery {event.delivery_id} was handled already"})
        return await _handle(event, on_event, deliveries)

    web_app.router.add_post(PATH, mlflow_hook)


async def _handle(event: RegistryEvent, on_event: OnEvent, deliveries: Deliveries) -> web.Response:
    try:
        await on_event(event)
    except Exception:  # whatever went wrong is ours: MLflow retries a 5xx
        deliveries.release(event.delivery_id)
        log.exception("mlflow_hook_failed", kind=event.kind, delivery_id=event.delivery_id)
        return web.json_response({"error": "the event could not be handled now"}, status=503)
    log.info("mlflow_hook", kind=event.kind, model=event.model, version=event.version or "-",
             alias=event.alias or "-", delivery_id=event.delivery_id)
    return web.json_response({"ok": True})


async def _event(request: web.Request, secret: str, now: float) -> RegistryEvent:
    """The verified delivery's event, or why not (:class:`Refused`, :class:`IgnoredEvent`)."""
    if not secret:
        raise Refused(503, NO_SECRET)
    headers = request.headers
    delivery_id, timestamp, signature = (headers.get(DELIVERY_HEADER), headers.get(TIMESTAMP_HEADER),
                                         headers.get(SIGNATURE_HEADER))
    if not delivery_id or not timestamp or not signature:
        raise Refused(401, "missing signature: X-MLflow-Delivery-Id, X-MLflow-Timestamp and "
                           "X-MLflow-Signature are required")
    if (request.content_length or 0) > MAX_BODY:
        raise Refused(400, "the body is over 64 KiB; a registry event is small")
    body = await read_bounded(request.content, MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refused(400, "the body is over 64 KiB; a registry event is small")
    if not verify_mlflow_signature(secret, delivery_id, timestamp, body, signature, now=now):
        raise Refused(401, "wrong or stale signature")
    if request.content_type != "application/json":
        raise Refused(415, "expected Content-Type: application/json")
    try:
        return parse_registry_event(delivery_id, _json(body))
    except BadDelivery as bad:
        raise Refused(400, bad_delivery(bad)) from None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, absurdly deep or long numbers
        raise Refused(400, "the body is not JSON") from None
