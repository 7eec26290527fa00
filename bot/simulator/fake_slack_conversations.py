"""The fake Slack's ``conversations.*`` methods and its paging, over `SlackState`.

As Slack answers a bot token: a private channel or group DM the bot is not in does not exist
for it (``channel_not_found``), lists come in pages with a cursor, and ``conversations.list``
lists only the ``types`` asked for (``public_channel`` without any).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from bot.simulator.fake_slack_state import FakeChannel, Json, SlackError, SlackState


def page(key: str, items: list[Json] | list[str], args: Json) -> Json:
    """One page of a list method, as Slack pages them: ``limit`` items (without one: all), then
    ``response_metadata.next_cursor`` to pass as ``cursor`` for the next ("" on the last page)."""
    cursor = str(args.get("cursor") or "")
    try:
        start = int(base64.b64decode(cursor).decode().removeprefix("next:")) if cursor else 0
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise SlackError("invalid_cursor") from None
    limit = int(args.get("limit") or 0)
    end = len(items) if limit <= 0 else start + limit
    more = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return {key: items[start:end], "response_metadata": {"next_cursor": more}}


def _kind(chan: FakeChannel) -> str:
    if chan.is_im:
        return "im"
    if chan.is_mpim:
        return "mpim"
    return "private_channel" if chan.is_private else "public_channel"


def _list(s: SlackState, args: Json) -> Json:
    types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
    chans = [c for c in s.channels.values() if _kind(c) in types and c.has(s.bot_user_id)]
    return page("channels", [s.channel_json(c) for c in chans], args)


def _channel(s: SlackState, args: Json) -> FakeChannel:
    """The conversation named by id (or name) in ``channel``; a user id is no conversation."""
    if str(args.get("channel", "")) in s.users:
        raise SlackError("channel_not_found")
    return s.channels[s.resolve_channel(args.get("channel"))]


def _info(s: SlackState, args: Json) -> Json:
    return {"channel": s.channel_json(_channel(s, args))}


def _members(s: SlackState, args: Json) -> Json:
    """User ids, 100 a page unless ``limit`` says otherwise (Slack's default)."""
    return page("members", s.members_of(_channel(s, args)), {"limit": 100, **args})


def _open(s: SlackState, args: Json) -> Json:
    user = s.users.get(str(args.get("users", "")).split(",")[0])
    if user is None:
        raise SlackError("user_not_found")
    return {"channel": {"id": s.dm(user).id}}


CONVERSATION_METHODS: dict[str, Callable[[SlackState, Json], Json]] = {
    "conversations.list": _list,
    "conversations.info": _info,
    "conversations.members": _members,
    "conversations.open": _open,
}
