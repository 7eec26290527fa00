"""The web side of the composition root: the ``/api/v1`` endpoints, the MLflow hook, and the
dashboard's Sign in with Slack and read-only pages (SPEC "Web dashboard"). ``bot.app.create_app``
calls :func:`register` once the services exist; what pages read and how they are worded lives
in services and ``bot/render``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.services.audit import AuditExport
from bot.services.dashboard import DashboardService
from bot.services.tokens import TokenService
from bot.slack.people import SlackPeople
from handlers import api_v1, mlflow_hooks, web_pages

if TYPE_CHECKING:
    from bot.app import BotApp, _Services


def register(app: BotApp, s: _Services) -> None:
    settings, db, clock = app.settings, app.db, app.clock
    api_v1.register(app.web, TokenService(db.uow, clock), clock, runs=s.runs, metrics=s.metrics,
                    deployments=s.deployments, use_cases=s.use_cases, audit=AuditExport(db.reads),
                    secret=settings.webhook_secret, url=settings.public_url, tz=settings.timezone)
    mlflow_hooks.register(app.web, settings.mlflow_webhook_secret, time.time, s.registry.handle)
    dashboard = DashboardService(db.reads, clock, s.use_cases.conversations, SlackPeople(app.client),
                                 s.metrics.dora_with_trend, s.metrics.charts)
    web_pages.register(app.web, dashboard, settings.timezone, settings.dev_timebox)
