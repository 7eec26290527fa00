"""Digest schedules: next fire times (a big table, arq style), DST, friendly errors, missed digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.schedule import Schedule, ScheduleError, missed_fire, parse_schedule
from bot.domain.usecases import DomainError
from bot.render.metric_refusals import CRON_EXAMPLE as EXAMPLE
from bot.render.refusals import said
from bot.render.schedule_words import schedule_words

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ── next fire times ────────────────────────────────────────────────────────────────────────
# (cron, zone, after [UTC], next fire [UTC])

NEXT_FIRE = [
    # weekday mornings
    ("0 9 * * mon-fri", "UTC", "2026-03-05 12:00", "2026-03-06 09:00"),
    ("0 9 * * mon-fri", "UTC", "2026-03-06 08:59:59", "2026-03-06 09:00"),
    ("0 9 * * mon-fri", "UTC", "2026-03-06 09:00", "2026-03-09 09:00"),  # strictly after
    ("0 9 * * mon-fri", "UTC", "2026-03-06 09:00:00.000001", "2026-03-09 09:00"),
    ("0 9 * * mon-fri", "UTC", "2026-03-07 09:00", "2026-03-09 09:00"),  # Saturday
    ("0 9 * * MON-FRI", "UTC", "2026-03-07 09:00", "2026-03-09 09:00"),
    ("0 9 * * monday-friday", "UTC", "2026-03-07 09:00", "2026-03-09 09:00"),
    ("0 9 * * 1-5", "UTC", "2026-03-07 12:00", "2026-03-09 09:00"),  # crontab: 1 = Monday
    ("0 9 * * 5", "UTC", "2026-03-02 12:00", "2026-03-06 09:00"),  # 5 = Friday
    ("0 9 * * 0", "UTC", "2026-03-09 12:00", "2026-03-15 09:00"),  # 0 = Sunday
    ("0 9 * * 7", "UTC", "2026-03-09 12:00", "2026-03-15 09:00"),  # 7 = Sunday too
    ("0 9 * * sun", "UTC", "2026-03-09 12:00", "2026-03-15 09:00"),
    ("0 9 * * fri-sun", "UTC", "2026-03-07 09:00", "2026-03-08 09:00"),
    ("0 9 * * 5-7", "UTC", "2026-03-08 09:00", "2026-03-13 09:00"),
    ("0 9 * * */2", "UTC", "2026-03-09 00:00", "2026-03-10 09:00"),  # sun, tue, thu, sat
    ("30 8 * * mon,wed,fri", BERLIN, "2026-03-03 00:00", "2026-03-04 07:30"),
    ("0 9 * * mon-fri", BERLIN, "2026-03-06 08:00", "2026-03-09 08:00"),
    ("0 9 * * mon-fri", BERLIN, "2026-06-05 07:00", "2026-06-08 07:00"),  # summer time
    ("0 9,17 * * *", BERLIN, "2026-03-02 09:00", "2026-03-02 16:00"),
    ("0 9-17 * * mon-fri", "UTC", "2026-03-06 17:00", "2026-03-09 09:00"),
    # hourly and every other hour
    ("0 * * * *", "UTC", "2026-03-02 10:00", "2026-03-02 11:00"),
    ("15 * * * *", "UTC", "2026-03-02 10:20", "2026-03-02 11:15"),
    ("15 */2 * * *", "UTC", "2026-03-02 10:20", "2026-03-02 12:15"),
    ("0 * * * *", "Asia/Kolkata", "2026-03-02 10:00", "2026-03-02 10:30"),  # +05:30
    # monthly
    ("0 9 1 * *", "UTC", "2026-01-15 00:00", "2026-02-01 09:00"),
    ("0 9 1 * *", "UTC", "2026-12-01 09:00", "2027-01-01 09:00"),
    ("0 9 31 * *", "UTC", "2026-02-01 00:00", "2026-03-31 09:00"),
    ("0 9 15 * *", BERLIN, "2026-07-15 07:00", "2026-08-15 07:00"),
    ("0 9 1-7 * mon", "UTC", "2026-03-03 00:00", "2026-04-06 09:00"),  # first Monday: both match
    ("0 9 last * *", "UTC", "2026-02-01 00:00", "2026-02-28 09:00"),
    ("0 9 29 2 *", "UTC", "2026-01-01 00:00", "2028-02-29 09:00"),
    # month names
    ("0 9 1 jan *", "UTC", "2026-01-02 00:00", "2027-01-01 09:00"),
    ("0 9 * jan-mar mon", "UTC", "2026-03-31 00:00", "2027-01-04 09:00"),
    ("0 9 1 jan,jul *", "UTC", "2026-01-02 00:00", "2026-07-01 09:00"),
    ("0 9 1 JUL *", "UTC", "2026-01-02 00:00", "2026-07-01 09:00"),
    # zones
    ("0 9 * * *", "Asia/Tokyo", "2026-03-02 00:00", "2026-03-03 00:00"),
    ("0 9 * * *", "Asia/Kolkata", "2026-03-02 00:00", "2026-03-02 03:30"),
    ("0 9 * * *", "America/Los_Angeles", "2026-03-02 00:00", "2026-03-02 17:00"),
    ("0 9 * * *", "Australia/Sydney", "2026-04-03 00:00", "2026-04-03 22:00"),  # AEDT +11
    ("0 9 * * *", "Australia/Sydney", "2026-04-03 22:00", "2026-04-04 23:00"),  # AEST +10 from 5 Apr
    ("0 9 * * *", "Pacific/Kiritimati", "2026-03-02 00:00", "2026-03-02 19:00"),  # +14
    ("0 9 * * *", "europe/berlin", "2026-03-02 00:00", "2026-03-02 08:00"),  # any case
    # DST, Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET
    ("0 9 * * *", BERLIN, "2026-03-28 08:00", "2026-03-29 07:00"),
    ("0 9 * * *", BERLIN, "2026-03-29 07:00", "2026-03-30 07:00"),
    ("0 9 * * *", BERLIN, "2026-10-24 07:00", "2026-10-25 08:00"),
    ("0 9 * * *", BERLIN, "2026-10-25 08:00", "2026-10-26 08:00"),
    ("30 2 * * *", BERLIN, "2026-03-28 01:30", "2026-03-29 01:30"),  # 02:30 missing → 03:30 CEST
    ("30 2 * * *", BERLIN, "2026-03-29 01:30", "2026-03-30 00:30"),
    ("30 2 * * *", BERLIN, "2026-10-24 00:30", "2026-10-25 00:30"),  # first 02:30 (CEST)
    ("30 2 * * *", BERLIN, "2026-10-25 00:30", "2026-10-26 01:30"),  # the repeat is skipped
    ("0 * * * *", BERLIN, "2026-10-25 00:00", "2026-10-25 01:00"),  # hourly: the repeated hour runs
    # DST, America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST
    ("0 9 * * *", NEW_YORK, "2026-03-07 14:00", "2026-03-08 13:00"),
    ("0 9 * * *", NEW_YORK, "2026-03-08 13:00", "2026-03-09 13:00"),
    ("0 9 * * *", NEW_YORK, "2026-10-31 13:00", "2026-11-01 14:00"),
    ("0 9 * * *", NEW_YORK, "2026-11-01 14:00", "2026-11-02 14:00"),
    ("30 2 * * *", NEW_YORK, "2026-03-07 07:30", "2026-03-08 07:30"),  # 02:30 missing → 03:30 EDT
    ("30 2 * * *", NEW_YORK, "2026-03-08 07:30", "2026-03-09 06:30"),
    ("30 2 * * *", NEW_YORK, "2026-10-31 06:30", "2026-11-01 07:30"),  # 02:30 EST, not ambiguous
    ("30 1 * * *", NEW_YORK, "2026-10-31 05:30", "2026-11-01 05:30"),  # first 01:30 (EDT)
    ("30 1 * * *", NEW_YORK, "2026-11-01 05:30", "2026-11-02 06:30"),  # the repeat is skipped
]


@pytest.mark.parametrize(("cron", "tz", "after", "expected"), NEXT_FIRE)
def test_next_fire(cron: str, tz: str, after: str, expected: str) -> None:
    fire = parse_schedule(cron, tz).next_fire(utc(after))
    assert fire == utc(expected)
    assert fire.tzinfo is UTC


def test_next_fire_accepts_any_aware_datetime_and_refuses_naive_ones() -> None:
    schedule = parse_schedule("0 9 * * *", BERLIN)
    local = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(BERLIN))
    assert schedule.next_fire(local) == utc("2026-03-03 08:00")
    with pytest.raises(ValueError, match="naive"):
        schedule.next_fire(datetime(2026, 3, 2, 9, 0))


# ── DST: one digest a day, never two, never none ───────────────────────────────────────────

def local_days(fires: list[datetime], tz: str) -> list[tuple[date, str]]:
    return [(f.astimezone(ZoneInfo(tz)).date(), f.astimezone(ZoneInfo(tz)).strftime("%H:%M"))
            for f in fires]


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, "Australia/Sydney", "UTC"])
def test_a_daily_0900_digest_fires_once_every_day_for_a_whole_year(tz: str) -> None:
    zone = ZoneInfo(tz)
    start, end = datetime(2026, 1, 1, tzinfo=zone), datetime(2027, 1, 1, tzinfo=zone)
    fires = parse_schedule("0 9 * * *", tz).fire_times(start, end)
    days = local_days(fires, tz)
    assert [d for d, _ in days] == [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    assert {t for _, t in days} == {"09:00"}


@pytest.mark.parametrize(("cron", "tz", "change", "expected_local"), [
    ("0 9 * * *", BERLIN, date(2026, 3, 29), ["09:00"] * 5),
    ("0 9 * * *", BERLIN, date(2026, 10, 25), ["09:00"] * 5),
    ("0 9 * * *", NEW_YORK, date(2026, 3, 8), ["09:00"] * 5),
    ("0 9 * * *", NEW_YORK, date(2026, 11, 1), ["09:00"] * 5),
    # in the gap: fires once, at the instant the clock jumps to (03:30 summer time)
    ("30 2 * * *", BERLIN, date(2026, 3, 29), ["02:30", "02:30", "03:30", "02:30", "02:30"]),
    ("30 2 * * *", NEW_YORK, date(2026, 3, 8), ["02:30", "02:30", "03:30", "02:30", "02:30"]),
    # in the overlap: fires once, at the first 02:30 (summer time)
    ("30 2 * * *", BERLIN, date(2026, 10, 25), ["02:30"] * 5),
    ("30 2 * * *", NEW_YORK, date(2026, 11, 1), ["02:30"] * 5),
    ("30 1 * * *", NEW_YORK, date(2026, 11, 1), ["01:30"] * 5),
])
def test_exactly_one_fire_per_day_around_a_dst_change(cron: str, tz: str, change: date,
                                                      expected_local: list[str]) -> None:
    zone = ZoneInfo(tz)
    start = datetime.combine(change - timedelta(days=2), datetime.min.time(), zone)
    end = datetime.combine(change + timedelta(days=3), datetime.min.time(), zone)
    fires = parse_schedule(cron, tz).fire_times(start, end)
    days = local_days(fires, tz)
    assert [d for d, _ in days] == [change + timedelta(days=n) for n in range(-2, 3)]
    assert [t for _, t in days] == expected_local


def test_the_overlap_fire_is_the_first_occurrence() -> None:
    [fire] = parse_schedule("30 2 * * *", BERLIN).fire_times(utc("2026-10-24 22:00"), utc("2026-10-25 22:00"))
    assert fire == utc("2026-10-25 00:30")
    assert fire.astimezone(ZoneInfo(BERLIN)).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(("tz", "day", "hours"), [
    (BERLIN, date(2026, 3, 29), 23), (BERLIN, date(2026, 10, 25), 25),
    (NEW_YORK, date(2026, 3, 8), 23), (NEW_YORK, date(2026, 11, 1), 25),
])
def test_an_hourly_schedule_fires_once_per_real_hour(tz: str, day: date, hours: int) -> None:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), zone) - timedelta(microseconds=1)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone) - timedelta(seconds=1)
    fires = parse_schedule("0 * * * *", tz).fire_times(start, end)
    assert len(fires) == hours
    assert all(b - a == timedelta(hours=1) for a, b in zip(fires, fires[1:], strict=False))


# ── fire_times ─────────────────────────────────────────────────────────────────────────────

def test_fire_times_are_the_half_open_interval_start_excluded_end_included() -> None:
    schedule = parse_schedule("0 9 * * *", "UTC")
    fires = schedule.fire_times(utc("2026-03-02 09:00"), utc("2026-03-05 09:00"))
    assert fires == [utc("2026-03-03 09:00"), utc("2026-03-04 09:00"), utc("2026-03-05 09:00")]
    assert schedule.fire_times(utc("2026-03-02 09:00"), utc("2026-03-03 08:59")) == []
    assert schedule.fire_times(utc("2026-03-05 09:00"), utc("2026-03-02 09:00")) == []


# ── parsing: normalised, friendly errors ───────────────────────────────────────────────────

def test_parse_normalises_spacing_case_quotes_and_zone_spelling() -> None:
    schedule = parse_schedule('  "0  9 * *  MON-FRI" ', " europe/berlin ")
    assert schedule == Schedule("0 9 * * mon-fri", "Europe/Berlin")
    assert (schedule.cron, schedule.tz) == ("0 9 * * mon-fri", "Europe/Berlin")


@pytest.mark.parametrize(("cron", "says"), [
    ("61 * * * *", "`61` is not a valid minute (0–59)"),
    ("0 25 * * *", "`25` is not a valid hour (0–23)"),
    ("0 9 32 * *", "`32` is not a valid day of the month (1–31)"),
    ("0 9 0 * *", "`0` is not a valid day of the month"),
    ("0 9 * 13 *", "`13` is not a valid month (1–12 or jan–dec)"),
    ("0 9 * smarch *", "`smarch` is not a valid month"),
    ("*/0 9 * * *", "`*/0` is not a valid minute"),
    ("0 9 * * funday", "`funday` is not a day of the week: use mon, tue, … sun or 0–7"),
    ("0 9 * * 8", "`8` is not a day of the week"),
    ("0 9 * * fri-mon", "`fri-mon` is not a day of the week"),
    ("0 9 * * mon/0", "`mon/0` is not a day of the week"),
    ("* * *", "`* * *` has 3 fields; a digest schedule has 5: minute hour day month weekday."),
    ("0 9 * *", "has 4 fields"),
    ("0 0 9 * * mon-fri", "has 6 fields; a digest schedule has 5: minute hour day month weekday. "
                          "Seconds and years are not supported."),
    ("0 0 9 * * mon-fri 2026", "has 7 fields"),
    ("", "The schedule is empty."),
    ("0 9 30 2 *", "`0 9 30 2 *` never fires: no date matches it."),
])
def test_a_bad_cron_is_refused_with_what_is_wrong_and_an_example(cron: str, says: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(cron, "UTC")
    message = said(caught.value)
    assert says in message
    assert message.endswith(EXAMPLE)
    assert "`0 9 * * mon-fri` = 09:00 on weekdays" in message


@pytest.mark.parametrize("tz", ["Mars/Base", "", "  ", "../etc/passwd", "Europe/Berlinn", "GMT+25"])
def test_an_unknown_zone_is_refused_with_examples(tz: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 9 * * mon-fri", tz)
    message = said(caught.value)
    assert "time zone" in message
    assert "`Europe/Berlin`" in message and "`UTC`" in message
    if tz == "Mars/Base":
        assert message.startswith("`Mars/Base` is not a time zone I know.")


def test_schedule_error_is_a_domain_error_shown_to_the_user() -> None:
    assert issubclass(ScheduleError, DomainError)
    with pytest.raises(DomainError):
        Schedule("0 9 * *", "UTC")  # direct construction validates too


def test_user_input_echoed_in_an_error_is_escaped_and_clipped() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 9 * * <!channel>", "UTC")
    assert "<!channel>" not in said(caught.value)
    assert "&lt;!channel&gt;" in said(caught.value)
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 9 * * *", "<!here>/" + "x" * 200)
    assert "<!here>" not in said(caught.value)
    assert len(said(caught.value)) < 250


@pytest.mark.parametrize(("cron", "every"), [
    ("* * * * *", "1 minute"),
    ("*/5 * * * *", "5 minutes"),
    ("*/30 * * * *", "30 minutes"),
    ("* 9 * * *", "1 minute"),
    ("0,30 9 * * *", "30 minutes"),
    ("0,59 9,10 * * mon", "1 minute"),
    ("*/15 9-17 * * mon-fri", "15 minutes"),
    ("* 9 1 1 *", "1 minute"),  # even rarely: once a year, a burst
])
def test_a_schedule_firing_more_often_than_hourly_is_refused(cron: str, every: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(cron, "UTC")
    assert "at most once an hour" in said(caught.value)
    assert f"would post a digest every {every};" in said(caught.value)


@pytest.mark.parametrize("cron", ["0 * * * *", "59 * * * *", "0 9-17 * * mon-fri", "30 */2 * * *"])
def test_hourly_is_the_most_often_allowed(cron: str) -> None:
    assert parse_schedule(cron, BERLIN).cron == cron


# ── describe ───────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("cron", "tz", "text"), [
    ("0 9 * * mon-fri", BERLIN, "at 09:00 on Mon–Fri (Europe/Berlin)"),
    ("0 9 * * 1-5", "UTC", "at 09:00 on Mon–Fri (UTC)"),
    ("30 8 * * *", "UTC", "at 08:30 every day (UTC)"),
    ("0 9 * * mon", "UTC", "at 09:00 on Mondays (UTC)"),
    ("0 9 * * 0", "UTC", "at 09:00 on Sundays (UTC)"),
    ("0 9 * * sat,sun", "UTC", "at 09:00 on Sat and Sun (UTC)"),
    ("0 9 * * mon,wed,fri", "UTC", "at 09:00 on Mon, Wed and Fri (UTC)"),
    ("0 9 * * mon-wed,fri", "UTC", "at 09:00 on Mon–Wed and Fri (UTC)"),
    ("0 9,17 * * mon-fri", "UTC", "at 09:00 and 17:00 on Mon–Fri (UTC)"),
    ("0 9 1 * *", "UTC", "at 09:00 on the 1st of every month (UTC)"),
    ("0 9 22 * *", "UTC", "at 09:00 on the 22nd of every month (UTC)"),
    ("0 9 11 * *", "UTC", "at 09:00 on the 11th of every month (UTC)"),
    ("0 9 1 jan *", "UTC", "at 09:00 on the 1st of Jan (UTC)"),
    ("0 9 1 1,7 *", "UTC", "at 09:00 on the 1st of Jan and Jul (UTC)"),
    ("0 9 last * *", "UTC", "at 09:00 on the last day of every month (UTC)"),
    ("0 9 * dec mon-fri", "UTC", "at 09:00 on Mon–Fri in Dec (UTC)"),
    ("15 * * * *", "UTC", "every hour at :15 (UTC)"),
    ("0 9 1-7 * mon", "UTC", "`0 9 1-7 * mon` (UTC)"),  # unusual: the cron itself
    ("0 */2 * * *", "UTC", "`0 */2 * * *` (UTC)"),
])
def test_describe(cron: str, tz: str, text: str) -> None:
    assert schedule_words(parse_schedule(cron, tz)) == text


# ── a digest missed while the bot was down ─────────────────────────────────────────────────

DAILY = parse_schedule("0 9 * * *", "UTC")
HOURLY = parse_schedule("0 * * * *", "UTC")


@pytest.mark.parametrize(("schedule", "last_run", "now", "expected"), [
    (DAILY, None, "2026-03-02 09:30", "2026-03-02 09:00"),  # 30 minutes late: post it
    (DAILY, None, "2026-03-02 09:00", "2026-03-02 09:00"),  # on time
    (DAILY, None, "2026-03-02 09:59:59", "2026-03-02 09:00"),
    (DAILY, None, "2026-03-02 10:00", None),  # an hour late: too late
    (DAILY, None, "2026-03-02 15:00", None),
    (DAILY, None, "2026-03-02 08:59", None),  # not due yet
    (DAILY, "2026-03-01 09:00:04", "2026-03-02 09:30", "2026-03-02 09:00"),  # yesterday's was posted
    (DAILY, "2026-03-02 09:00:04", "2026-03-02 09:30", None),  # posted already: never twice
    (DAILY, "2026-03-02 09:00", "2026-03-02 09:30", None),  # run recorded at the fire time
    (DAILY, "2026-03-02 08:50", "2026-03-02 09:30", "2026-03-02 09:00"),  # /digest now before it
    (DAILY, "2026-02-20 09:00", "2026-03-02 09:10", "2026-03-02 09:00"),  # down for days: once
    (HOURLY, None, "2026-03-02 10:30", "2026-03-02 10:00"),  # only the most recent
    (HOURLY, "2026-03-02 10:00:02", "2026-03-02 10:30", None),
])
def test_missed_fire(schedule: Schedule, last_run: str | None, now: str, expected: str | None) -> None:
    got = missed_fire(schedule, utc(last_run) if last_run else None, utc(now))
    assert got == (utc(expected) if expected else None)


def test_missed_fire_with_a_longer_grace() -> None:
    assert missed_fire(DAILY, None, utc("2026-03-02 11:00"), grace=timedelta(hours=3)) == \
        utc("2026-03-02 09:00")
    assert missed_fire(HOURLY, None, utc("2026-03-02 11:30"), grace=timedelta(hours=3)) == \
        utc("2026-03-02 11:00")


def test_a_missed_digest_is_posted_once_across_restarts() -> None:
    """Start-up, post, crash, start again: the same fire time is never returned twice."""
    last_run: datetime | None = utc("2026-03-01 09:00")
    posted = []
    for minute in (5, 6, 20, 45):
        now = utc("2026-03-02 09:00") + timedelta(minutes=minute)
        if fire := missed_fire(DAILY, last_run, now):
            posted.append(fire)
            last_run = fire
    assert posted == [utc("2026-03-02 09:00")]


def test_missed_fire_across_the_overlap_is_not_repeated() -> None:
    schedule = parse_schedule("30 2 * * *", BERLIN)
    first = missed_fire(schedule, None, utc("2026-10-25 00:40"))
    assert first == utc("2026-10-25 00:30")
    assert missed_fire(schedule, first, utc("2026-10-25 01:40")) is None  # the second 02:30
