"""Is a signed Slack delivery the shape bolt and the listeners rely on? Pure: bytes in, a dict out.

Slack never sends a malformed payload, so one that is malformed is a bug or a probe: it gets a
400 and one log line, before bolt (whose request parsing assumes Slack's shapes and fails with a
traceback otherwise) ever sees it. The rules cover what bolt reads to build its context and pick
a listener, and what our listeners read; anything else in a payload is left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from bot.domain.safe_text import control_character, web_url
from handlers.grammar.parsing import SLACK_ID_MAX

# IDs end up in 32-character columns (users, channels): Slack's are 9-11 characters.
SLACK_ID_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{SLACK_ID_MAX - 1}}}")
MAX_DEPTH = 32       # Slack's deepest payloads (a view's blocks) are about 10 levels
MAX_TOKEN = 255      # trigger_id, event_id, action_id, callback_id ...
MAX_VALUE = 3000     # a button's value (Slack: 2000), a view's private_metadata (3000)

_TEXT = ("type", "token", "team_id", "api_app_id", "event_id", "trigger_id", "response_url",
         "command", "text", "user_id", "channel_id", "callback_id", "action_id", "challenge")
# A command's text has no limit here and may hold anything: its answer says what is wrong with it.
_LIMITS = {"text": None, "response_url": MAX_VALUE, "challenge": MAX_VALUE}
_OBJECTS = ("event", "message", "previous_message", "item", "assistant_thread", "view",
            "container", "state", "function_data")
_ID_OR_OBJECT = ("team", "user", "channel", "enterprise")  # bolt reads their "id" either way


class Malformed(Exception):
    """Why the delivery cannot be handled; safe to log (it never quotes the payload)."""


def parse(raw: bytes, content_type: str) -> dict[str, Any]:
    """The payload as bolt will parse it, checked; raises :class:`Malformed`."""
    try:
        text = raw.decode("utf-8")
        body = _decode(text, content_type)
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    except (ValueError, RecursionError):  # bad JSON, absurd nesting, 5000-digit numbers
        raise Malformed("the body is not the JSON it claims to be") from None
    if not isinstance(body, dict):
        raise Malformed("the payload is not a JSON object")
    flat = not any(isinstance(value, dict | list) for value in body.values())  # a command's form
    if not flat and _depth(body) > MAX_DEPTH:
        raise Malformed(f"the payload is nested deeper than {MAX_DEPTH} levels")
    _check_common(body, "")
    _check_kind(body)
    return body


def _decode(text: str, content_type: str) -> Any:
    """bolt's parse_body, step for step: JSON by content type or a leading brace, else a form
    whose ``payload`` field (interactions) is JSON."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return {} if payload is None else json.loads(payload)
    return dict(parse_qsl(text, keep_blank_values=True))


def _depth(node: Any) -> int:
    """How deep ``node`` nests, without recursion (a deep payload would exhaust the stack)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _check_common(body: dict[str, Any], where: str) -> None:
    """What bolt's context builders and matchers read, at the top and in nested events."""
    for key in _TEXT:
        if key in body:
            _token(body[key], where + key, _LIMITS.get(key, MAX_TOKEN))
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise Malformed(f"{where}{key}: expected an object")
    for key in _ID_OR_OBJECT:
        if body.get(key) is not None and not isinstance(body[key], str | dict):
            raise Malformed(f"{where}{key}: expected an ID or an object")
    if body.get("response_url") is not None and web_url(body["response_url"]) is None:
        raise Malformed(f"{where}response_url: expected an http(s) URL")  # the reply goes there
    for key in ("authorizations", "response_urls"):  # bolt takes len() of one that is there
        if key in body and (not isinstance(body[key], list)
                            or not all(isinstance(i, dict) for i in body[key])):
            raise Malformed(f"{where}{key}: expected a list of objects")
    for name, nested in _nested(body):
        _check_common(nested, f"{where}{name}.")


def _nested(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in ("event", "message", "previous_message", "item", "assistant_thread"):
        if isinstance(body.get(key), dict):
            yield key, body[key]
    if body.get("authorizations"):
        yield "authorizations[0]", body["authorizations"][0]


def _check_kind(body: dict[str, Any]) -> None:
    if "command" in body:
        _id(body.get("user_id"), "user_id")
        _id(body.get("channel_id"), "channel_id")
        _token(body.get("trigger_id"), "trigger_id")
    elif body.get("type") == "block_actions":
        _block_actions(body)
    elif body.get("type") in ("view_submission", "view_closed"):
        _user(body)
        _view(body.get("view"))
    elif body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict):
            raise Malformed("event: expected an object")
        _token(event.get("type"), "event.type")
        if event["type"] == "app_home_opened":
            _id(event.get("user"), "event.user")
        elif event["type"] == "link_shared":
            _link_shared(event)


def _link_shared(event: dict[str, Any]) -> None:
    """Where the links were shared ("COMPOSER" while the message is being written), and the
    links, each a URL (a dashboard link unfurls: bot/services/unfurls.py)."""
    _id(event.get("channel"), "event.channel")
    for key in ("message_ts", "unfurl_id", "source"):
        if key in event:
            _token(event[key], f"event.{key}")
    links = event.get("links")
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        raise Malformed("event.links: expected a list of objects")
    for link in links:
        _token(link.get("url"), "event.links[].url", MAX_VALUE)


def _view(view: Any) -> None:
    """A dialog as submitted: its state is objects all the way down (block → element →
    what was entered), whatever a forged payload claims."""
    if not isinstance(view, dict):
        raise Malformed("view: expected an object")
    for key in ("type", "callback_id"):
        _token(view.get(key), f"view.{key}")
    _token(view.get("private_metadata", ""), "view.private_metadata", MAX_VALUE)
    state = view.get("state", {"values": {}})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
            isinstance(block, dict) and all(isinstance(element, dict) for element in block.values())
            for block in values.values()):
        raise Malformed("view.state: expected {values: {block: {element: {...}}}}")


def _block_actions(body: dict[str, Any]) -> None:
    _user(body)
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        raise Malformed("actions: expected a list of objects")
    for index, action in enumerate(actions):
        _token(action.get("action_id"), f"actions[{index}].action_id")
        if action.get("type", "button") == "button":  # ours all carry a token; menus have none
            _token(action.get("value"), f"actions[{index}].value", MAX_VALUE)
    _token(body.get("trigger_id"), "trigger_id")
    if body.get("channel") is not None:
        _id(body["channel"].get("id") if isinstance(body["channel"], dict) else None, "channel.id")


def _user(body: dict[str, Any]) -> None:
    user = body.get("user")
    _id(user.get("id") if isinstance(user, dict) else None, "user.id")


def _id(value: Any, where: str) -> None:
    if not isinstance(value, str) or not SLACK_ID_RE.fullmatch(value):
        raise Malformed(f"{where}: expected a Slack ID")


def _token(value: Any, where: str, limit: int | None = MAX_TOKEN) -> None:
    """A string of at most ``limit`` characters without control characters; ``limit`` None:
    any string (a command's text: its answer deals with what is in it)."""
    if not isinstance(value, str):
        raise Malformed(f"{where}: expected a string")
    if limit is None:
        return
    if len(value) > limit:
        raise Malformed(f"{where}: longer than {limit} characters")
    if control_character(value) is not None:
        raise Malformed(f"{where}: contains a control character")
