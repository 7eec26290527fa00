"""Long-running modes: ``serve`` (HTTP) and ``socket`` (Socket Mode), both on one aiohttp site."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot.app import BotApp, create_app
from bot.config import Settings
from bot.log_events import get_logger
from storage.database import DatabaseUnavailable, connect_check
from storage.schema_check import SchemaOutOfDate, check_schema

log = get_logger(__name__)

SHUTDOWN_GRACE = 20.0  # seconds for in-flight steps and deliveries after SIGTERM

# Slack's answers that no retry will change: stop with a clear line instead of looping forever.
_TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type",
                            "token_revoked", "token_expired", "account_inactive", "missing_scope"})


async def _start(settings: Settings) -> tuple[BotApp, web.AppRunner] | None:
    app = create_app(settings)
    try:
        await connect_check(app.db.engine)
        await check_schema(app.db.engine)
    except DatabaseUnavailable as down:
        print(f"bizdevops: DATABASE_URL: {down}", file=sys.stderr, flush=True)
        await app.stop()
        return None
    except SchemaOutOfDate as behind:
        log.error("startup_refused", reason=behind)
        print(f"bizdevops: {behind}", flush=True)
        await app.stop()
        return None
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()  # noqa: S104 - a server
    await app.start_background()
    # What start-up made (modules, mappers, matplotlib) lives until exit: a full collection
    # need not walk it again each time — that was an ~80 ms pause in the middle of requests.
    # Collection was off while it was made (bot.cli): on from here.
    gc.freeze()
    gc.enable()
    return app, runner


async def serve(settings: Settings) -> int:
    started = await _start(settings)
    if started is None:
        return 1
    app, runner = started
    log.info("serving", port=settings.port, path="/slack/events")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()  # no new requests from here on
        await app.stop(grace=SHUTDOWN_GRACE)
    return 0


async def socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    started = await _start(settings)
    if started is None:
        return 1
    app, runner = started
    handler = AsyncSocketModeHandler(app.bolt, settings.slack_app_token)
    log.info("socket_mode", port=settings.port)
    try:
        if not await _open_socket(app, handler, settings):
            return 2
        await handler.connect_async()
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
        await runner.cleanup()
        await app.stop(grace=SHUTDOWN_GRACE)
    return 0


async def _open_socket(app: BotApp, handler: Any, settings: Settings) -> bool:
    """Ask for the first WebSocket URL ourselves, so a refused app token stops start-up."""
    try:
        opened = await app.client.apps_connections_open(app_token=settings.slack_app_token)
        handler.client.wss_uri = opened["url"]
    except SlackApiError as refused:
        error = refused.response.get("error")
        if error in _TOKEN_REFUSED:
            print(f"bizdevops: configuration error: SLACK_APP_TOKEN was refused by Slack ({error})",
                  file=sys.stderr, flush=True)
            return False
        log.warning("socket_mode_open_failed", error=error, retrying=True)
    except (aiohttp.ClientError, TimeoutError) as down:
        log.warning("socket_mode_open_failed", error=type(down).__name__, retrying=True)
    return True
