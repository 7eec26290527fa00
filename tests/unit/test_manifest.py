from __future__ import annotations

import re
from pathlib import Path

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
        "links:read",
        "links:write",
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
        "bot_events": ["app_home_opened", "link_shared"],
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


@pytest.mark.parametrize("url", [URL, "https://Bot.Example.com:8443/bizdevops/"])
def test_links_to_the_dashboard_unfurl_on_its_host(url: str) -> None:
    """The dashboard is served where Slack sends events: links to that host are the app's to
    unfurl (``link_shared`` with ``links:read``, ``chat.unfurl`` with ``links:write``)."""
    manifest = build_manifest(url)
    assert manifest["features"]["unfurl_domains"] == ["bot.example.com"]
    assert "link_shared" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"links:read", "links:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


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
    with pytest.raises(ValueError, match="https://HOST|--url https://HOST or --socket-mode"):
        build_manifest(url)


@pytest.mark.parametrize("url", ["http://bot.example.com", "http://localhost:3000/bot/"])
def test_plain_http_is_refused_because_slack_refuses_it(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        build_manifest(url)
    assert str(refused.value) == (
        f"invalid --url {url!r}: Slack only accepts https:// request URLs; serve the bot behind "
        "TLS (a reverse proxy or a tunnel), or use --socket-mode, which needs no URL")


def test_socket_mode_needs_no_url_and_names_none() -> None:
    manifest = build_manifest(None, socket_mode=True)

    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["event_subscriptions"] == {"bot_events": ["app_home_opened", "link_shared"]}
    assert "unfurl_domains" not in manifest["features"]  # no URL: no host to unfurl
    assert settings["interactivity"] == {"is_enabled": True}
    for command in manifest["features"]["slash_commands"]:
        assert "url" not in command and command["should_escape"] is True
    assert manifest["oauth_config"] == {"scopes": build_manifest(URL)["oauth_config"]["scopes"]}
    assert "url" not in manifest_yaml(None, socket_mode=True).replace("usage_hint", "")
    with pytest.raises(ValueError, match="either"):
        build_manifest(URL, socket_mode=True)


def test_the_usage_hints_name_every_verb_of_the_command_table() -> None:
    """What Slack shows while typing: every verb of handlers/grammar/table.py, and its keys."""
    from handlers.grammar.table import COMMANDS

    hints = {c["command"]: c["usage_hint"] for c in build_manifest(URL)["features"]["slash_commands"]}
    for grammar in COMMANDS:
        starts = {way.split()[1] for line in grammar.usage.values() for way in line.split("  |  ")
                  if len(way.split()) > 1}  # the verb, or /deploy's <slug>
        assert len(starts) > 3, grammar.name
        ways = hints[grammar.name].split(" | ")
        assert starts | {"help"} <= {way.split()[0] for way in ways}, grammar.name
    assert 'override="<reason>"' in hints["/deploy"]
    for verb in ("freeze", "unfreeze", "freezes"):
        assert f" | {verb} " in hints["/deploy"]
    assert " | sources " in hints["/metric"] and " | pull " in hints["/metric"]
    assert " | preview | " in hints["/digest"]


@pytest.mark.parametrize("url", ["https://bot.example.com", "https://bot.example.com:8443/bot/"])
def test_sign_in_with_slack_comes_back_to_the_dashboards_callback(url: str) -> None:
    """The Redirect URL the dashboard's Sign in with Slack needs (OAuth & Permissions), at the
    same base as the request URLs; Socket Mode has no URL, so the manifest names none."""
    manifest = build_manifest(url)
    events = manifest["settings"]["interactivity"]["request_url"]
    assert manifest["oauth_config"]["redirect_urls"] == [
        events.removesuffix("/slack/events") + "/login/callback"]
    assert "redirect_urls" not in build_manifest(None, socket_mode=True)["oauth_config"]
    assert "redirect_urls:\n  - " + url.rstrip("/") + "/login/callback" in manifest_yaml(url)


def test_trailing_slash_stripped() -> None:
    manifest = build_manifest("https://bot.example.com/")
    assert manifest["settings"]["interactivity"]["request_url"] == EVENTS
    assert manifest["features"]["slash_commands"][0]["url"] == EVENTS


def test_https_with_port_and_path_prefix() -> None:
    manifest = build_manifest("https://bot.example.com:8443/bot/")
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "https://bot.example.com:8443/bot/slack/events"
    )


def test_the_readme_says_why_for_every_scope() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    explained = {scope for row in re.findall(r"^ *\| (`[^|]+`) \| \S", readme, re.MULTILINE)
                 for scope in re.findall(r"`([a-z:._]+)`", row)}
    assert set(BOT_SCOPES) <= explained
