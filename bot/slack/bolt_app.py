"""The bolt app the bot answers Slack with, for this one workspace and its bot token."""

from __future__ import annotations

import os

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

OAUTH_ENV = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")


def bolt_app(client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    """Bolt for this one workspace, with its bot token. SLACK_CLIENT_ID and SLACK_CLIENT_SECRET
    turn on the dashboard's Sign in with Slack; bolt, seeing both in the environment, would turn
    itself into a multi-workspace OAuth app, drop the bot token and refuse every request for want
    of an installation. So it is built with them out of its sight (construction is synchronous:
    nothing else runs meanwhile)."""
    hidden = {name: os.environ.pop(name) for name in OAUTH_ENV if name in os.environ}
    try:
        return AsyncApp(name="bizdevops", client=client, signing_secret=signing_secret or None,
            # Socket Mode has no signatures; in HTTP mode handlers/slack_http.py verifies them
            # (with a window the same both ways) and checks the payload's shape before bolt
            # parses it.
            request_verification_enabled=False, raise_error_for_unhandled_request=False,
            # Listeners answer in their ack, after their work: no need for bolt to poll for the
            # ack meanwhile. What may take longer runs in `background`, after the ack.
            process_before_response=True,
        )
    finally:
        os.environ.update(hidden)
