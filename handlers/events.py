"""Events: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.usecases import UseCaseService


def register(app: AsyncApp, use_cases: UseCaseService) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        view = await use_cases.home(event["user"])
        await client.views_publish(user_id=event["user"], view=view)
