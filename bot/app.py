"""The composition root: the one place that builds and wires everything.

``create_app(settings)`` returns a :class:`BotApp` holding the slack-bolt ``AsyncApp`` and the
aiohttp application that serves it at ``POST /slack/events`` beside ``GET /healthz`` and the
``/api/v1`` endpoints. ``serve``, ``socket``, the simulator and the tests all run this object.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.clock import Clock, SystemClock
from bot.config import ConfigError, Settings
from bot.deploy_engine import DeploymentEngine
from bot.domain.pipeline import PipelineSet
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.registry import Executors
from bot.executors.webhook import WebhookExecutor
from bot.outbox_worker import OutboxWorker
from bot.pipelines import load_pipelines, uses_webhooks
from bot.services.approvals import ApprovalService
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.metrics import MetricService
from bot.services.tokens import TokenService
from bot.services.usecases import UseCaseService
from bot.slack_directory import SlackDirectory
from handlers import actions, api, commands, events, metrics_api
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class BotApp:
    settings: Settings
    clock: Clock
    db: Database
    client: AsyncWebClient
    bolt: AsyncApp
    web: web.Application
    outbox: OutboxWorker
    engine: DeploymentEngine
    webhooks: WebhookExecutor
    use_cases: UseCaseService
    deployments: DeploymentService

    async def start_background(self) -> None:
        self.outbox.start()
        self.engine.start()

    async def settle(self) -> None:
        """Run deployments and deliver messages until nothing is due now (simulator, tests)."""
        for _ in range(50):
            await self.engine.run_until_idle()
            if not await self.outbox.deliver_due() and not await self.engine.tick():
                return

    async def stop(self) -> None:
        await self.engine.stop()
        await self.outbox.stop()
        await self.webhooks.close()
        await self.db.dispose()


def pipelines_for(settings: Settings) -> PipelineSet:
    """The pipeline file, checked; raises PipelineError or ConfigError with every problem."""
    pipelines = load_pipelines(settings.pipelines_path or None)
    if uses_webhooks(pipelines) and not settings.webhook_secret:
        raise ConfigError("BIZDEVOPS_WEBHOOK_SECRET is required: the pipeline file uses webhook "
                          "executors")
    return pipelines


def create_app(settings: Settings, *, clock: Clock | None = None,
               pipelines: PipelineSet | None = None) -> BotApp:
    clock = clock or SystemClock()
    pipelines = pipelines or pipelines_for(settings)
    db = Database(settings.database_url, clock)
    client = AsyncWebClient(token=settings.slack_bot_token or None, base_url=settings.slack_api_url)
    bolt = AsyncApp(
        name="bizdevops",
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        # Socket Mode has no signatures; HTTP always verifies them.
        request_verification_enabled=bool(settings.slack_signing_secret),
        raise_error_for_unhandled_request=False,
    )
    outbox = OutboxWorker(db.outbox, client, clock, poll_seconds=settings.outbox_poll_seconds)
    db.outbox_listeners.append(outbox.notify)
    directory = SlackDirectory(client)
    use_cases = UseCaseService(
        uow=db.uow, clock=clock, directory=directory, dev_timebox=settings.dev_timebox,
        timezone=settings.timezone, admins_configured=bool(settings.admins),
    )
    webhooks = WebhookExecutor(settings.webhook_secret)
    executors = Executors(webhooks, CommandExecutor(env=os.environ), DryRunExecutor())
    runs = DeploymentRuns(db.uow, clock, settings.timezone, settings.public_url)
    engine = DeploymentEngine(runs, executors, clock, db.uow, lock_reminder=settings.lock_reminder)
    deployments = DeploymentService(
        uow=db.uow, clock=clock, pipelines=pipelines, timezone=settings.timezone,
        admins_configured=bool(settings.admins), wake=engine.notify, kill=engine.kill,
    )
    approvals = ApprovalService(db.uow, clock, directory, deployments, settings.timezone,
                                wake=engine.notify)
    metrics = MetricService(db.uow, clock, admins_configured=bool(settings.admins))
    commands.register(bolt, use_cases, deployments, metrics, settings.admins)
    actions.register(bolt, approvals, settings.admins)
    events.register(bolt, use_cases)
    bolt.error(_on_error)
    app = BotApp(settings, clock, db, client, bolt, web.Application(), outbox, engine, webhooks,
                 use_cases, deployments)
    _routes(app)
    api.register(app.web, runs, settings.webhook_secret, engine.notify)
    metrics_api.register(app.web, TokenService(db.uow, clock), metrics, clock)
    return app


def _routes(app: BotApp) -> None:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        if await app.db.ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "reason": "database"}, status=503)

    if app.settings.slack_signing_secret:
        # Only HTTP mode has signatures to verify; Socket Mode must not offer an unverified door.
        app.web.router.add_post("/slack/events", slack_events)
    app.web.router.add_get("/healthz", healthz)


async def _on_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext,
                    logger: logging.Logger) -> None:
    """Log it and tell the person something went wrong rather than leaving them hanging."""
    log.error("action=handler_error error=%s", type(error).__name__, exc_info=error)
    respond = context.get("respond")
    if respond is not None:
        sorry = blocks.error("Something went wrong on my side; nothing was changed. "
                             "Please try again in a moment.")
        await respond(response_type="ephemeral", **sorry.as_args())
