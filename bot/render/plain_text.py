"""Slack mrkdwn as plain text, for readers outside Slack (the deployments API's ``error``, a CI
log): mentions and links become what they name, emphasis markers go, escapes are undone."""

from __future__ import annotations

import re

from bot.render.mrkdwn import unescape

_ENTITY = re.compile(r"<([^<>\n]*)>")
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)([^*_~\n`]*?\S)\1(?![\w*_~])")


def _entity(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label.lstrip("@#") or target[1:])
    if target.startswith("!subteam^"):
        return "@" + (label.lstrip("@") or target[len("!subteam^"):])
    if target.startswith("!"):
        return label or "@" + target[1:].partition("^")[0]
    return f"{label} ({target})" if label and label != target else target


def plain_text(mrkdwn: str) -> str:
    """``<@U1>`` → ``@U1``, ``<url|label>`` → ``label (url)``, ``*bold*`` → ``bold``; code
    spans keep their backticks (they say "type this"). Entities are set aside while emphasis goes,
    so a URL's underscores stay."""
    parked: list[str] = []

    def park(match: re.Match[str]) -> str:
        parked.append(_entity(match))
        return f"\x00{len(parked) - 1}\x00"

    flat = _EMPHASIS.sub(r"\2", _ENTITY.sub(park, mrkdwn))
    return unescape(re.sub(r"\x00(\d+)\x00", lambda m: parked[int(m.group(1))], flat))
