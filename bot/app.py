"""The composition root: the one place that builds and wires everything.

``create_app(settings)`` returns a :class:`BotApp` holding the slack-bolt ``AsyncApp`` and the
aiohttp application that serves it at ``POST /slack/events`` beside ``GET /healthz`` and the
``/api/v1`` endpoints. ``serve``, ``socket``, the simulator and the tests all run this object.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.clock import Clock, SystemClock
from bot.config import ConfigError, Settings
from bot.domain.pipeline import PipelineSet
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.registry import Executors
from bot.executors.webhook import WebhookExecutor
from bot.pipelines.loading import load_pipelines, uses_webhooks
from bot.render import blocks
from bot.runtime.background import Background
from bot.runtime.bus import EventBus
from bot.runtime.deploy_engine import DeploymentEngine
from bot.runtime.loop_watch import LoopWatch
from bot.runtime.outbox_worker import OutboxWorker
from bot.runtime.pacing import Pacer
from bot.runtime.scheduler import Scheduler
from bot.runtime.telemetry import Telemetry
from bot.services.approvals import ApprovalService
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.digests import DigestService
from bot.services.events import DeploymentChanged, MessageQueued, StepStopped
from bot.services.home import HomeService
from bot.services.metrics import MetricService
from bot.services.ports import DuplicateDelivery, log_duplicate
from bot.services.reminders import ReminderService
from bot.services.tokens import TokenService
from bot.services.usecases import UseCaseService
from bot.slack.clients import web_clients
from bot.slack.directory import SlackDirectory
from handlers import actions, api, commands, dedupe, events, metrics_api, slack_http
from storage.database import Database

log = logging.getLogger(__name__)

# Slack requests handled at once; the rest wait their turn in arrival order. With fifty in flight
# on PostgreSQL the unlucky ones took three times the median (benchmarks/ack_latency.py); a few
# at a time (about the database pool's 15 connections) finish close to the median.
CONCURRENT_REQUESTS = 16
# Heavy jobs (digests, DORA, KPI tables, Home) running at once per process, each on one of as
# many read-only database connections; the rest wait their turn (Background.heavy_turn).
HEAVY_JOBS = 2
# Shutting down: the outbox's time to announce what the last steps did, whatever they took.
ANNOUNCE_AT_LEAST_SECONDS = 5.0


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
    digests: DigestService
    scheduler: Scheduler
    home: HomeService
    background: Background
    watch: LoopWatch

    async def start_background(self) -> None:
        # One keep-alive HTTP session for every Web API call (outbox, listeners, Home): without
        # one, slack_sdk opens a new session and a new connection for each call.
        self.client.session = self.outbox.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        self.watch.start()
        self.outbox.start()
        self.engine.start()
        await self.scheduler.start()

    async def settle(self) -> None:
        """Run deployments and deliver messages until nothing is due now (simulator, tests)."""
        for _ in range(50):
            await self.background.settle()
            await self.engine.run_until_idle()
            await self.home.settle()
            if not await self.outbox.deliver_due() and not await self.engine.tick():
                return

    async def stop(self, grace: float = 0.0) -> None:
        """Stop taking work, give what is in flight ``grace`` seconds, then close everything.

        Steps finish first; what they leave to announce is delivered after, with what remains of
        the grace (at least a few seconds: a result is worth saying before the process goes).
        """
        deadline = asyncio.get_running_loop().time() + grace

        def remaining() -> float:
            return max(0.0, deadline - asyncio.get_running_loop().time())

        await self.scheduler.stop()
        await self.background.stop(grace)
        await self.engine.stop(remaining())
        await self.outbox.stop(max(remaining(), min(grace, ANNOUNCE_AT_LEAST_SECONDS)))
        await self.webhooks.close()
        await self.watch.stop()
        if self.client.session is not None:
            await self.client.session.close()
        await self.db.dispose()


def pipelines_for(settings: Settings) -> PipelineSet:
    """The pipeline file, checked; raises PipelineError or ConfigError with every problem."""
    pipelines = load_pipelines(settings.pipelines_path or None)
    if uses_webhooks(pipelines) and not settings.webhook_secret:
        raise ConfigError("BIZDEVOPS_WEBHOOK_SECRET is required: the pipeline file uses webhook "
                          "executors")
    return pipelines


def create_app(settings: Settings, *, clock: Clock | None = None,
               pipelines: PipelineSet | None = None, pacer: Pacer | None = None) -> BotApp:
    clock = clock or SystemClock()
    pipelines = pipelines or pipelines_for(settings)
    logs.quiet_bad_requests()
    bus = EventBus()
    db = Database(settings.database_url, clock, read_connections=HEAVY_JOBS, publish=bus.publish)
    # Two clients, one Slack: listeners retry 429/5xx themselves, the outbox worker on its own.
    client, outbox_client = web_clients(settings.slack_bot_token or None, settings.slack_api_url)
    bolt = AsyncApp(
        name="bizdevops",
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        # Socket Mode has no signatures; in HTTP mode handlers/slack_http.py verifies them (with a
        # window the same both ways) and checks the payload's shape before bolt parses it.
        request_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        # Listeners answer in their ack, after their work: no need for bolt to poll for the ack
        # meanwhile. What may take longer runs in `background`, after the ack.
        process_before_response=True,
    )
    outbox = OutboxWorker(db.outbox, outbox_client, clock, poll_seconds=settings.outbox_poll_seconds,
                          pacer=pacer, lease=settings.lease)
    directory = SlackDirectory(client)
    use_cases = UseCaseService(
        uow=db.uow, clock=clock, directory=directory, dev_timebox=settings.dev_timebox,
        timezone=settings.timezone, admins_configured=bool(settings.admins),
    )
    webhooks = WebhookExecutor(settings.webhook_secret)
    executors = Executors(webhooks, CommandExecutor(env=os.environ), DryRunExecutor())
    runs = DeploymentRuns(db.uow, clock, settings.timezone, settings.public_url)
    engine = DeploymentEngine(runs, executors, clock, db.uow, lock_reminder=settings.lock_reminder,
                              lease=settings.lease)
    deployments = DeploymentService(
        uow=db.uow, clock=clock, pipelines=pipelines, timezone=settings.timezone,
        admins_configured=bool(settings.admins),
    )
    approvals = ApprovalService(db.uow, clock, directory, deployments, settings.timezone)
    metrics = MetricService(db.uow, clock, admins_configured=bool(settings.admins), reads=db.reads)
    digests = DigestService(db.uow, clock, settings.dev_timebox, settings.timezone, settings.admins,
                            permalink=_permalinks(db, client), reads=db.reads)
    reminders = ReminderService(db.uow, clock, settings.dev_timebox, settings.approval_nudge)
    home = HomeService(db.uow, clock, approvals, settings.admins, settings.dev_timebox,
                       publish=_publisher(client), announcements=db.outbox.recent_posts)
    # What follows a commit, all of it: each unit of work collects these events and, once its
    # transaction has committed, they are handed to the handlers here (bot/services/events.py).
    bus.handle({
        MessageQueued: [lambda _e: outbox.notify()],
        DeploymentChanged: [lambda _e: engine.notify(), lambda _e: home.poke()],
        StepStopped: [lambda e: engine.kill(e.deployment_id)],
    })
    dedupe.register(bolt, db.requests, clock)  # before the listeners: retries are not applied twice
    background = Background(heavy_slots=HEAVY_JOBS)
    commands.register(bolt, use_cases, deployments, metrics, digests, settings.admins, background)
    actions.register(bolt, approvals, home, settings.admins, background)
    events.register(bolt, home, background)
    bolt.error(_on_error)
    telemetry = Telemetry()
    telemetry.heavy_waiting.set_function(lambda: background.heavy_waiting)
    http = web.Application(middlewares=[telemetry.middleware, _unavailable(db)])
    app = BotApp(settings, clock, db, client, bolt, http, outbox, engine, webhooks,
                 use_cases, deployments, digests,
                 Scheduler(digests, reminders, clock, db.requests, background.heavy_turn), home,
                 background, LoopWatch(telemetry.loop_lag))
    _routes(app)
    _metrics_route(app, telemetry)
    api.register(app.web, runs, settings.webhook_secret, settings.public_url)
    metrics_api.register(app.web, TokenService(db.uow, clock), metrics, clock)
    return app


def _permalinks(db: Database, client: AsyncWebClient) -> Callable[[int], Awaitable[str | None]]:
    """A link to a deployment's message, for the digest's "approvals waiting"."""
    async def permalink(deployment_id: int) -> str | None:
        ts, _status, channel = await db.outbox.posted_ts(f"deployment:{deployment_id}")
        if ts is None or channel is None:
            return None
        try:
            found = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        return found.get("permalink")

    return permalink


def _publisher(client: AsyncWebClient) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def publish(user_id: str, view: dict[str, Any]) -> None:
        await client.views_publish(user_id=user_id, view=view)

    return publish


def _metrics_route(app: BotApp, telemetry: Telemetry) -> None:
    async def metrics(_request: web.Request) -> web.Response:
        telemetry.backlog.set(await app.db.outbox.backlog())
        telemetry.retries.set(app.outbox.retries)
        telemetry.jobs.set(len(app.scheduler.jobs()))
        async with app.db.uow() as uow:
            for state, count in (await uow.deployments.count_by_state()).items():
                telemetry.deployments.labels(state).set(count)
        return telemetry.render()

    app.web.router.add_get("/metrics", metrics)


def _unavailable(db: Database) -> Any:
    """A request that failed while the database does not answer gets what /healthz says then:
    503 and one log line, not a 500 and a traceback. Other failures stay what they are."""
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            if await db.ping():
                raise
            log.warning("action=database_unavailable path=%s", request.path)
            return web.json_response({"status": "unavailable", "reason": "database"}, status=503)

    return middleware


def _routes(app: BotApp) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        if await app.db.ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "reason": "database"}, status=503)

    if app.settings.slack_signing_secret:
        # Only HTTP mode has signatures to verify; Socket Mode must not offer an unverified door.
        slack_http.register(app.web, app.bolt, app.settings.slack_signing_secret,
                            at_once=CONCURRENT_REQUESTS)
    app.web.router.add_get("/healthz", healthz)


async def _on_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext,
                    logger: logging.Logger, response: BoltResponse | None) -> BoltResponse | None:
    """Log it and tell the person something went wrong rather than leaving them hanging.

    Only requests that passed the signature check get here, and only those that carry a
    ``response_url`` (commands, buttons) get an answer; events have nobody to answer. A
    delivery another attempt applied first is no error: it is acknowledged, quietly.
    """
    if isinstance(error, DuplicateDelivery):
        log_duplicate(error)
        return None if response is None else BoltResponse(status=200, body="")
    log.error("action=handler_error error=%s", type(error).__name__, exc_info=error)
    respond = context.get("respond")
    if respond is None or not body.get("response_url"):
        return None
    try:
        await respond(response_type="ephemeral", **blocks.sorry().as_args())
    except Exception:  # noqa: BLE001 - the error handler must not fail in turn
        log.warning("action=handler_error_reply_failed")
    return None
