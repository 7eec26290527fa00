"""Slack mrkdwn: escaping, links and what may appear in text — pure functions every layer uses
(the domain writes its details in mrkdwn, the renderer its messages, the parsers check input)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

MAX_URL = 2000  # longer than any executor's or Slack's link; a bound on what is stored and shown
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


def web_url(value: object) -> str | None:
    """``value`` if it is an http(s) URL that can sit inside a Slack link, else None.

    A link is ``<url|label>``: a URL must not be able to close it (``>``), open another (``<``)
    or bring its own label (``|``); whitespace, control and invisible format characters have no
    place in one.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL:
        return None
    if any(ch in "<>|" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def link(url: str | None, label: str) -> str:
    """``<url|label>`` with both escaped, or "" when ``url`` is not a safe web URL.

    The one place links are built: a URL stored before it was checked is checked again here.
    """
    safe = web_url(url)
    return f"<{escape(safe)}|{escape(label)}>" if safe else ""


def control_character(text: str) -> str | None:
    """The first control character in ``text`` (NUL, ESC, DEL, C1 ...), other than a line
    break or a tab; None if there is none."""
    return next((ch for ch in text if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc"),
                None)


def without_controls(text: str) -> str:
    """``text`` with its control characters dropped (NUL cannot even be stored on PostgreSQL);
    line breaks and tabs stay."""
    if control_character(text) is None:
        return text
    return "".join(ch for ch in text if ch in "\n\r\t" or unicodedata.category(ch) != "Cc")
