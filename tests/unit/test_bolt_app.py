"""Turning on the dashboard's Sign in with Slack (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) must
not turn bolt into a multi-workspace OAuth app that drops the bot token (found by
benchmarks/dashboard_pages.py: every slash command refused, no digest posted)."""

from __future__ import annotations

import os

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt_app import bolt_app


@pytest.fixture
def sign_in_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")


@pytest.mark.usefixtures("sign_in_on")
def test_bolt_stays_a_one_workspace_app_with_sign_in_on() -> None:
    app = bolt_app(AsyncWebClient(token="xoxb-bot"), "signing-secret")
    assert app.oauth_flow is None and app.installation_store is None
    assert app.client.token == "xoxb-bot"
    assert (os.environ["SLACK_CLIENT_ID"], os.environ["SLACK_CLIENT_SECRET"]) == (
        "1234.5678", "client-secret")  # put back for the sign-in settings


@pytest.mark.usefixtures("sign_in_on")
def test_bolt_left_to_itself_would_go_oauth() -> None:
    """Why bolt_app hides them: bolt reads them from the environment by itself."""
    app = AsyncApp(client=AsyncWebClient(token="xoxb-bot"), signing_secret="signing-secret")
    assert app.oauth_flow is not None and app.installation_store is not None
