"""Events: the App Home tab, and links to the dashboard pasted in a conversation."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.home import HomeService
from bot.services.outbox_port import SharedIn
from bot.services.unfurls import MOST_LINKS, SharedLinks, UnfurlService
from handlers.after_ack import AfterAck

SOURCES = ("conversations_history", "composer")  # a posted message, or one being written


def register(app: AsyncApp, home: HomeService, background: AfterAck,
             unfurls: UnfurlService | None = None) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":  # acked now, published after
            background.spawn_heavy(home.opened(event["user"]), "home_opened")

    if unfurls is not None:
        @app.event("link_shared")
        async def link_shared(event: dict[str, Any]) -> None:
            if (shared := shared_links(event)) is not None:  # acked now, unfurled after
                background.spawn(_unfurl(unfurls, shared), "link_shared")


async def _unfurl(unfurls: UnfurlService, shared: SharedLinks) -> None:
    await unfurls.unfurl(shared)


def shared_links(event: dict[str, Any]) -> SharedLinks | None:
    """The links of a ``link_shared`` event and where they were shared; None when it is not of
    the shape Slack sends (nothing to unfurl then)."""
    links, channel, ts = event.get("links"), event.get("channel"), event.get("message_ts")
    source, unfurl_id = event.get("source", "conversations_history"), event.get("unfurl_id", "")
    if not (isinstance(links, list) and isinstance(channel, str) and isinstance(ts, str)
            and isinstance(unfurl_id, str) and source in SOURCES):
        return None
    if source == "composer" and not unfurl_id:
        return None
    urls = tuple(link["url"] for link in links[:MOST_LINKS]
                 if isinstance(link, dict) and isinstance(link.get("url"), str))
    return SharedLinks(SharedIn(channel, ts, unfurl_id, source), urls) if urls else None
