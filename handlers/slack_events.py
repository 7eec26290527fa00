"""Events: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.home import HomeService
from handlers.after_ack import AfterAck


def register(app: AsyncApp, home: HomeService, background: AfterAck) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":  # acked now, published after
            background.spawn_heavy(home.opened(event["user"]), "home_opened")
