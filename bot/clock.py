"""Time as a dependency: services ask a clock, tests and the simulator can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, simulated weeks in the shell)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


SIGNATURE_WINDOW = 300  # seconds a signed request (Slack's or a callback) stays fresh, either way


def within_window(timestamp: int, now: float) -> bool:
    """Timestamps are whole seconds, so compare whole seconds: exactly 300 s old passes just as
    exactly 300 s ahead does, and 301 s fails both ways (wall time, not a service's Clock)."""
    return abs(int(now) - timestamp) <= SIGNATURE_WINDOW
