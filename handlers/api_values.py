"""What /api/v1's request bodies share: a refusal of their shape (400) and the bounds on a time
a client gives (a point's `at`, a change's `changed_at`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_AHEAD = timedelta(seconds=60)  # clocks drift a little; a time from further ahead is a mistake
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


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
