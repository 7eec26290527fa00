"""Resolves plain ``@name`` and ``#name`` through the Slack Web API, with a short-lived cache."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

CACHE_SECONDS = 300.0
PAGE = 200  # what Slack recommends for users.list and conversations.list
# Group members are asked for at click time, before the deciding transaction: kept only briefly,
# so a removal from a group takes effect within half a minute.
MEMBERS_CACHE_SECONDS = 30.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, *, ttl: float = CACHE_SECONDS) -> None:
        self._client = client
        self._ttl = ttl
        self._users: dict[str, str] = {}
        self._channels: dict[str, str] = {}
        self._users_at = self._channels_at = float("-inf")
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._group_ids: dict[str, str] = {}  # "@handle" (lower case) -> "S…": handles rarely move

    async def user_id(self, name: str) -> str | None:
        name = name.lower().lstrip("@")
        if name not in self._users or time.monotonic() - self._users_at > self._ttl:
            self._users = {}
            # slack_sdk follows response_metadata.next_cursor: each iteration is one page.
            async for page in await self._client.users_list(limit=PAGE):
                for member in page.get("members", []):
                    if member.get("deleted"):
                        continue
                    profile = member.get("profile") or {}
                    for key in (member.get("name"), profile.get("display_name")):
                        if key:
                            self._users.setdefault(str(key).lower(), member["id"])
            self._users_at = time.monotonic()
        return self._users.get(name)

    async def channel_id(self, name: str) -> str | None:
        name = name.lower().lstrip("#")
        if name not in self._channels or time.monotonic() - self._channels_at > self._ttl:
            self._channels = {}
            async for page in await self._client.conversations_list(
                limit=PAGE, types="public_channel,private_channel", exclude_archived=True,
            ):
                for channel in page.get("channels", []):
                    self._channels[str(channel["name"]).lower()] = channel["id"]
            self._channels_at = time.monotonic()
        return self._channels.get(name)

    async def members(self, group: str) -> frozenset[str]:
        """Members of a user group (ID or @handle), remembered for MEMBERS_CACHE_SECONDS."""
        cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < MEMBERS_CACHE_SECONDS:
            return cached[1]
        found = await self._ask_members(group)
        self._members[group] = (time.monotonic(), found)
        return found

    async def group_id(self, group: str) -> str | None:
        """A user group's ID (``S…``, which a mention needs) from its ``@handle``; an ID as is."""
        if not group.startswith("@"):
            return group
        handle = group.lower()
        if handle not in self._group_ids:
            listed = await self._client.usergroups_list()
            groups: list[dict[str, Any]] = listed.get("usergroups", [])
            self._group_ids.update({f"@{str(g.get('handle', '')).lower()}": g["id"] for g in groups})
        return self._group_ids.get(handle)

    async def _ask_members(self, group: str) -> frozenset[str]:
        group_id = await self.group_id(group)
        if group_id is None:
            return frozenset()
        response = await self._client.usergroups_users_list(usergroup=group_id)
        return frozenset(response.get("users", []))
