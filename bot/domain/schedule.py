"""Digest schedules: a 5-field cron in an IANA time zone, its fire times, the digest missed while down.

Pure apart from APScheduler's ``CronTrigger``, used only as the cron arithmetic (no scheduler, no
clock): every function takes the time it needs. Datetimes in and out are aware; results are UTC.

Cron dialect: ``minute hour day month weekday`` with names (``mon-fri``, ``jan``), lists, ranges and
steps. Weekday numbers follow crontab (0 and 7 = Sunday); they are translated to names because
APScheduler 3 counts 0 as Monday. Day of the month and weekday must *both* match when both are given
(``0 9 1-7 * mon`` = the first Monday of the month), as in APScheduler and arq, unlike Vixie cron.

Daylight saving time -- fire times are wall-clock times in the schedule's zone:

* a daily 09:00 fires once every day, at 09:00 local, on both sides of a change;
* a wall time that does not exist (02:30 on the spring-forward day in Europe/Berlin or
  America/New_York) fires once, at the instant the clock skips to (03:30 local);
* a wall time that happens twice (02:30 on the fall-back day in Europe/Berlin, 01:30 in
  America/New_York) fires once, at its first occurrence -- unless the hour field is ``*``: an
  hourly digest fires in each real hour, the repeated one included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

from bot.domain.usecases import DomainError

MIN_INTERVAL = timedelta(hours=1)
DEFAULT_GRACE = timedelta(hours=1)
_PROBE_FROM = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so validation never reads the clock
_PROBE_FIRES = 12
_TICK = timedelta(microseconds=1)
_FIELDS = ("minute", "hour", "day", "month")  # and the weekday, checked apart
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering, 7 = sun too
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class ScheduleError(DomainError):
    """A schedule that can't be used: the key says why, the facts what (the cron, the zone
    ...); bot/render/metric_refusals.py words it with an example."""


@dataclass(frozen=True)
class Schedule:
    """A valid digest schedule. Construction validates (raises :class:`ScheduleError`)."""

    cron: str
    tz: str
    # Digests come at most once an hour; a KPI's cron may fire every minute.
    min_interval: timedelta = field(default=MIN_INTERVAL, compare=False, repr=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _trigger: CronTrigger = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = self.cron.lower().split()
        zone = _zone(self.tz)
        object.__setattr__(self, "cron", " ".join(fields))
        object.__setattr__(self, "tz", zone.key)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_trigger", _trigger(fields, zone))
        _check_frequency(self)

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after``, in UTC."""
        at = _utc(after)
        while True:
            fire = self._trigger.get_next_fire_time(None, at + _TICK)
            if fire is None:
                raise ScheduleError("schedule_never_fires", cron=self.cron)
            fire = fire.astimezone(UTC)
            if fire > at and not self._repeated_wall_time(fire):
                return fire
            at = max(fire, at + _TICK)

    def fire_times(self, start: datetime, end: datetime, *,
                   limit: int | None = None) -> list[datetime]:
        """Every fire time in ``(start, end]``, in UTC, oldest first; at most ``limit`` of them
        (a cron every minute fires 20,160 times in two weeks, each found at some cost)."""
        out: list[datetime] = []
        at, end = _utc(start), _utc(end)
        while (limit is None or len(out) < limit) and (fire := self.next_fire(at)) <= end:
            out.append(fire)
            at = fire
        return out

    def _repeated_wall_time(self, fire: datetime) -> bool:
        # zoneinfo marks the second occurrence of an ambiguous wall time with fold=1.
        return self.cron.split()[1] != "*" and fire.astimezone(self._zone).fold == 1


def parse_schedule(cron: str, tz: str) -> Schedule:
    """``/digest schedule "<cron>" tz=<zone>`` → a :class:`Schedule`, or a friendly ScheduleError."""
    return Schedule(cron.strip().strip("\"'“”"), tz.strip())


