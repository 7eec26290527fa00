"""Every endpoint under /api/v1, registered in one place (their shapes: handlers/openapi.yaml)."""

from __future__ import annotations

from aiohttp import web

from bot.clock import Clock
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.metrics import MetricService
from bot.services.tokens import TokenService
from bot.services.usecases import UseCaseService
from handlers import api, deployments_api, metrics_api


def register(web_app: web.Application, tokens: TokenService, clock: Clock, *, runs: DeploymentRuns,
             metrics: MetricService, deployments: DeploymentService, use_cases: UseCaseService,
             webhook_secret: str, public_url: str) -> None:
    """Executor callbacks (signed), KPI pushes and deployments (bearer tokens with scopes)."""
    api.register(web_app, runs, webhook_secret, public_url)
    metrics_api.register(web_app, tokens, metrics, clock)
    deployments_api.register(web_app, tokens, deployments, use_cases, public_url, clock)
