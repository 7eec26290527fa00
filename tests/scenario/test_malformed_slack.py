"""Signed but malformed Slack deliveries: a 4xx and one log line, never a 500 or a traceback,
and nothing stored or said. Also: the signature window is 300 s either way, exactly."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.simulator.signer import (
    FORM,
    JSON,
    SlackRequestSigner,
    block_actions_body,
    event_body,
    slash_command_body,
    view_submission_body,
)
from bot.simulator.simulator import Simulator
from handlers import slack_http
from tests.scenario.test_security import all_counts, post_raw


def command(sim: Simulator, **fields: str | None) -> str:
    """A /usecase command; a field given as None is left out."""
    body = dict(parse_qsl(slash_command_body(
        command="/usecase", text='new churn "Churn"', user_id=sim.user, user_name="alice",
        channel_id=sim.channel, channel_name="general", team_id=sim.fake.team_id,
        response_url=sim.fake.new_response_url(), trigger_id="1.2.trigger")))
    body.update({k: v for k, v in fields.items() if v is not None})
    return urlencode({k: v for k, v in body.items() if fields.get(k, "") is not None})


def interaction(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def button(sim: Simulator, change: Callable[[dict[str, Any]], None]) -> str:
    action = {"type": "button", "action_id": "deploy_approve", "block_id": "deployment-1",
              "value": "tok", "text": {"type": "plain_text", "text": "Approve"}}
    body = block_actions_body(user_id=sim.user, user_name="alice", channel_id=sim.channel,
                              team_id=sim.fake.team_id, action=action, message={"ts": "1.1"},
                              container=None, response_url=sim.fake.new_response_url(),
                              trigger_id="9.9.trigger")
    payload = json.loads(dict(parse_qsl(body))["payload"])
    change(payload)
    return interaction(payload)


def home(sim: Simulator, change: Callable[[dict[str, Any]], None]) -> str:
    body = json.loads(event_body(
        event={"type": "app_home_opened", "user": sim.user, "channel": "D1", "tab": "home",
               "event_ts": "1.1"},
        team_id=sim.fake.team_id, api_app_id="A0SIM", event_id="Ev0MALFORMED",
        event_time=int(time.time())))
    change(body)
    return json.dumps(body)


def shared(sim: Simulator, change: Callable[[dict[str, Any]], None]) -> str:
    """A link_shared event: a link pasted in #general (bot/services/unfurls.py)."""
    body = json.loads(event_body(
        event={"type": "link_shared", "user": sim.user, "channel": sim.channel, "message_ts": "1.1",
               "unfurl_id": "C1.1.1", "source": "conversations_history",
               "links": [{"domain": "127.0.0.1", "url": f"{sim.base_url}/use-cases/churn"}]},
        team_id=sim.fake.team_id, api_app_id="A0SIM", event_id="Ev0MALFORMEDLINK",
        event_time=int(time.time())))
    change(body)
    return json.dumps(body)


def dialog(sim: Simulator, change: Callable[[dict[str, Any]], None]) -> str:
    payload = json.loads(dict(parse_qsl(view_submission_body(
        user_id=sim.user, user_name="alice", team_id=sim.fake.team_id,
        view={"id": "V1", "callback_id": "deploy_reject_reason", "private_metadata": "tok"})))["payload"])
    change(payload)
    return interaction(payload)


def drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        node = payload
        for key in path[:-1]:
            node = node[key][0] if key == "actions" else node[key]
        del node[path[-1]]
    return change


