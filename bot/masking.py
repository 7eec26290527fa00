"""Secrets out of text: what the bot says about an outside system (a KPI source's failure, an
executor's result) can quote a token or a password back, and Slack, the audit trail and the logs
must never show it."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"


def url_secrets(url: str) -> tuple[str, ...]:
    """The user and password in ``url``'s userinfo, raw and decoded: both must be masked."""
    parts = urlsplit(url)
    found = {s for raw in (parts.username, parts.password) if raw for s in (raw, unquote(raw))}
    return tuple(found)


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``; the longest first, so a secret that
    contains another is masked whole."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