def missed_fire(schedule: Schedule, last_run: datetime | None, now: datetime,
                grace: timedelta = DEFAULT_GRACE) -> datetime | None:
    """The latest fire time in ``(max(last_run, now - grace), now]``, or None.

    On start-up: a digest missed while the bot was down is posted once if it is less than
    ``grace`` late; a fire time at or before ``last_run`` was handled already.
    """
    now = _utc(now)
    floor = now - grace
    if last_run is not None:
        floor = max(floor, _utc(last_run))
    fires = schedule.fire_times(floor, now) if floor < now else []
    return fires[-1] if fires else None


# ── validation ─────────────────────────────────────────────────────────────────────────────

def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: schedules work with aware datetimes")
    return at.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    if not name:
        raise ScheduleError("schedule_zone_empty")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        match = [z for z in available_timezones() if z.lower() == name.lower()]
        if match:
            return ZoneInfo(match[0])
    except ValueError:
        pass
    raise ScheduleError("schedule_zone_unknown", zone=name)


def _trigger(fields: list[str], zone: ZoneInfo) -> CronTrigger:
    cron = " ".join(fields)
    if not fields:
        raise ScheduleError("schedule_empty")
    if len(fields) != 5:
        raise ScheduleError("schedule_field_count", cron=cron, count=len(fields), subject="digest")
    for name, value in zip(_FIELDS, fields, strict=False):
        try:
            CronTrigger(timezone=UTC, **{name: value})
        except ValueError:
            raise ScheduleError("schedule_bad_field", field=name, value=value, cron=cron) from None
    days = weekdays(fields[4])
    dow = "*" if len(days) == 7 else ",".join(_CRON_DAYS[d] for d in sorted(days, key=monday_first))
    return CronTrigger(minute=fields[0], hour=fields[1], day=fields[2], month=fields[3],
                       day_of_week=dow, timezone=zone)


def _check_frequency(schedule: Schedule) -> None:
    fires = [schedule.next_fire(_PROBE_FROM)]
    for _ in range(_PROBE_FIRES - 1):
        fires.append(schedule.next_fire(fires[-1]))
    gap = min(b - a for a, b in zip(fires, fires[1:], strict=False))
    if gap < schedule.min_interval:
        raise ScheduleError("schedule_too_often", cron=schedule.cron, gap=gap)


def monday_first(day: int) -> int:
    """A sort key putting crontab day numbers in a Monday-first week."""
    return (day - 1) % 7


def weekdays(expr: str) -> set[int]:
    """A crontab weekday field → crontab day numbers (0 = Sunday … 6 = Saturday)."""
    days: set[int] = set()
    for item in expr.split(","):
        span, slash, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else 0
        if slash and step < 1:
            raise _bad_weekday(item)
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _weekday(first, item), _weekday(last, item)
            high = 7 if high == 0 and low > 0 else high  # "fri-sun"
            if low > high:
                raise _bad_weekday(item)
        else:
            low = _weekday(span, item)
            high = 7 if slash else low
        days.update(d % 7 for d in range(low, high + 1, step or 1))
    return days


def _weekday(token: str, item: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if len(token) >= 3:
        for number, name in enumerate(_DAY_NAMES):
            if name.startswith(token):
                return number
    raise _bad_weekday(item)


def _bad_weekday(item: str) -> ScheduleError:
    return ScheduleError("schedule_bad_weekday", item=item)


# ── the cron's fields, read ───────────────────────────────────────────────────────────────

def month_numbers(month: str) -> tuple[int, ...] | None:
    """A month field as numbers 1–12: () for ``*``, None for ranges and steps."""
    if month == "*":
        return ()
    numbers = []
    for item in month.split(","):
        if item.isdigit() and 1 <= int(item) <= 12:
            numbers.append(int(item))
        elif item in _MONTHS:
            numbers.append(_MONTHS.index(item) + 1)
        else:
            return None
    return tuple(numbers)