def put(value: Any, *path: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        node = payload
        for key in path[:-1]:
            node = node[key][0] if key == "actions" else node[key]
        node[path[-1]] = value
    return change


NESTED: Any = "x"
for _ in range(100):
    NESTED = [NESTED]

# name → (body, content type): every F6 case of the issue, and their neighbours
CASES: dict[str, Callable[[Simulator], tuple[str, str]]] = {
    "form body sent as JSON": lambda sim: (command(sim), JSON),
    "JSON []": lambda sim: ("[]", JSON),
    'JSON "x"': lambda sim: ('"x"', JSON),
    "JSON 5": lambda sim: ("5", JSON),
    "JSON null": lambda sim: ("null", JSON),
    "JSON cut short": lambda sim: ('{"type": "event_callback", "event": {', JSON),
    "payload= a list": lambda sim: (urlencode({"payload": "[]"}), FORM),
    "payload= a string": lambda sim: (urlencode({"payload": '"x"'}), FORM),
    "payload= not JSON": lambda sim: (urlencode({"payload": "{type: block_actions"}), FORM),
    "payload= 100k [": lambda sim: (urlencode({"payload": "[" * 100_000}), FORM),
    "payload nested 100 deep": lambda sim: (button(sim, put(NESTED, "state")), FORM),
    "block_actions without user": lambda sim: (button(sim, drop("user")), FORM),
    "block_actions user as a list": lambda sim: (button(sim, put(["U1"], "user")), FORM),
    "block_actions without actions": lambda sim: (button(sim, drop("actions")), FORM),
    "block_actions with no action": lambda sim: (button(sim, put([], "actions")), FORM),
    "block_actions without value": lambda sim: (button(sim, drop("actions", "value")), FORM),
    "block_actions value a number": lambda sim: (button(sim, put(5, "actions", "value")), FORM),
    "block_actions value with NUL": lambda sim: (button(sim, put("t\x00k", "actions", "value")), FORM),
    "block_actions event a string": lambda sim: (button(sim, put("x", "event")), FORM),
    "block_actions channel a number": lambda sim: (button(sim, put(7, "channel")), FORM),
    "app_home_opened without user": lambda sim: (home(sim, drop("event", "user")), JSON),
    "app_home_opened user a dict": lambda sim: (home(sim, put({"id": "U1"}, "event", "user")), JSON),
    "event_callback event a list": lambda sim: (home(sim, put([], "event")), JSON),
    "event_id with NUL": lambda sim: (home(sim, put("Ev\x00", "event_id")), JSON),
    "link_shared without channel": lambda sim: (shared(sim, drop("event", "channel")), JSON),
    "link_shared links an object": lambda sim: (shared(sim, put({"url": "x"}, "event", "links")), JSON),
    "link_shared a link a string": lambda sim: (shared(sim, put(["https://x"], "event", "links")), JSON),
    "link_shared url a number": lambda sim: (shared(sim, put([{"url": 5}], "event", "links")), JSON),
    "link_shared message_ts a list": lambda sim: (shared(sim, put([], "event", "message_ts")), JSON),
    "authorizations a string": lambda sim: (home(sim, put("x", "authorizations")), JSON),
    "slash without user_id": lambda sim: (command(sim, user_id=None), FORM),
    "slash without channel_id": lambda sim: (command(sim, channel_id=None), FORM),
    "slash user_id of 40 characters": lambda sim: (command(sim, user_id="U" + "X" * 39), FORM),
    "slash trigger_id with NUL": lambda sim: (command(sim, trigger_id="1.\x00"), FORM),
    "slash response_url not a URL": lambda sim: (command(sim, response_url="file:///etc/x"), FORM),
    "view_submission without view.type": lambda sim: (dialog(sim, drop("view", "type")), FORM),
    "view_submission view a string": lambda sim: (dialog(sim, put("x", "view")), FORM),
    # bolt takes len() of response_urls whenever the key is there (found by test_hostile_inputs)
    "view_submission response_urls null": lambda sim: (dialog(sim, put(None, "response_urls")), FORM),
    "authorizations null": lambda sim: (home(sim, put(None, "authorizations")), JSON),
    # G8: a state that is no object, at each level (bolt and the dialogs read it as objects)
    "view_submission state a string": lambda sim: (dialog(sim, put("x", "view", "state")), FORM),
    "view_submission state a number": lambda sim: (dialog(sim, put(5, "view", "state")), FORM),
    "view_submission values a list": lambda sim: (
        dialog(sim, put({"values": []}, "view", "state")), FORM),
    "view_submission block a string": lambda sim: (
        dialog(sim, put({"values": {"b": "x"}}, "view", "state")), FORM),
    "view_submission element a number": lambda sim: (
        dialog(sim, put({"values": {"b": {"b": 5}}}, "view", "state")), FORM),
    "not UTF-8": lambda sim: (command(sim).replace("churn", "ch\udcffurn"), FORM),
}


def signed(sim: Simulator, raw: bytes, content_type: str) -> dict[str, str]:
    """Slack's headers for these exact bytes (the simulator's signer takes text; one case is not)."""
    stamp = str(int(time.time()))
    mac = hmac.new(sim._signing_secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + mac.hexdigest()}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_signed_malformed_delivery_gets_a_4xx_and_one_log_line(
    sim: Simulator, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, content_type = CASES[case](sim)
    raw = body.encode("utf-8", errors="surrogateescape")  # "not UTF-8" carries a raw 0xff
    before, calls = await all_counts(sim), len(sim.fake.calls)

    caplog.clear()
    with caplog.at_level(logging.INFO):
        status = await post_raw(sim, sim.url, raw, signed(sim, raw, content_type))
        await sim.app.background.settle()

    assert 400 <= status < 500
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    refused = [r.getMessage() for r in caplog.records if "action=slack_refused" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in caplog.records]
    assert await all_counts(sim) == before and len(sim.fake.calls) == calls


@pytest.mark.parametrize(("offset", "status"), [(-300, 200), (300, 200), (-301, 401), (301, 401)])
async def test_the_timestamp_window_is_300_seconds_either_way(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, offset: int, status: int
) -> None:
    now = 1_800_000_000
    monkeypatch.setattr(slack_http, "wall_clock", lambda: now + 0.9)  # late in its second
    body = command(sim, text="list")
    headers = SlackRequestSigner(sim._signing_secret).headers(body, timestamp=now + offset)
    assert await post_raw(sim, sim.url, body, headers) == status


async def test_a_request_line_over_8_kib_is_a_400_and_one_warning_line(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp refuses it before any handler runs; its traceback is kept out of the log."""
    body = command(sim)
    with caplog.at_level(logging.INFO):
        status = await post_raw(sim, f"{sim.url}?{'x' * 9000}", body, sim.signer.headers(body))
    assert status == 400
    assert [r for r in caplog.records if r.exc_info] == []
    said = [r.getMessage() for r in caplog.records if r.name == "aiohttp.server"]
    assert said == ["action=bad_http_request error=LineTooLong status=400"]


async def test_a_wrong_signature_is_a_401_and_one_log_line(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    body = command(sim)
    headers = {**sim.signer.headers(body), "X-Slack-Signature": "v0=" + "0" * 64}
    with caplog.at_level(logging.INFO):
        assert await post_raw(sim, sim.url, body, headers) == 401
    assert [r.getMessage() for r in caplog.records] == ["action=slack_refused status=401 reason=signature"]
