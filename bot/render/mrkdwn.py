"""Slack mrkdwn: escaping, links and cutting text without breaking an entity."""

from __future__ import annotations

import re

from bot.domain.safe_text import web_url

ELLIPSIS = "…"

# What must stay whole when mrkdwn is cut: an entity (<@U1>, <#C1>, <!here>, <url|label>), an
# escape (&amp; &lt; &gt;, or a numeric one), or else one character.
_ATOM = re.compile(r"<[^<>\n]*>|&(?:[A-Za-z]+|#[0-9]+|#[xX][0-9A-Fa-f]+);|.", re.DOTALL)
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def escape(text: str) -> str:
    """Neutralise user text for mrkdwn: no pings, links or entities sneak through."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str, limit: int) -> str:
    """Slack mrkdwn (mentions, links, escapes kept as they are) on one line of at most ``limit``
    characters: line breaks become spaces, and a cut ends in "…" between two entities or escapes,
    never inside one (a mention cut in half would show as text, an escape as a stray ``&am``)."""
    flat = _LINE_BREAKS.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    kept, room = [], limit - len(ELLIPSIS)
    for atom in _ATOM.finditer(flat):
        if len(atom.group()) > room:
            break
        kept.append(atom.group())
        room -= len(atom.group())
    return "".join(kept).rstrip() + ELLIPSIS


def unescape(text: str) -> str:
    """The inverse of :func:`escape`: a domain message shown as plain text (a terminal)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link(url: str | None, label: str) -> str:
    """``<url|label>`` with both escaped, or "" when ``url`` is not a safe web URL.

    The one place links are built: a URL stored before it was checked is checked again here.
    """
    safe = web_url(url)
    return f"<{escape(safe)}|{escape(label)}>" if safe else ""
