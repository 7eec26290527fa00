from __future__ import annotations

import pytest
import yaml

from bot.slack.manifest import BOT_SCOPES, SLASH_COMMANDS, build_manifest, manifest_yaml

URL = "https://bot.example.com"
EVENTS = "https://bot.example.com/slack/events"


def test_slash_commands_escape_and_point_at_events_url() -> None:
    commands = build_manifest(URL)["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/usecase", "/deploy", "/metric", "/digest"]
    assert SLASH_COMMANDS == ("/usecase", "/deploy", "/metric", "/digest")
    for command in commands:
        assert command["should_escape"] is True
        assert command["url"] == EVENTS
        assert command["description"]
        assert command["usage_hint"]


def test_bot_scopes_are_exactly_the_needed_ones() -> None:
    expected = {
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "channels:read",
        "groups:read",
        "mpim:read",
        "im:read",
        "usergroups:read",
        "files:write",
        "channels:history",
        "groups:history",
        "im:write",
        "im:history",
    }
    scopes = build_manifest(URL)["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == expected
    assert len(scopes) == len(expected)
    assert tuple(scopes) == BOT_SCOPES


def test_home_tab_events_and_interactivity() -> None:
    manifest = build_manifest(URL)
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is False
    assert manifest["features"]["bot_user"]["always_online"] is True
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {
        "request_url": EVENTS,
        "bot_events": ["app_home_opened"],
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_custom_name() -> None:
    manifest = build_manifest(URL, name="ops-bot")
    assert manifest["display_information"]["name"] == "ops-bot"
    assert manifest["features"]["bot_user"]["display_name"] == "ops-bot"


def test_yaml_round_trips() -> None:
    text = manifest_yaml(URL)
    assert yaml.safe_load(text) == build_manifest(URL)
    # sort_keys=False keeps Slack's documented order.
    assert text.startswith("_metadata:")


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "", "https://", "http:///path"])
def test_bad_url_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        build_manifest(url)


def test_trailing_slash_stripped() -> None:
    manifest = build_manifest("https://bot.example.com/")
    assert manifest["settings"]["interactivity"]["request_url"] == EVENTS
    assert manifest["features"]["slash_commands"][0]["url"] == EVENTS


def test_http_with_port_and_path_prefix() -> None:
    manifest = build_manifest("http://localhost:3000/bot/")
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "http://localhost:3000/bot/slack/events"
    )
