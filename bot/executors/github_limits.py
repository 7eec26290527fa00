"""GitHub's rate limits as the github-actions executor reads them: pure functions over an
answer's status and headers.

A header is a number from the network: it can say ``Retry-After: 99999999999999`` (no calendar
holds that day) or a reset an hour in the past. What it says is clamped to what a stage could
ever wait, and said in words a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

SECONDARY_LIMIT_WAIT = 60.0  # GitHub's advice for a 429 that says nothing about when
# The longest wait believed: GitHub's primary limit resets every hour; the slack covers a clock
# that runs behind GitHub's. A header asking for more is broken, or means "not today".
MAX_WAIT = 2 * 3600.0
_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() takes "²", int() not
# "Try again now" is no wait at all: a step that hears it again and again would call GitHub
# thousands of times a second. Every wait lasts at least a floor that doubles with each rate-
# limited answer of the step (1, 2, 4 … 60 s), and a step takes only so many before it gives up.
FIRST_FLOOR, LAST_FLOOR = 1.0, 60.0
RATE_LIMIT_BUDGET = 10


@dataclass(frozen=True)
class Limit:
    """GitHub asked us to wait until ``until`` (Unix seconds); ``clamped`` when it asked for
    longer than :data:`MAX_WAIT`."""

    until: float
    clamped: bool = False


def rate_limit(status: int, headers: Mapping[str, str], now: float) -> Limit | None:
    """The rate limit an answer reports, or None when it is not one (a 403 without an empty
    quota is a missing permission)."""
    if status not in (403, 429):
        return None
    retry_after = _number(headers.get("Retry-After", ""))
    reset = _number(headers.get("x-ratelimit-reset", ""))
    if retry_after is not None:
        until = now + retry_after
    elif headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        until = reset
    elif status == 429:
        until = now + SECONDARY_LIMIT_WAIT
    else:
        return None
    if until > now + MAX_WAIT:
        return Limit(now + MAX_WAIT, clamped=True)
    return Limit(until)


def floor(limited: int) -> float:
    """The shortest wait after the step's ``limited``-th rate-limited answer (1-based)."""
    return min(LAST_FLOOR, FIRST_FLOOR * 2 ** min(max(0, limited - 1), 16))


def until_words(until: float, *, clamped: bool = False) -> str:
    """"14:03:07 UTC", or "at least 14:03:07 UTC" for a clamped wait (never a day away, so the
    time of day is enough)."""
    shown = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
    return f"at least {shown}" if clamped else shown


def _number(text: str) -> float | None:
    """Seconds or a Unix time; an absurdly long number reads as "later than any wait"."""
    text = text.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    if text.isascii() and text.isdigit():
        return float("inf")
    return None
