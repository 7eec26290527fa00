"""Builds request bodies and signed headers exactly as Slack sends them to the bot.

The simulator feeds these through the same HTTP endpoint production uses, so signature
verification, body parsing and bolt's routing are exercised for real.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.simulator.fake_slack_state import FakeChannel, FakeUser

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
API_APP_ID = "A0SIM"
# Slack still sends the deprecated verification token; bolt ignores it.
VERIFICATION_TOKEN = "simulated-verification-token"


class SlackRequestSigner:
    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock

    def headers(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        retry_num: int | None = None,
        content_type: str | None = None,
    ) -> dict[str, str]:
        """Signed headers; Content-Type is guessed from the body (JSON events vs forms)."""
        ts = str(int(self._clock()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=ts, body=body)
        if content_type is None:
            content_type = JSON if body.lstrip().startswith("{") else FORM
        out = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or "",
        }
        if retry_num is not None:
            out["X-Slack-Retry-Num"] = str(retry_num)
            out["X-Slack-Retry-Reason"] = "http_timeout"
        return out


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": "simulated"}


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    team_id: str,
    response_url: str,
    trigger_id: str,
) -> str:
    return urlencode({
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": "simulated",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    })


def block_actions_body(
    *,
    user_id: str,
    user_name: str,
    channel_id: str | None,
    team_id: str,
    action: dict[str, Any],
    message: dict[str, Any] | None,
    container: dict[str, Any] | None,
    response_url: str,
    trigger_id: str,
    view: dict[str, Any] | None = None,
    channel_name: str | None = None,
) -> str:
    """A button press on a message (channel, message, response_url) or in a view (Home, modal)."""
    act = {"type": "button", "action_ts": f"{time.time():.6f}", **action}
    if "text" not in act and act["type"] == "button":
        act["text"] = {"type": "plain_text", "text": str(act.get("value") or ""), "emoji": True}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container or _container(channel_id, message, view),
        "trigger_id": trigger_id,
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [act],
    }
    if channel_id:
        payload["channel"] = {"id": channel_id, "name": channel_name or channel_id}
    if message is not None:
        payload["message"] = {"type": "message", **message}
    if view is not None:
        payload["view"] = view
    if response_url:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def _container(channel_id: str | None, message: dict[str, Any] | None,
               view: dict[str, Any] | None) -> dict[str, Any]:
    """Where the button was: a message in a channel, or a view (Home tab, modal)."""
    if message is not None:
        return {"type": "message", "message_ts": message.get("ts"), "channel_id": channel_id,
                "is_ephemeral": False}
    return {"type": "view", "view_id": view.get("id")} if view is not None else {}


def view_submission_body(
    *, user_id: str, user_name: str, team_id: str, view: dict[str, Any], trigger_id: str = ""
) -> str:
    full_view = {"type": "modal", "team_id": team_id, "private_metadata": "",
                 "state": {"values": {}}, "blocks": [], **view}
    payload = {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": full_view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(
    *,
    event: dict[str, Any],
    team_id: str,
    api_app_id: str,
    event_id: str,
    event_time: int,
    bot_user_id: str = "U0BOT",
) -> str:
    """The Events API `event_callback` envelope (sent as application/json)."""
    return json.dumps({
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": bot_user_id,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    })


# A mention starts the text or follows whitespace, "=", "(", quotes or a comma: never inside a
# word, so emails (a@b.com), URLs (x.com/#top) and already-escaped <@U1|a> are left alone.
_MENTION = re.compile(r"(?<![^\s=(\"',\[])([@#])([A-Za-z0-9][A-Za-z0-9._-]*)")
_SPECIAL = {"here": "<!here>", "channel": "<!channel>", "everyone": "<!everyone>"}


def escape_mentions(
    text: str,
    users: Callable[[str], FakeUser | None],
    channels: Callable[[str], FakeChannel | None],
    usergroups: Callable[[str], tuple[str, str] | None] | None = None,
) -> str:
    """Rewrite typed @user/#channel/@group as Slack does for commands with should_escape."""

    def replace(match: re.Match[str]) -> str:
        sigil, name = match.group(1), match.group(2)
        trail = ""
        while name and name[-1] in ".-_" and _lookup(sigil, name) is None:
            name, trail = name[:-1], name[-1] + trail  # "@bob." at a sentence end
        found = _lookup(sigil, name)
        return (found or match.group(1) + name) + trail

    def _lookup(sigil: str, name: str) -> str | None:
        if sigil == "#":
            chan = channels(name)
            return f"<#{chan.id}|{chan.name}>" if chan and not chan.is_im else None
        if name in _SPECIAL:
            return _SPECIAL[name]
        user = users(name)
        if user is not None:
            return f"<@{user.id}|{user.name}>"
        group = usergroups(name) if usergroups else None
        return f"<!subteam^{group[0]}|@{group[1]}>" if group else None

    return _MENTION.sub(replace, text)


def app_event(event: dict[str, Any], team_id: str, at: datetime) -> str:
    """``event`` as Slack delivers it to the simulator's app, under a new event ID."""
    return event_body(event=event, team_id=team_id, api_app_id="A0SIM",
                      event_id=f"Ev{uuid.uuid4().hex[:16].upper()}", event_time=int(at.timestamp()))
