"""Long-running modes: ``serve`` (HTTP) and ``socket`` (Socket Mode), both on one aiohttp site."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.app import BotApp, create_app
from bot.config import Settings
from storage.migrate import SchemaOutOfDate, check_schema

log = logging.getLogger(__name__)


async def _start(settings: Settings) -> tuple[BotApp, web.AppRunner] | None:
    app = create_app(settings)
    try:
        await check_schema(app.db.engine)
    except SchemaOutOfDate as behind:
        log.error("action=startup_refused reason=%s", behind)
        print(f"bizdevops: {behind}", flush=True)
        await app.stop()
        return None
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()  # noqa: S104 - a server
    await app.start_background()
    return app, runner


async def serve(settings: Settings) -> int:
    started = await _start(settings)
    if started is None:
        return 1
    app, runner = started
    log.info("action=serving port=%s path=/slack/events", settings.port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await app.stop()
    return 0


async def socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    started = await _start(settings)
    if started is None:
        return 1
    app, runner = started
    handler = AsyncSocketModeHandler(app.bolt, settings.slack_app_token)
    log.info("action=socket_mode port=%s", settings.port)
    try:
        await handler.connect_async()
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
        await runner.cleanup()
        await app.stop()
    return 0
