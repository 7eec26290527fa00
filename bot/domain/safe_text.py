"""What may be stored and shown of text from outside (users, executors, Slack): a URL that can
sit safely inside a link, and no control characters. Pure checks every layer uses; the words
and the mrkdwn they go into are bot.render's (``bot.render.mrkdwn``)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

MAX_URL = 2000  # longer than any executor's or Slack's link; a bound on what is stored and shown


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


# Unicode's category Cc is exactly U+0000–U+001F and U+007F–U+009F; tab, LF and CR are allowed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first control character in ``text`` (NUL, ESC, DEL, C1 ...), other than a line
    break or a tab; None if there is none."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def without_controls(text: str) -> str:
    """``text`` with its control characters dropped (NUL cannot even be stored on PostgreSQL);
    line breaks and tabs stay."""
    return _CONTROL.sub("", text)
