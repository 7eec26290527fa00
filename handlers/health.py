"""``GET /healthz``, and 503 for a request that failed while the database does not answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.log_events import get_logger

log = get_logger(__name__)

Ping = Callable[[], Awaitable[bool]]


def register(web_app: web.Application, ping: Ping) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        if await ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "reason": "database"}, status=503)

    web_app.router.add_get("/healthz", healthz)


def unavailable(ping: Ping) -> Any:
    """A request that failed while the database does not answer gets what /healthz says then:
    503 and one log line, not a 500 and a traceback. Other failures stay what they are."""
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            if await ping():
                raise
            log.warning("database_unavailable", path=request.path)
            return web.json_response({"status": "unavailable", "reason": "database"}, status=503)

    return middleware
