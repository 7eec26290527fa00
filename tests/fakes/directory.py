"""Slack's directory as plain dicts: who is called what, which channel, who is in which group."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeDirectory:
    users: dict[str, str] = field(default_factory=dict)     # name → user ID
    channels: dict[str, str] = field(default_factory=dict)  # name → channel ID

    async def user_id(self, name: str) -> str | None:
        return self.users.get(name)

    async def channel_id(self, name: str) -> str | None:
        return self.channels.get(name)


@dataclass
class FakeGroups:
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # "@handle" or "S…" → members

    async def members(self, group: str) -> frozenset[str]:
        return self.groups.get(group, frozenset())

    async def group_id(self, group: str) -> str | None:
        return f"S{group[1:].upper()}" if group.startswith("@") else group


@dataclass
class FakeConversations:
    """Slack's channels as far as privacy goes: private ones (and group DMs) with their members;
    any other channel is public, except ``unseen`` ones (private, without the bot). ``asked``
    records each question, ("members", channel) or ("private", channel)."""

    private: dict[str, frozenset[str]] = field(default_factory=dict)  # channel ID → members
    unseen: set[str] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def is_private(self, channel_id: str) -> bool | None:
        self.asked.append(("private", channel_id))
        return None if channel_id in self.unseen else channel_id in self.private

    async def members(self, channel_id: str) -> frozenset[str]:
        self.asked.append(("members", channel_id))
        return self.private.get(channel_id, frozenset())
