"""Requests built by the simulator must look and verify exactly like Slack's."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from bot.simulator.fake_slack_state import FakeChannel, FakeUser
from bot.simulator.signer import (
    SlackRequestSigner,
    block_actions_body,
    escape_mentions,
    event_body,
    slash_command_body,
    view_submission_body,
)

SECRET = "s3cr3t"
NOW = 1_700_000_000.0


class FixedClock:
    def now(self) -> float:
        return NOW


def form(body: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def slash(text: str = "list mine") -> str:
    return slash_command_body(command="/usecase", text=text, user_id="UALICE", user_name="alice",
                              channel_id="COPS", channel_name="ops", team_id="T0SIM",
                              response_url="http://x/response/R1", trigger_id="trig.1")


def test_headers_verify_with_slack_sdk() -> None:
    body = slash()
    headers = SlackRequestSigner(SECRET, clock=lambda: NOW).headers(body)
    assert headers["X-Slack-Request-Timestamp"] == str(int(NOW))
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET, clock=FixedClock()).is_valid_request(body, headers)
    assert not SignatureVerifier("other", clock=FixedClock()).is_valid_request(body, headers)


def test_explicit_timestamp_and_retry_headers() -> None:
    body = event_body(event={"type": "app_home_opened", "user": "UALICE"}, team_id="T0SIM",
                      api_app_id="A0SIM", event_id="Ev1", event_time=int(NOW))
    headers = SlackRequestSigner(SECRET).headers(body, timestamp=int(NOW) - 600, retry_num=1)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Slack-Retry-Num"] == "1"
    # Ten minutes old: outside Slack's five-minute window, so a verifier must refuse it.
    assert not SignatureVerifier(SECRET, clock=FixedClock()).is_valid_request(body, headers)
    expected = SignatureVerifier(SECRET).generate_signature(timestamp=str(int(NOW) - 600),
                                                            body=body)
    assert headers["X-Slack-Signature"] == expected


def test_slash_command_body_fields() -> None:
    fields = form(slash('new churn "Churn model" owner=<@UBOB|bob>'))
    assert fields["command"] == "/usecase"
    assert fields["text"] == 'new churn "Churn model" owner=<@UBOB|bob>'
    assert (fields["user_id"], fields["user_name"]) == ("UALICE", "alice")
    assert (fields["channel_id"], fields["channel_name"]) == ("COPS", "ops")
    assert fields["team_id"] == "T0SIM"
    assert fields["response_url"] == "http://x/response/R1"
    assert fields["trigger_id"] == "trig.1"
    assert fields["api_app_id"]


def test_block_actions_body_payload() -> None:
    body = block_actions_body(
        user_id="UBOB", user_name="bob", channel_id="COPS", team_id="T0SIM",
        action={"action_id": "deploy_approve", "block_id": "b1", "value": "42"},
        message={"ts": "1700000000.000100", "text": "approve?", "blocks": []},
        container=None, response_url="http://x/response/R2", trigger_id="trig.2")
    payload = json.loads(form(body)["payload"])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "UBOB"
    assert payload["channel"]["id"] == "COPS"
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "deploy_approve", "b1", "42", "button")
    assert payload["container"] == {"type": "message", "message_ts": "1700000000.000100",
                                    "channel_id": "COPS", "is_ephemeral": False}
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["response_url"] == "http://x/response/R2"


def test_block_actions_from_home_view() -> None:
    body = block_actions_body(
        user_id="UBOB", user_name="bob", channel_id=None, team_id="T0SIM",
        action={"action_id": "refresh", "block_id": "b1", "value": None}, message=None,
        container=None, response_url="", trigger_id="t", view={"id": "V1", "type": "home"})
    payload = json.loads(form(body)["payload"])
    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert payload["view"]["type"] == "home"
    assert "channel" not in payload and "response_url" not in payload


def test_view_submission_body() -> None:
    values = {"b": {"a": {"type": "plain_text_input", "value": "hi"}}}
    body = view_submission_body(user_id="UALICE", user_name="alice", team_id="T0SIM", view={
        "id": "V9", "callback_id": "new_usecase", "private_metadata": "COPS",
        "state": {"values": values}})
    payload = json.loads(form(body)["payload"])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "new_usecase"
    assert payload["view"]["private_metadata"] == "COPS"
    assert payload["view"]["state"]["values"] == values


def test_event_body_envelope() -> None:
    event = {"type": "app_home_opened", "user": "UALICE", "tab": "home"}
    parsed = json.loads(event_body(event=event, team_id="T0SIM", api_app_id="A0SIM",
                                   event_id="Ev1", event_time=123))
    assert parsed["type"] == "event_callback"
    assert (parsed["event"], parsed["event_id"], parsed["event_time"]) == (event, "Ev1", 123)
    assert parsed["team_id"] == "T0SIM" and parsed["api_app_id"] == "A0SIM"


USERS = {"bob": FakeUser("UBOB", "bob", "Bob"), "alice": FakeUser("UALICE", "alice", "Alice")}
CHANNELS = {"ops": FakeChannel("COPS", "ops")}


def esc(text: str) -> str:
    groups = {"release-managers": ("SRM", "release-managers")}
    return escape_mentions(text, USERS.get, CHANNELS.get, groups.get)


def test_escape_mentions_known_names() -> None:
    assert esc("owner=@bob channel=#ops") == "owner=<@UBOB|bob> channel=<#COPS|ops>"
    assert esc("@alice, @bob.") == "<@UALICE|alice>, <@UBOB|bob>."
    assert esc("ping @release-managers") == "ping <!subteam^SRM|@release-managers>"
    assert esc("hey @here") == "hey <!here>"


def test_escape_mentions_leaves_the_rest_alone() -> None:
    assert esc("@nobody in #nowhere") == "@nobody in #nowhere"
    assert esc("mail bob@ops.com or a@bob") == "mail bob@ops.com or a@bob"
    assert esc("see https://x.com/#ops and issue#ops") == "see https://x.com/#ops and issue#ops"
    assert esc("<@UBOB|bob> <#COPS|ops>") == "<@UBOB|bob> <#COPS|ops>"
    assert esc('"@bob" (#ops)') == '"<@UBOB|bob>" (<#COPS|ops>)'
