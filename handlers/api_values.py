"""What /api/v1's request bodies share: a refusal of their shape (400) and the bounds on a time
a client gives (a point's `at`, a change's `changed_at`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

MAX_AHEAD = timedelta(seconds=60)  # clocks drift a little; a time from further ahead is a mistake
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# RFC 3339: a date, "T", a time and an offset (Z or ±hh:mm); no local times.
RFC3339_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
                        r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})")


class BadInput(Exception):
    """The body's shape is wrong; the message names the field and how to write it."""


def plausible(at: datetime, now: datetime, field: str) -> datetime:
    """``at`` (aware, UTC) unless it is before 2000 or ahead of the bot's clock."""
    if at < EARLIEST:
        raise BadInput(f"{field}: is before {EARLIEST.year}")
    if at > now + MAX_AHEAD:
        raise BadInput(f"{field}: is more than {MAX_AHEAD.seconds} s ahead of the bot's clock "
                       f"({now:%Y-%m-%dT%H:%M:%SZ})")
    return at


def rfc3339(raw: object, field: str) -> datetime:
    """``raw`` as an aware UTC time, if it is an RFC 3339 one with its offset."""
    if not isinstance(raw, str) or not RFC3339_RE.fullmatch(raw):
        raise BadInput(f"{field}: expected an RFC 3339 time with an offset, e.g. 2026-11-27T09:00:00Z")
    try:
        return datetime.fromisoformat(raw.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadInput(f"{field}: {raw[:40]!r} is no time there is") from None
