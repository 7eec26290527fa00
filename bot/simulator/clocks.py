"""The simulator's clocks: moved on purpose (`time +6w`), never by a second scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock, ManualClock, SystemClock


class OffsetClock:
    """Real time plus a jump the shell user asked for (`time +6w`), to see time-based flags."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self.offset = timedelta()

    def now(self) -> datetime:
        return self._base.now() + self.offset


def movable(clock: Clock) -> bool:
    return isinstance(clock, OffsetClock | ManualClock)


def move_to(clock: Clock, at: datetime) -> None:
    """Set ``clock`` to read ``at`` (the shell's clock, or a test's ManualClock)."""
    if isinstance(clock, OffsetClock):
        clock.offset += at - clock.now()
    elif isinstance(clock, ManualClock):
        clock.advance(at - clock.now())
    else:
        raise TypeError("this simulator's clock can't be moved")
