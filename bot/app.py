"""The composition root: the one place that builds and wires everything.

``create_app(settings)`` returns a :class:`BotApp` holding the slack-bolt ``AsyncApp`` and the
aiohttp application that serves it at ``POST /slack/events`` beside ``GET /healthz``, ``/api/v1``
and the dashboard (bot/web_root.py). ``serve``, ``socket``, the simulator and tests run it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs, web_root
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.config_files import kpi_config_for, pipelines_for
from bot.domain.pipeline import PipelineSet
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.github_actions import GithubActionsExecutor
from bot.executors.github_commits import GithubCompare
from bot.executors.kpi import KpiGateExecutor
from bot.executors.mlflow import MlflowExecutor
from bot.executors.registry import Executors
from bot.executors.webhook import WebhookExecutor
from bot.kpis.loading import KpiConfig
from bot.render import cards, home_blocks
from bot.runtime.background import Background
from bot.runtime.bus import EventBus
from bot.runtime.deploy_engine import DeploymentEngine
from bot.runtime.kpi_jobs import KpiJobs
from bot.runtime.loop_watch import LoopWatch
from bot.runtime.outbox_worker import OutboxWorker
from bot.runtime.pacing import Pacer
from bot.runtime.scheduler import Scheduler
from bot.runtime.telemetry import Telemetry
from bot.services.approvals import ApprovalService
from bot.services.deploy_changes import ChangeService
from bot.services.deploy_dialog import DeployDialogs
from bot.services.deployment_runs import DeploymentRuns
from bot.services.deployments import DeploymentService
from bot.services.digests import DigestService
from bot.services.events import DeploymentChanged, FreezesChanged, MessageQueued, StepStopped, UndoNeeded
from bot.services.freeze_notices import FreezeNotices
from bot.services.freezes import FreezeService
from bot.services.home import HomeService
from bot.services.kpis import KpiService
from bot.services.metrics import MetricService
from bot.services.registry_events import RegistryEvents
from bot.services.reminders import ReminderService
from bot.services.unfurls import UnfurlService
from bot.services.usecases import UseCaseService
from bot.slack.bolt_app import bolt_app
from bot.slack.clients import permalinks, view_publisher, web_clients
from bot.slack.conversations import SlackConversations
from bot.slack.directory import SlackDirectory
from bot.sources.mlflow_rest import MlflowRest
from bot.sources.registry import SourceReaders
from handlers import (
    actions,
    api_v1,
    dedupe,
    dialogs,
    error_path,
    health,
    slack_events,
    slack_http,
    slash_commands,
)
from storage.database import Database

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
    kpis: KpiJobs

    async def start_background(self) -> None:
        # One keep-alive session for every Web API call (else slack_sdk opens one for each call).
        self.client.session = self.outbox.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        self.watch.start()
        self.outbox.start()
        self.engine.start()
        await self.scheduler.start()

    async def settle(self) -> None:
        """Run deployments and deliver messages until nothing is due now (simulator, tests)."""
        await self.scheduler.catch_up()  # pulls and freeze notices due by the (simulated) clock
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
        await self.kpis.close()
        await self.watch.stop()
        if self.client.session is not None:
            await self.client.session.close()
        await self.db.dispose()


@dataclass(frozen=True)
class _Services:
    use_cases: UseCaseService
    deployments: DeploymentService
    approvals: ApprovalService
    metrics: MetricService
    digests: DigestService
    reminders: ReminderService
    home: HomeService
    kpis: KpiService
    registry: RegistryEvents
    runs: DeploymentRuns


def create_app(settings: Settings, *, clock: Clock | None = None,
               pipelines: PipelineSet | None = None, pacer: Pacer | None = None,
               kpi_config: KpiConfig | None = None) -> BotApp:
    clock = clock or SystemClock()
    pipelines = pipelines or pipelines_for(settings)
    kpi_config = kpi_config or kpi_config_for(settings)
    logs.quiet_bad_requests()
    bus = EventBus()
    db = Database(settings.database_url, clock, read_connections=HEAVY_JOBS, publish=bus.publish,
                  words=cards.words_for(web_root.links(settings)))
    # Two clients, one Slack: listeners retry 429/5xx themselves, the outbox worker on its own.
    telemetry = Telemetry(settings.metrics_token)
    client, outbox_client = web_clients(settings.slack_bot_token or None, settings.slack_api_url,
                                        telemetry.slack_error)
    outbox = OutboxWorker(db.outbox, outbox_client, clock, poll_seconds=settings.outbox_poll_seconds,
                          pacer=pacer, lease=settings.lease)
    webhooks = WebhookExecutor(settings.webhook_secret)
    mlflow = (MlflowExecutor(MlflowRest(settings.mlflow_url, settings.mlflow_token))
              if settings.mlflow_url else None)
    s = _services(settings, clock, db, client, pipelines, kpi_config, mlflow, telemetry)
    engine = _engine(settings, clock, db, s.runs, webhooks, s.kpis, mlflow)
    _follow_commits(bus, outbox, engine, s, telemetry)
    background = Background(heavy_slots=HEAVY_JOBS)
    bolt = _bolt(settings, client, db, clock, s, background)
    telemetry.heavy_waiting.set_function(lambda: background.heavy_waiting)
    outside_in = [telemetry.middleware, api_v1.json_errors, health.unavailable(db.ping)]  # 503 first
    http = web.Application(middlewares=outside_in)
    kpi_jobs = KpiJobs(s.kpis)
    app = BotApp(settings, clock, db, client, bolt, http, outbox, engine, webhooks,
                 s.use_cases, s.deployments, s.digests,
                 Scheduler(s.digests, s.reminders, clock, db.requests, background.heavy_turn,
                           kpi_jobs, FreezeNotices(db.uow, clock, pipelines.freezes, settings.timezone),
                           s.use_cases.refresh_privacy), s.home,
                 background, LoopWatch(telemetry.loop_lag), kpi_jobs)
    _routes(app, telemetry)
    web_root.register(app, s)  # /api/v1, the MLflow hook, the dashboard
    return app


def _follow_commits(bus: EventBus, outbox: OutboxWorker, engine: DeploymentEngine,
                    s: _Services, telemetry: Telemetry) -> None:
    # What follows a commit, all of it: each unit of work collects these events and, once its
    # transaction has committed, they are handed to the handlers here (bot/services/events.py).
    bus.handle({
        MessageQueued: [lambda _e: outbox.notify()],
        DeploymentChanged: [lambda _e: engine.notify(), lambda _e: s.home.poke()],
        FreezesChanged: [lambda _e: s.home.poke()],
        **telemetry.after_commit(),
        StepStopped: [lambda e: engine.kill(e.deployment_id)],
        UndoNeeded: [lambda e: engine.undo(e.deployment_id)],
    })


def _engine(settings: Settings, clock: Clock, db: Database, runs: DeploymentRuns,
            webhooks: WebhookExecutor, kpis: KpiService, mlflow: MlflowExecutor | None
            ) -> DeploymentEngine:
    executors = Executors(webhooks, CommandExecutor(env=os.environ), DryRunExecutor(),
                          KpiGateExecutor(kpis.judge),
                          github=GithubActionsExecutor(settings.github_api_url, settings.github_token,
                                                       poll_seconds=settings.github_poll_seconds),
                          mlflow=mlflow, secrets=settings.secrets())
    return DeploymentEngine(runs, executors, clock, db.uow, lock_reminder=settings.lock_reminder,
                            lease=settings.lease)


def _services(settings: Settings, clock: Clock, db: Database, client: AsyncWebClient,
              pipelines: PipelineSet, kpi_config: KpiConfig,
              mlflow: MlflowExecutor | None, telemetry: Telemetry) -> _Services:
    directory = SlackDirectory(client)
    deployments = DeploymentService(db.uow, clock, pipelines, settings.timezone, settings.admins,
                                    groups=directory)
    approvals = ApprovalService(db.uow, clock, directory, deployments, settings.timezone, settings.admins)
    conversations = SlackConversations(client)  # private channels: who is in them
    links = web_root.links(settings)
    return _Services(
        use_cases=UseCaseService(uow=db.uow, clock=clock, directory=directory, pipelines=pipelines,
                                 dev_timebox=settings.dev_timebox, timezone=settings.timezone,
                                 conversations=conversations, cards=db.cards),
        deployments=deployments,
        approvals=approvals,
        metrics=MetricService(db.uow, clock, reads=db.reads),
        digests=DigestService(db.uow, clock, settings.dev_timebox, settings.timezone, settings.admins,
                              permalink=permalinks(db.outbox.posted_ts, client), reads=db.reads,
                              freezes=pipelines.freezes),
        reminders=ReminderService(db.uow, clock, settings.dev_timebox),
        home=HomeService(db.uow, clock, approvals, settings.admins, settings.dev_timebox,
                         publish=lambda user, home: view_publisher(client)(
                             user, home_blocks.home(home, links)),
                         announcements=db.outbox.recent_posts,
                         freezes=pipelines.freezes, timezone=settings.timezone, conversations=conversations),
        kpis=KpiService(db.uow, clock, kpi_config.sources,
                        SourceReaders.every(kpi_config.connection_urls, settings.mlflow_url,
                                            settings.mlflow_token),
                        settings.timezone,
                        secrets=settings.secrets() + kpi_config.secrets(), counted=telemetry.kpi_pulled),
        registry=RegistryEvents(db.uow, clock, mlflow),
        runs=DeploymentRuns(db.uow, clock, settings.timezone, settings.public_url,
                            pipelines.freezes, settings.admins, directory),
    )


def _bolt(settings: Settings, client: AsyncWebClient, db: Database, clock: Clock, s: _Services,
          background: Background) -> AsyncApp:
    bolt = bolt_app(client, settings.slack_signing_secret)
    dedupe.register(bolt, db.requests, clock)  # before the listeners: retries are not applied twice
    deploys = DeployDialogs(db.uow, s.deployments, s.registry.registry, clock, settings.timezone)
    freezes = FreezeService(db.uow, clock, s.deployments.pipelines.freezes, settings.timezone)
    github = GithubCompare(settings.github_api_url, settings.github_token) if settings.github_token else None
    changes = ChangeService(db.uow, github, s.registry.registry)  # `/deploy changes`
    modals = dialogs.Dialogs(s.use_cases, deploys, s.deployments, s.home, settings.admins, background)
    links = web_root.links(settings)
    # bolt tries each listener's matchers in the order registered, building their arguments
    # each time: the commands, the most asked, come first; then the buttons, then the dialogs.
    slash_commands.register(bolt, s.use_cases, s.deployments, s.metrics, s.digests, settings.admins,
                            background, s.kpis, modals, freezes, changes, links=links)
    actions.register(bolt, s.approvals, s.home, settings.admins, background, s.deployments)
    modals.register(bolt)
    unfurls = UnfurlService(db.uow, clock, links.base, settings.dev_timebox, settings.timezone)
    slack_events.register(bolt, s.home, background, unfurls)
    bolt.error(error_path.on_error)
    return bolt


def _routes(app: BotApp, telemetry: Telemetry) -> None:
    health.register(app.web, app.db.ping)
    telemetry.route(app.web, backlog=app.db.outbox.backlog, retries=lambda: app.outbox.retries,
                    jobs=lambda: len(app.scheduler.jobs()), by_state=app.db.deployments_by_state)
    if app.settings.slack_signing_secret:
        # Only HTTP mode has signatures to verify; Socket Mode must not offer an unverified door.
        slack_http.register(app.web, app.bolt, app.settings.slack_signing_secret,
                            at_once=CONCURRENT_REQUESTS)
