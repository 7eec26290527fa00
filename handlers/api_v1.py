"""Every endpoint under /api/v1, registered in one place (their shapes: handlers/openapi.yaml)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.clock import Clock
from bot.log_events import get_logger
from bot.services.audit import AuditExport
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.metrics import MetricService
from bot.services.tokens import TokenService
from bot.services.usecases import UseCaseService
from handlers import api, audit_api, deployments_api, metrics_api
from handlers.audit_api import Narrow

log = get_logger(__name__)
PREFIX = "/api/v1/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A failure of ours under /api/v1 is still JSON, as every refusal is: a client reads one
    shape, and the details stay in the log. Outside ``health.unavailable``, which answers 503
    when the database is down."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("api_error", path=request.path[:200])
        return web.json_response({"error": "the bot could not answer; its log says why"}, status=500)


def register(web_app: web.Application, tokens: TokenService, clock: Clock, *, runs: DeploymentRuns,
             metrics: MetricService, deployments: DeploymentService, use_cases: UseCaseService,
             audit: AuditExport, secret: str, url: str, tz: str, narrow: Narrow) -> None:
    """Executor callbacks (signed with the webhook ``secret``, to the public ``url``), KPI pushes,
    deployments and the audit export (bearer tokens with scopes, or a dashboard session whose
    export ``narrow`` limits to what the person may see; times in ``tz``)."""
    api.register(web_app, runs, secret, url)
    metrics_api.register(web_app, tokens, metrics, clock)
    deployments_api.register(web_app, tokens, deployments, use_cases, url, clock)
    audit_api.register(web_app, tokens, audit, tz, narrow)
