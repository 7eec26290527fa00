"""People's names for readers outside Slack (the web dashboard): ``users.info`` per person,
asked a few at a time and kept for a while; a person Slack cannot name keeps their ID."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

CACHE_SECONDS = 3600.0  # names rarely change; a page never waits on Slack for a name it knows
AT_ONCE = 4


class SlackPeople:
    def __init__(self, client: AsyncWebClient, *, ttl: float = CACHE_SECONDS) -> None:
        self._client = client
        self._ttl = ttl
        self._names: dict[str, tuple[float, str]] = {}

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        wanted = {u for u in user_ids if u}
        now = time.monotonic()
        unknown = [u for u in sorted(wanted)
                   if u not in self._names or now - self._names[u][0] > self._ttl]
        turns = asyncio.Semaphore(AT_ONCE)

        async def ask(user_id: str) -> None:
            async with turns:
                self._names[user_id] = (time.monotonic(), await self._name(user_id))

        await asyncio.gather(*(ask(u) for u in unknown))
        return {u: self._names[u][1] for u in wanted}

    async def _name(self, user_id: str) -> str:
        try:
            found = await self._client.users_info(user=user_id)
        except SlackApiError:
            return user_id
        user = found.get("user") or {}
        profile = user.get("profile") or {}
        return str(profile.get("real_name") or profile.get("display_name") or user.get("real_name")
                   or user.get("name") or user_id)
