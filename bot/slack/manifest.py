"""Slack app manifest for `bizdevops manifest --url https://HOST` (or `--socket-mode`).

One paste into https://api.slack.com/apps ("From an app manifest") creates the app with every
command, scope and URL the bot needs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from handlers.grammar.table import COMMANDS

EVENTS_PATH = "/slack/events"
SIGN_IN_CALLBACK_PATH = "/login/callback"  # where Sign in with Slack sends the browser back

SLASH_COMMANDS: tuple[str, ...] = tuple(g.name for g in COMMANDS)

BOT_SCOPES: tuple[str, ...] = (
    # Slash commands /usecase, /deploy, /metric, /digest.
    "commands",
    # chat.postMessage / chat.update / chat.postEphemeral for replies, deployment messages, digests.
    "chat:write",
    # Post announcements in a use case's home channel without being invited first.
    "chat:write.public",
    # users.info / users.list to resolve a plain @name to a user ID.
    "users:read",
    # conversations.list to resolve #channel; conversations.info and conversations.members to
    # learn whether a use case's home channel is private and who may see it (public channels).
    "channels:read",
    # Same for private channels.
    "groups:read",
    # Same for group DMs and direct messages a use case was created in: only the people in
    # them see it.
    "mpim:read",
    "im:read",
    # usergroups.users.list to expand approver user groups.
    "usergroups:read",
    # files_upload_v2 (files.getUploadURLExternal + files.completeUploadExternal) for metric charts.
    "files:write",
    # conversations.history / .replies with metadata: after a crash or a lost answer, the outbox
    # checks whether a message reached Slack before posting it again (never twice).
    "channels:history",
    "groups:history",
    # The same for a direct message (posted to the user's id): conversations.open gives the DM's
    # id, whose history is read.
    "im:write",
    "im:history",
    # link_shared: a link to the dashboard (features.unfurl_domains) was pasted in a
    # conversation; chat.unfurl previews it as the use case's summary.
    "links:read",
    "links:write",
)

BOT_EVENTS: tuple[str, ...] = ("app_home_opened", "link_shared")

def _base_url(url: str) -> str:
    """Validate the public base URL (https only: Slack refuses other request URLs) and drop a
    trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme == "http" and parts.hostname:
        raise ValueError(
            f"invalid --url {url!r}: Slack only accepts https:// request URLs; serve the bot behind "
            "TLS (a reverse proxy or a tunnel), or use --socket-mode, which needs no URL"
        )
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"invalid --url {url!r}: expected https://HOST, e.g. https://bot.example.com"
        )
    return url.strip().rstrip("/")


def _slash_commands(events_url: str | None) -> list[dict[str, Any]]:
    return [
        {
            "command": grammar.name,
            **({"url": events_url} if events_url else {}),  # Socket Mode: over the socket
            "description": grammar.description,
            "usage_hint": grammar.usage_hint(),
            # Users, channels and groups then arrive as <@U…|name>, <#C…|name>, <!subteam^S…>.
            "should_escape": True,
        }
        for grammar in COMMANDS
    ]


def build_manifest(url: str | None, *, socket_mode: bool = False,
                   name: str = "bizdevops-bot") -> dict[str, Any]:
    """Return the Slack app manifest for an app served at `url` (its public https base URL),
    or, with ``socket_mode``, for one that connects out over Socket Mode (no URL at all)."""
    if socket_mode == bool(url):
        raise ValueError("give either --url https://HOST or --socket-mode")
    base = None if socket_mode else _base_url(str(url))
    events_url = None if base is None else base + EVENTS_PATH
    at = {} if events_url is None else {"request_url": events_url}
    # The dashboard is served where the events are: links to its host unfurl.
    unfurl = {} if base is None else {"unfurl_domains": [urlsplit(base).hostname]}
    # The dashboard's Sign in with Slack comes back here (it needs the public URL too).
    redirects = {} if base is None else {"redirect_urls": [base + SIGN_IN_CALLBACK_PATH]}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "BizDevOps chat-ops: use cases, staged deployments, approvals, KPIs",
            "background_color": "#2c2d30",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False},
            "slash_commands": _slash_commands(events_url),
            **unfurl,
        },
        "oauth_config": {**redirects, "scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {**at, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, **at},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str | None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML, keys in Slack's documented order."""
    return yaml.safe_dump(
        build_manifest(url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True,
        default_flow_style=False
    )
