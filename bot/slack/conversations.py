"""Whether a channel is private, and who is in it, from Slack, remembered for a while.

``conversations.info`` says whether a channel is private (a private channel, a group DM or a
DM); ``conversations.members`` who is in it, page by page. Both answers are cached: privacy
rarely changes (an admin may make a public channel private), membership does, so it is kept
briefly, like user-group members. A failed call is not remembered: the next read asks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.directory import MEMBERS_CACHE_SECONDS

PRIVACY_CACHE_SECONDS = 600.0
PAGE = 200  # conversations.members allows up to 1000; Slack recommends no more than 200
NOT_SEEN = "channel_not_found"  # no such channel, or private without the bot: the same to it


class SlackConversations:
    def __init__(self, client: AsyncWebClient, *, privacy_ttl: float = PRIVACY_CACHE_SECONDS,
                 members_ttl: float = MEMBERS_CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._privacy_ttl, self._members_ttl = privacy_ttl, members_ttl
        self._now = monotonic
        self._privacy: dict[str, tuple[float, bool | None]] = {}
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def is_private(self, channel_id: str) -> bool | None:
        """True for a private channel, a group DM or a DM; None when the bot cannot see it
        (remembered briefly only: the bot may be invited in a minute)."""
        cached = self._privacy.get(channel_id)
        if cached is not None and self._now() - cached[0] < (
                self._members_ttl if cached[1] is None else self._privacy_ttl):
            return cached[1]
        try:
            info = await self._client.conversations_info(channel=channel_id)
        except SlackApiError as failed:
            if _error(failed) != NOT_SEEN:
                raise
            found: bool | None = None
        else:
            channel: dict[str, Any] = info.get("channel") or {}
            found = any(bool(channel.get(key)) for key in ("is_private", "is_mpim", "is_im",
                                                            "is_group"))
        self._privacy[channel_id] = (self._now(), found)
        return found

    async def members(self, channel_id: str) -> frozenset[str]:
        """Who is in the channel (nobody, when the bot cannot see it), remembered for
        MEMBERS_CACHE_SECONDS: someone who leaves stops seeing its use cases within that."""
        cached = self._members.get(channel_id)
        if cached is not None and self._now() - cached[0] < self._members_ttl:
            return cached[1]
        found = await self._ask_members(channel_id)
        self._members[channel_id] = (self._now(), found)
        return found

    async def _ask_members(self, channel_id: str) -> frozenset[str]:
        found: set[str] = set()
        cursor = ""
        while True:
            try:
                page = await self._client.conversations_members(
                    channel=channel_id, limit=PAGE, **({"cursor": cursor} if cursor else {}))
            except SlackApiError as failed:
                if _error(failed) != NOT_SEEN:
                    raise
                return frozenset()
            found.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return frozenset(found)


def _error(failed: SlackApiError) -> str:
    return str((failed.response or {}).get("error", ""))
