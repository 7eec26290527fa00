"""Workspace state behind the fake Slack server: users, channels, messages, views, files.

The Web API methods that act on it are in `fake_slack_methods.py`; the aiohttp plumbing,
fault injection and recording in `fake_slack.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    is_bot: bool = False


@dataclass
class FakeChannel:
    id: str
    name: str
    is_im: bool = False
    is_private: bool = False  # a private channel, or a group DM (``is_mpim``)
    is_mpim: bool = False
    members: list[str] | None = None  # user ids; None: a public channel, open to everyone

    def has(self, user_id: str) -> bool:
        return self.members is None or user_id in self.members


@dataclass
class FakeMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict]
    thread_ts: str | None
    user: str
    ephemeral_for: str | None = None
    edits: int = 0
    metadata: dict | None = None  # Slack's message metadata (event_type, event_payload)
    unfurls: dict[str, dict] = field(default_factory=dict)  # URL -> the app's unfurl of it
    unfurl_id: str = ""  # a message still in the composer (``chat.unfurl`` with source=composer)


class SlackError(Exception):
    """An `ok: false` answer; `error` is Slack's error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _ident(prefix: str, name: str) -> str:
    # Deterministic ids make transcripts and test assertions stable across runs.
    return prefix + re.sub(r"[^A-Z0-9]", "", name.upper())[:10]


class SlackState:
    """Users, channels, messages, views and files of one simulated workspace."""

    def __init__(self, *, team_id: str, bot_user_id: str, base_url: Callable[[], str]) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self._base_url = base_url
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.usergroups: dict[str, tuple[str, list[str]]] = {}  # id -> (handle, members)
        self.messages: list[FakeMessage] = []
        self.views: dict[str, dict] = {}
        self.opened_views: list[dict] = []
        self.uploads: list[dict] = []
        self.pending_files: dict[str, dict] = {}  # file_id -> {filename, length, content}
        self.composing: list[FakeMessage] = []  # messages people are writing (with links in them)
        self._seq = 0
        self.users[bot_user_id] = FakeUser(bot_user_id, "bizdevops", "BizDevOps Bot", True)

    # -- directory -----------------------------------------------------------------------
    def add_user(self, name: str, user_id: str | None, real_name: str | None) -> FakeUser:
        name = name.lstrip("@")
        user = FakeUser(user_id or _ident("U", name), name, real_name or name.title())
        if user.id in self.users:
            raise ValueError(f"user id {user.id} already exists")
        self.users[user.id] = user
        return user

    def add_channel(self, name: str, channel_id: str | None, *, private: bool = False,
                    mpim: bool = False, members: list[str] | None = None,
                    bot_invited: bool = True) -> FakeChannel:
        """A public channel, or (``private``, ``mpim``: a group DM) one only ``members`` are in;
        the bot too unless not ``bot_invited`` (then Slack hides it from the bot)."""
        name = name.lstrip("#")
        closed = private or mpim
        people = [*(members or ()), *([self.bot_user_id] if bot_invited else [])] if closed else None
        # Group DMs have G… ids (like the private channels of old); private channels now C….
        chan = FakeChannel(channel_id or _ident("G" if mpim else "C", name), name,
                           is_private=closed, is_mpim=mpim, members=people)
        if chan.id in self.channels:
            raise ValueError(f"channel id {chan.id} already exists")
        self.channels[chan.id] = chan
        return chan

    def add_usergroup(self, handle: str, members: list[str], group_id: str | None) -> str:
        handle = handle.lstrip("@")
        gid = group_id or _ident("S", handle)
        self.usergroups[gid] = (handle, list(members))
        return gid

    def user(self, key: str) -> FakeUser | None:
        if key in self.users:
            return self.users[key]
        name = key.lstrip("@").lower()
        return next((u for u in self.users.values() if u.name.lower() == name), None)

    def channel(self, key: str) -> FakeChannel | None:
        if key in self.channels:
            return self.channels[key]
        name = key.lstrip("#").lower()
        return next((c for c in self.channels.values() if c.name.lower() == name), None)

    def resolve_channel(self, key: str | None) -> str:
        """Channel id for an id, a name, or a user id (a DM, as Slack allows). A private
        channel the bot is not in does not exist for it, as in Slack."""
        if key:
            chan = self.channel(key)
            if chan is not None and chan.has(self.bot_user_id):
                return chan.id
            if key in self.users:
                return self.dm(self.users[key]).id
        raise SlackError("channel_not_found")

    def dm(self, user: FakeUser) -> FakeChannel:
        dm_id = "D" + user.id[1:]
        if dm_id not in self.channels:
            self.channels[dm_id] = FakeChannel(dm_id, user.id, is_im=True)
        return self.channels[dm_id]

    def next_ts(self) -> str:
        self._seq += 100
        return f"{1_700_000_000 + self._seq // 1_000_000}.{self._seq % 1_000_000:06d}"

    def person_says(self, user_id: str, channel: str, text: str, *, composing: bool) -> FakeMessage:
        """A person's message: posted in ``channel`` (an id), or still in their composer (its
        channel is "COMPOSER" then, as in a ``link_shared`` event); its ``unfurl_id`` names it."""
        ts = self.next_ts()
        where = "COMPOSER" if composing else channel
        msg = FakeMessage(where, ts, text, [], None, user_id,
                          unfurl_id=f"{user_id}-{where}-{ts.replace('.', '')}")
        (self.composing if composing else self.messages).append(msg)
        return msg

    def find_message(self, channel: str, ts: str) -> FakeMessage:
        for msg in self.messages:
            if msg.channel == channel and msg.ts == ts:
                return msg
        raise SlackError("message_not_found")

    # -- serialisers ---------------------------------------------------------------------
    def user_json(self, user: FakeUser) -> Json:
        profile = {"display_name": user.name, "real_name": user.real_name,
                   "email": f"{user.name}@example.com"}
        return {"id": user.id, "team_id": self.team_id, "name": user.name,
                "real_name": user.real_name, "profile": profile, "is_bot": user.is_bot,
                "deleted": False, "tz": "UTC"}

    def channel_json(self, chan: FakeChannel) -> Json:
        if chan.is_im:
            return {"id": chan.id, "is_im": True, "user": chan.name, "is_org_shared": False}
        return {"id": chan.id, "name": chan.name, "is_channel": not chan.is_mpim,
                "is_group": False, "is_im": False, "is_mpim": chan.is_mpim,
                "is_private": chan.is_private, "is_archived": False,
                "is_member": chan.has(self.bot_user_id)}

    def members_of(self, chan: FakeChannel) -> list[str]:
        """Who is in a conversation: a DM's person and the bot, a closed one's members, and
        everyone (who is not deleted) in a public channel."""
        if chan.is_im:
            return [chan.name, self.bot_user_id]
        return list(chan.members) if chan.members is not None else list(self.users)

    def message_json(self, msg: FakeMessage, *, metadata: bool = False) -> Json:
        out: Json = {"type": "message", "user": msg.user, "text": msg.text,
                     "blocks": msg.blocks, "ts": msg.ts, "team": self.team_id}
        if msg.thread_ts:
            out["thread_ts"] = msg.thread_ts
        if metadata and msg.metadata:
            out["metadata"] = msg.metadata
        return out
