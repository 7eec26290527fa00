"""Slack mrkdwn escaping, shared by the renderer, the domain's messages and the parsers."""

from __future__ import annotations


def escape(text: str) -> str:
    """Neutralise user text for mrkdwn: no pings, links or entities sneak through."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
