"""Durations in words for people ("2 weeks 3 days", "5 minutes")."""

from __future__ import annotations

from datetime import timedelta

_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def humanize(delta: timedelta, *, parts: int = 2) -> str:
    """The largest ``parts`` units of ``delta``; "less than a second" for tiny values."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "less than a second"
    out: list[str] = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count} {name}{'s' if count != 1 else ''}")
        elif out:
            break  # "2 weeks 3 hours" reads wrong: stop at the first gap
        if len(out) == parts:
            break
    return " ".join(out)
