"""Bearer tokens on /api/v1: who calls (401 when nobody we know), and whether their token's
scopes let them (403 naming the scope the endpoint needs)."""

from __future__ import annotations

from aiohttp import web

from bot.log_events import get_logger
from bot.services.ports import ApiToken
from bot.services.tokens import TokenService

log = get_logger(__name__)

UNKNOWN = "missing, wrong or revoked bearer token"


async def bearer(request: web.Request, tokens: TokenService, scope: str) -> ApiToken | web.Response:
    """The calling token if it may do ``scope``; else the answer to send (401 or 403)."""
    token = await tokens.authenticate(request.headers.get("Authorization"))
    if token is None:
        return web.json_response({"error": UNKNOWN}, status=401)
    if scope not in token.scopes:
        log.info("api_refused", status=403, token=token.name, needs=scope, path=request.path[:200])
        return web.json_response({"error": (
            f"the token {token.name!r} lacks the scope {scope}; create one that has it with "
            f"`bizdevops token create NAME --scope {scope}`")}, status=403)
    return token
