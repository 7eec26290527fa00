"""``chat.unfurl`` of the fake Slack: the app's previews of links people shared, checked as Slack
checks them and recorded on the message (``FakeMessage.unfurls``).

A message is named by ``channel`` and ``ts`` (one that was posted), or by ``unfurl_id`` and
``source`` (``composer``: one still being written; ``conversations_history``: one posted).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.simulator.fake_slack_state import FakeMessage, Json, SlackError, SlackState

SOURCES = ("composer", "conversations_history")
MAX_BLOCKS = 50
ATTACHMENT_TEXT = ("text", "title", "fallback", "pretext")  # an unfurl without blocks needs one


def _unfurl(s: SlackState, args: Json) -> Json:
    unfurls = _unfurls(args.get("unfurls"))
    message = _message(s, args)
    for url in unfurls:
        if url not in message.text:
            raise SlackError("cannot_unfurl_message")
    message.unfurls.update(unfurls)  # again for the same message: the same previews, changed
    return {}


def _message(s: SlackState, args: Json) -> FakeMessage:
    source, unfurl_id = args.get("source"), args.get("unfurl_id")
    if source or unfurl_id:
        if not source:
            raise SlackError("missing_source")
        if not unfurl_id:
            raise SlackError("missing_unfurl_id")
        if source not in SOURCES:
            raise SlackError("invalid_source")
        pool = s.composing if source == "composer" else s.messages
        found = next((m for m in pool if m.unfurl_id and m.unfurl_id == unfurl_id), None)
        if found is None:
            raise SlackError("invalid_unfurl_id")
        return found
    if not args.get("channel"):
        raise SlackError("missing_channel")
    if not args.get("ts"):
        raise SlackError("missing_ts")
    if str(args["channel"]) not in s.channels:
        raise SlackError("cannot_find_channel")
    try:
        return s.find_message(str(args["channel"]), str(args["ts"]))
    except SlackError:
        raise SlackError("cannot_find_message") from None


def _unfurls(raw: Any) -> dict[str, dict]:
    if raw in (None, "", {}):
        raise SlackError("missing_unfurls")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise SlackError("invalid_unfurls_format") from None
    if not isinstance(raw, dict) or not all(isinstance(url, str) and isinstance(item, dict)
                                            for url, item in raw.items()):
        raise SlackError("invalid_unfurls_format")
    for item in raw.values():
        _check_attachment(item)
    return raw


def _check_attachment(item: dict) -> None:
    blocks = item.get("blocks")
    if blocks is None:
        if not any(isinstance(item.get(key), str) and item[key] for key in ATTACHMENT_TEXT):
            raise SlackError("cannot_parse_attachment")
        return
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
        raise SlackError("invalid_blocks")
    for block in blocks:
        parsed = Block.parse(block) if isinstance(block, dict) else None
        if parsed is None:  # not a block, or of a type Slack does not know
            raise SlackError("invalid_blocks")
        try:
            parsed.validate_json()  # Slack's limits: a section's 3000 characters, ...
        except SlackObjectFormationError:
            raise SlackError("invalid_blocks") from None


UNFURL_METHODS: dict[str, Callable[[SlackState, Json], Json]] = {"chat.unfurl": _unfurl}
