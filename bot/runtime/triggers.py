"""An APScheduler trigger that asks our own schedules for fire times (digests' cron, KPIs'
``every`` or cron), so the arithmetic stays in the pure domain and is the same in every process."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.triggers.base import BaseTrigger

_TICK = timedelta(microseconds=1)


class FireTimes(Protocol):
    def next_fire(self, after: datetime) -> datetime: ...


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    def __init__(self, schedule: FireTimes) -> None:
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # Strictly after the previous fire time (never the same one twice); a time due right
        # now still counts.
        after = max(previous_fire_time, now - _TICK) if previous_fire_time else now - _TICK
        return self.schedule.next_fire(after)
