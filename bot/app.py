"""The composition root: the one place that builds and wires everything.

``create_app(settings)`` returns a :class:`BotApp` holding the slack-bolt ``AsyncApp`` and the
aiohttp application that serves it at ``POST /slack/events`` beside ``GET /healthz``. ``serve``,
``socket``, the simulator and the tests all run this same object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.outbox_worker import OutboxWorker
from bot.services.usecases import UseCaseService
from bot.slack_directory import SlackDirectory
from handlers import commands, events
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
    use_cases: UseCaseService

    async def start_background(self) -> None:
        self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()
        await self.db.dispose()


def create_app(settings: Settings, *, clock: Clock | None = None) -> BotApp:
    clock = clock or SystemClock()
    db = Database(settings.database_url, clock)
    client = AsyncWebClient(token=settings.slack_bot_token or None,
                            base_url=settings.slack_api_url)
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
    use_cases = UseCaseService(
        uow=db.uow, clock=clock, directory=SlackDirectory(client),
        dev_timebox=settings.dev_timebox, timezone=settings.timezone,
        admins_configured=bool(settings.admins),
    )
    commands.register(bolt, use_cases, settings.admins)
    events.register(bolt, use_cases)
    bolt.error(_on_error)
    app = BotApp(settings, clock, db, client, bolt, web.Application(), outbox, use_cases)
    _routes(app)
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
