"""The web side of the composition root: the ``/api/v1`` endpoints, the MLflow hook, and the
dashboard's Sign in with Slack and read-only pages (SPEC "Web dashboard"). ``bot.app.create_app``
calls :func:`register` once the services exist; what pages read and how they are worded lives
in services and ``bot/render``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING

from yarl import URL

from bot.config import Settings
from bot.domain.audit import AuditFilter
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.services.audit import AuditExport
from bot.services.dashboard import DashboardService
from bot.services.metrics import MetricService
from bot.services.tokens import TokenService
from bot.slack.openid import SlackSignIn, workspace_of
from bot.slack.people import SlackPeople
from handlers import api_v1, mlflow_hooks, web_auth, web_guard, web_pages
from handlers.web_session import Sessions, Viewer

if TYPE_CHECKING:
    from bot.app import BotApp, _Services

CALLBACK_PATH = "/login/callback"
AUTHORIZE_PATH = "/openid/connect/authorize"
_KEY_LABEL = b"bizdevops-bot dashboard cookies v1"


def register(app: BotApp, s: _Services) -> None:
    settings, db, clock = app.settings, app.db, app.clock
    pages = MetricService(db.uow, clock, reads=db.page_reads)  # on the pages' own connections
    dashboard = DashboardService(db.page_reads, clock, s.use_cases.conversations, SlackPeople(app.client),
                                 pages.dora_with_trend)

    async def seen_by(where: AuditFilter, viewer: Viewer) -> AuditFilter:
        return await dashboard.seen_by(where, viewer.user_id)

    api_v1.register(app.web, TokenService(db.uow, clock), clock, runs=s.runs, metrics=s.metrics,
                    deployments=s.deployments, use_cases=s.use_cases, audit=AuditExport(db.reads),
                    secret=settings.webhook_secret, url=settings.public_url, tz=settings.timezone,
                    narrow=seen_by)
    mlflow_hooks.register(app.web, settings.mlflow_webhook_secret, time.time, s.registry.handle)
    web_pages.register(app.web, dashboard, settings.timezone, settings.dev_timebox)
    _sign_in(app)


def links(settings: Settings) -> DashboardLinks:
    """Messages link to the dashboard's pages when BIZDEVOPS_PUBLIC_URL is set (and pasted links
    to them unfurl); otherwise every message is what it was before the dashboard."""
    return DashboardLinks(settings.public_url) if settings.links else NO_LINKS


def _sign_in(app: BotApp) -> None:
    """Sign in with Slack, on when the app's client ID and secret are set; the guard either way."""
    settings = app.settings
    enabled = bool(settings.slack_client_id and settings.slack_client_secret)
    redirect_uri = settings.public_url + CALLBACK_PATH
    sessions = Sessions(session_key(settings), app.clock.now,
                        secure=settings.public_url.startswith("https://"),
                        ended=app.db.ended_sessions)
    sign_in = identify = None
    if enabled:
        sign_in = web_auth.SignIn(settings.slack_client_id, settings.slack_url + AUTHORIZE_PATH,
                                  redirect_uri, str(URL(settings.public_url).origin()))
        identify = SlackSignIn(settings.slack_api_url, settings.slack_client_id,
                               settings.slack_client_secret, settings.slack_url,
                               lambda: workspace_of(app.client))
    web_auth.register(app.web, sessions, sign_in, identify, app.db.requests, app.clock)
    web_guard.install(app.web, sessions, enabled=enabled, redirect_url=redirect_uri)


def session_key(settings: Settings) -> bytes:
    """The key the dashboard's cookies are signed with: BIZDEVOPS_SESSION_SECRET, else one
    derived (HMAC-SHA256) from the signing secret — or, in Socket Mode, which has none, from the
    bot token — so every process behind one app agrees without another setting. Without either
    (the shell with no Slack), a random key: sessions last as long as the process."""
    if settings.session_secret:
        return settings.session_secret.encode()
    base = settings.slack_signing_secret or settings.slack_bot_token
    if not base:
        return secrets.token_bytes(32)
    return hmac.new(base.encode(), _KEY_LABEL, hashlib.sha256).digest()
