"""Freeze windows: the window arithmetic around daylight-saving changes (tables and hypothesis),
which window refuses a deployment, the listing, and ``[[freezes]]`` in the pipeline file."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.freezes import (
    AD_HOC,
    CHAIN_STEPS,
    LISTED_FIRES,
    PIPELINE_FILE,
    FreezeWindow,
    RecurringFreeze,
    active_window,
    boundaries,
    coming_windows,
    freeze_chain,
    listed_windows,
)
from bot.domain.schedule import Schedule
from bot.pipelines.loading import PipelineError, parse_pipelines
from bot.toml_values import PipelineProblem

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
H = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def freeze(cron: str, tz: str = "UTC", duration: timedelta = H, reason: str = "freeze",
           use_cases: frozenset[str] | None = None) -> RecurringFreeze:
    return RecurringFreeze(Schedule(cron, tz, min_interval=timedelta(minutes=1)), duration, reason,
                           use_cases)


def spans(windows: list[FreezeWindow]) -> list[tuple[datetime, datetime]]:
    return [(w.start, w.end) for w in windows]


# ── windows around daylight-saving changes ─────────────────────────────────────────────────
# (cron, zone, duration, [start, end) asked [UTC], windows [(start, end) UTC])

DST_WINDOWS = [
    # Berlin springs forward on 2026-03-29 at 02:00 CET (01:00 UTC): 02:30 does not exist that
    # day, the window starts at the instant the clock skips to (03:30 CEST) and lasts one hour.
    ("30 2 * * *", BERLIN, H, "2026-03-28 00:00", "2026-03-31 00:00",
     [("2026-03-28 01:30", "2026-03-28 02:30"), ("2026-03-29 01:30", "2026-03-29 02:30"),
      ("2026-03-30 00:30", "2026-03-30 01:30")]),
    # Berlin falls back on 2026-10-25 at 03:00 CEST (01:00 UTC): 02:30 happens twice, one window.
    ("30 2 * * *", BERLIN, H, "2026-10-24 00:00", "2026-10-27 00:00",
     [("2026-10-24 00:30", "2026-10-24 01:30"), ("2026-10-25 00:30", "2026-10-25 01:30"),
      ("2026-10-26 01:30", "2026-10-26 02:30")]),
    # New York springs forward on 2026-03-08 at 02:00 EST (07:00 UTC).
    ("30 2 * * *", NEW_YORK, H, "2026-03-07 00:00", "2026-03-10 00:00",
     [("2026-03-07 07:30", "2026-03-07 08:30"), ("2026-03-08 07:30", "2026-03-08 08:30"),
      ("2026-03-09 06:30", "2026-03-09 07:30")]),
    # New York falls back on 2026-11-01 at 02:00 EDT (06:00 UTC): 01:30 twice, one window.
    ("30 1 * * *", NEW_YORK, H, "2026-10-31 00:00", "2026-11-03 00:00",
     [("2026-10-31 05:30", "2026-10-31 06:30"), ("2026-11-01 05:30", "2026-11-01 06:30"),
      ("2026-11-02 06:30", "2026-11-02 07:30")]),
    # An hourly freeze has a window in each real hour, the repeated one included; the one ending
    # exactly at the start asked for and the one starting exactly at its end do not overlap.
    ("0 * * * *", BERLIN, timedelta(minutes=30), "2026-10-24 23:30", "2026-10-25 02:00",
     [("2026-10-25 00:00", "2026-10-25 00:30"), ("2026-10-25 01:00", "2026-10-25 01:30")]),
    # A window that spans the change keeps its real length: 02:00 CET + 3h = 06:00 CEST.
    ("0 2 * * sun", BERLIN, 3 * H, "2026-03-29 00:00", "2026-03-30 00:00",
     [("2026-03-29 01:00", "2026-03-29 04:00")]),
]


@pytest.mark.parametrize(("cron", "tz", "duration", "start", "end", "expected"), DST_WINDOWS)
def test_windows_around_daylight_saving_changes(cron: str, tz: str, duration: timedelta, start: str,
                                                end: str, expected: list[tuple[str, str]]) -> None:
    windows = freeze(cron, tz, duration).windows(utc(start), utc(end))
    assert spans(windows) == [(utc(a), utc(b)) for a, b in expected]
    assert all(w.end - w.start == duration for w in windows)


@pytest.mark.parametrize(("tz", "first_friday", "weeks"), [
    (BERLIN, "2026-03-13", 5), (BERLIN, "2026-10-16", 4), (NEW_YORK, "2026-02-27", 4),
    (NEW_YORK, "2026-10-23", 4),
])
def test_a_weekend_freeze_starts_friday_18_local_every_week(tz: str, first_friday: str,
                                                            weeks: int) -> None:
    zone, weekend = ZoneInfo(tz), freeze("0 18 * * fri", tz, timedelta(days=2, hours=15))
    start = datetime.fromisoformat(first_friday).replace(tzinfo=zone)
    windows = weekend.windows(start, start + timedelta(weeks=weeks))
    local = [w.start.astimezone(zone) for w in windows]
    assert [(d.date(), d.hour, d.minute) for d in local] == [
        ((start + timedelta(weeks=i)).date(), 18, 0) for i in range(weeks)]
    assert all(w.end - w.start == timedelta(hours=63) for w in windows)


@pytest.mark.parametrize(("friday", "ends_local"), [
    ("2026-03-20 17:00", "2026-03-23 09:00"),   # no change: Monday 09:00 CET
    ("2026-03-27 17:00", "2026-03-30 10:00"),   # spring forward: 63 real hours end at 10:00 CEST
    ("2026-10-23 16:00", "2026-10-26 08:00"),   # fall back: at 08:00 CET
])
def test_a_weekend_window_lasts_its_real_duration_across_a_change(friday: str, ends_local: str) -> None:
    weekend = freeze("0 18 * * fri", BERLIN, timedelta(days=2, hours=15))
    (window,) = weekend.windows(utc(friday), utc(friday) + timedelta(minutes=1))
    assert window.start == utc(friday)
    assert window.end.astimezone(ZoneInfo(BERLIN)).replace(tzinfo=None) == datetime.fromisoformat(ends_local)


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2026-05-04 10:00", "2026-05-05 09:00", ["2026-05-04 09:00"]),   # still open at the start
    ("2026-05-04 11:00", "2026-05-05 09:00", []),                     # ended exactly at the start
    ("2026-05-04 11:00", "2026-05-05 09:00:00.000001", ["2026-05-05 09:00"]),
    ("2026-05-04 08:00", "2026-05-06 12:00", ["2026-05-04 09:00", "2026-05-05 09:00", "2026-05-06 09:00"]),
    ("2026-05-04 12:00", "2026-05-04 12:00", []),                     # an empty span
])
def test_windows_overlapping_the_span_asked_for(start: str, end: str, expected: list[str]) -> None:
    windows = freeze("0 9 * * *", duration=2 * H).windows(utc(start), utc(end))
    assert [w.start for w in windows] == [utc(s) for s in expected]
    assert all(w.source == PIPELINE_FILE and w.reason == "freeze" for w in windows)


def test_windows_longer_than_the_gap_overlap() -> None:
    windows = freeze("0 * * * *", duration=3 * H).windows(utc("2026-05-04 10:30"), utc("2026-05-04 11:30"))
    assert [w.start for w in windows] == [utc(f"2026-05-04 {h:02d}:00") for h in (8, 9, 10, 11)]


# ── which window refuses a deployment ──────────────────────────────────────────────────────

NIGHTLY = freeze("0 22 * * *", duration=2 * H, reason="nightly batch")
CHURN_ONLY = freeze("0 23 * * *", duration=H, reason="churn retrain", use_cases=frozenset({"churn"}))
RELEASE = FreezeWindow(utc("2026-05-04 21:00"), utc("2026-05-04 23:30"), "release party")


@pytest.mark.parametrize(("slug", "now", "expected"), [
    ("churn", "2026-05-04 20:59", None),
    ("churn", "2026-05-04 21:00", ("release party", "2026-05-04 23:30")),
    ("churn", "2026-05-04 22:30", ("nightly batch", "2026-05-05 00:00")),     # ends last
    ("churn", "2026-05-04 23:30", ("nightly batch", "2026-05-05 00:00")),     # the others went
    ("churn", "2026-05-04 23:45", ("nightly batch", "2026-05-05 00:00")),     # a tie: file order
    ("churn", "2026-05-05 00:00", None),
    ("forecast", "2026-05-04 23:45", ("nightly batch", "2026-05-05 00:00")),  # not its freeze
    ("forecast", "2026-05-05 00:00", None),                                   # ends are open
])
def test_active_window_is_the_one_ending_last(slug: str, now: str,
                                              expected: tuple[str, str] | None) -> None:
    found = active_window([NIGHTLY, CHURN_ONLY], [RELEASE], slug, utc(now))
    assert (None if found is None else (found.reason, found.end)) == (
        None if expected is None else (expected[0], utc(expected[1])))


def test_active_window_of_a_use_case_freeze_and_an_ad_hoc_one_for_another() -> None:
    other = FreezeWindow(utc("2026-05-04 22:00"), utc("2026-05-05 06:00"), "db move",
                         frozenset({"forecast"}))
    found = active_window([CHURN_ONLY], [other], "churn", utc("2026-05-04 23:10"))
    assert found is not None and (found.reason, found.source) == ("churn retrain", PIPELINE_FILE)
    assert active_window([], [other], "forecast", utc("2026-05-04 23:10")) == other
    assert other.source == AD_HOC and not other.applies_to("churn")


def test_a_chain_of_windows_that_meet_ends_with_the_last_of_them() -> None:
    # The release party (ad hoc, to 23:30) meets nothing; the nightly batch (22:00–24:00) meets
    # a 24:00–06:00 maintenance window of another freeze: refused until 06:00, naming both.
    maintenance = freeze("0 0 * * *", duration=6 * H, reason="maintenance")
    chain = freeze_chain([NIGHTLY, maintenance], [RELEASE], "churn", utc("2026-05-04 21:30"))
    assert [(w.reason, w.end) for w in chain] == [("release party", utc("2026-05-04 23:30")),
                                                  ("nightly batch", utc("2026-05-05 00:00")),
                                                  ("maintenance", utc("2026-05-05 06:00"))]
    assert freeze_chain([NIGHTLY], [], "churn", utc("2026-05-04 21:59")) == []


def test_windows_of_one_freeze_that_meet_chain_as_one() -> None:
    every_10 = freeze("*/10 9-17 * * *", duration=timedelta(minutes=10), reason="market hours")
    [window] = freeze_chain([every_10], [], "churn", utc("2026-05-04 12:05"))
    assert (window.start, window.end) == (utc("2026-05-04 12:00"), utc("2026-05-04 18:00"))
    always = freeze("* * * * *", duration=timedelta(minutes=1), reason="never")
    [endless] = freeze_chain([always], [], "churn", utc("2026-05-04 12:00:30"))
    assert endless.end == utc("2026-05-04 12:00") + timedelta(minutes=CHAIN_STEPS)


def test_boundaries_are_the_starts_and_ends_since_the_last_look() -> None:
    every_10 = freeze("*/10 9-17 * * *", duration=timedelta(minutes=10), reason="market hours")
    ended = [("adhoc:7", RELEASE)]  # ends 23:30
    found = boundaries([every_10, NIGHTLY], ended, utc("2026-05-04 08:00"), utc("2026-05-04 09:00"))
    assert [(b.key, b.starts, b.at) for b in found] == [(every_10.key, True, utc("2026-05-04 09:00"))]
    # the ten-minute windows of 09:00-18:00 meet: one start, one end, nothing between
    assert boundaries([every_10], [], utc("2026-05-04 09:00"), utc("2026-05-04 17:59")) == []
    [end] = boundaries([every_10], [], utc("2026-05-04 17:00"), utc("2026-05-04 18:00"))
    assert (end.starts, end.at, end.window.start) == (False, utc("2026-05-04 18:00"),
                                                      utc("2026-05-04 17:00"))
    # a window both begun and over since the last look: only its end is news
    late = boundaries([NIGHTLY], ended, utc("2026-05-04 21:00"), utc("2026-05-05 00:30"))
    assert [(b.key, b.starts, b.at) for b in late] == [
        ("adhoc:7", False, utc("2026-05-04 23:30")), (NIGHTLY.key, False, utc("2026-05-05 00:00"))]
    assert late[0].claim == "adhoc:7:end@2026-05-04T23:30:00+00:00"


def test_a_recurring_freeze_is_named_alike_everywhere_and_anew_when_edited() -> None:
    assert NIGHTLY.key == freeze("0 22 * * *", duration=2 * H, reason="nightly batch").key
    assert NIGHTLY.key != freeze("0 22 * * *", duration=3 * H, reason="nightly batch").key
    assert CHURN_ONLY.key != freeze("0 23 * * *", duration=H, reason="churn retrain").key


def test_coming_windows_list_open_and_coming_ones_merging_where_they_meet() -> None:
    every_10 = freeze("*/10 9-17 * * *", duration=timedelta(minutes=10), reason="market hours")
    listed = coming_windows([every_10, NIGHTLY], [RELEASE], None, utc("2026-05-04 12:00"), 12 * H)
    assert [(w.reason, w.start, w.end) for w in listed] == [
        ("market hours", utc("2026-05-04 12:00"), utc("2026-05-04 18:00")),
        ("release party", utc("2026-05-04 21:00"), utc("2026-05-04 23:30")),
        ("nightly batch", utc("2026-05-04 22:00"), utc("2026-05-05 00:00")),
    ]
    only_churn = coming_windows([CHURN_ONLY], [], "forecast", utc("2026-05-04 12:00"), 24 * H)
    assert only_churn == []


def test_naive_datetimes_and_empty_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        NIGHTLY.windows(datetime(2026, 5, 4), utc("2026-05-05 00:00"))
    with pytest.raises(ValueError, match="end after"):
        FreezeWindow(utc("2026-05-04 10:00"), utc("2026-05-04 10:00"), "x")
    with pytest.raises(ValueError, match="14 days"):
        freeze("0 9 * * *", duration=timedelta(days=15))


# ── properties ─────────────────────────────────────────────────────────────────────────────

CRONS = ["0 18 * * fri", "30 2 * * *", "0 * * * *", "*/20 1-3 * * *", "30 1 * * sun", "0 9 1 * *"]
ZONES = ["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe"]  # Lord Howe moves by 30 minutes
CHANGES = [utc(t) for t in ("2026-03-08 07:00", "2026-03-29 01:00", "2026-10-25 01:00",
                            "2026-11-01 06:00", "2026-04-04 15:00", "2026-10-03 15:30")]


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    near = draw(st.sampled_from(CHANGES))
    return near + timedelta(seconds=draw(st.integers(-4 * 86400, 4 * 86400)))


@settings(max_examples=150, deadline=None)
@given(cron=st.sampled_from(CRONS), tz=st.sampled_from(ZONES), now=moments(),
       minutes=st.integers(1, 4 * 24 * 60))
def test_windows_are_exact_ordered_and_decide_active_window(cron: str, tz: str, now: datetime,
                                                             minutes: int) -> None:
    recurring = freeze(cron, tz, timedelta(minutes=minutes))
    start, end = now - timedelta(days=1), now + timedelta(days=1)
    windows = recurring.windows(start, end)
    assert all(w.end - w.start == recurring.duration for w in windows)
    assert all(a.start < b.start for a, b in zip(windows, windows[1:], strict=False))
    assert all(w.start < end and w.end > start for w in windows)
    containing = [w for w in windows if w.active_at(now)]
    found = active_window([recurring], [], "churn", now)
    assert (found is not None) == bool(containing)
    if found is not None:
        assert found == max(containing, key=lambda w: w.end)


# ── [[freezes]] in the pipeline file ───────────────────────────────────────────────────────

PIPELINE = """\
[pipelines.default]
stages = [{ name = "deploy", run = { executor = "dry-run" } }]
"""


def problems(text: str) -> list[PipelineProblem]:
    with pytest.raises(PipelineError) as caught:
        parse_pipelines(tomllib.loads(text + "\n" + PIPELINE))  # top-level keys come first
    return caught.value.problems


def test_freezes_load_from_the_pipeline_file() -> None:
    loaded = parse_pipelines(tomllib.loads(PIPELINE + """
[[freezes]]
cron = "0 18 * * fri"
duration = "2d15h"
tz = "europe/berlin"
reason = "  weekend  "

[[freezes]]
cron = "0 22 * * *"
duration = 7200
reason = "nightly batch"
use_cases = ["churn", "forecast"]
"""))
    weekend, nightly = loaded.freezes
    assert (weekend.schedule.tz, weekend.duration, weekend.reason, weekend.use_cases) == (
        BERLIN, timedelta(days=2, hours=15), "weekend", None)
    assert (nightly.schedule.tz, nightly.duration, nightly.use_cases) == (
        "UTC", 2 * H, frozenset({"churn", "forecast"}))
    assert parse_pipelines(tomllib.loads(PIPELINE)).freezes == ()


BROKEN_FREEZES = """
[[freezes]]
cron = "0 18 * fri"
duration = "15d"
tz = "Europe/Berln"
reason = ""
use_cases = ["Churn", "churn", "churn"]
usecases = ["x"]

[[freezes]]
duration = "0m"
reason = 3

[[freezes]]
cron = "0 0 31 2 *"
duration = "soon"
reason = "%s"
use_cases = []
"""


def test_every_freeze_problem_is_reported_with_its_path() -> None:
    found = {(p.path, p.message) for p in problems(BROKEN_FREEZES % ("x" * 201))}
    paths = sorted(path for path, _ in found)
    assert paths == sorted([
        "freezes[0].usecases", "freezes[0].tz", "freezes[0].cron", "freezes[0].duration",
        "freezes[0].reason", "freezes[0].use_cases[0]", "freezes[0].use_cases[2]",
        "freezes[1].cron", "freezes[1].duration", "freezes[1].reason",
        "freezes[2].cron", "freezes[2].duration", "freezes[2].reason", "freezes[2].use_cases",
    ])
    said = dict(found)
    assert "did you mean `use_cases`?" in said["freezes[0].usecases"]
    assert 'Did you mean "Europe/Berlin"?' in said["freezes[0].tz"]
    assert "has 4 fields; a cron has 5" in said["freezes[0].cron"]
    assert said["freezes[0].duration"] == "must be at most 14d"
    assert said["freezes[0].reason"].startswith("must not be empty")
    assert "is not a use-case slug" in said["freezes[0].use_cases[0]"]
    assert "listed twice" in said["freezes[0].use_cases[2]"]
    assert (said["freezes[1].cron"], said["freezes[1].duration"]) == ("missing", "must be longer than 0")
    assert said["freezes[1].reason"] == "expected a string, got an integer"
    assert "never fires" in said["freezes[2].cron"]
    assert "expected a duration" in said["freezes[2].duration"]
    assert said["freezes[2].reason"] == "at most 200 characters, not 201"
    assert "non-empty list of use-case slugs" in said["freezes[2].use_cases"]


@pytest.mark.parametrize(("text", "path", "says"), [
    ('freezes = "weekends"', "freezes", "expected [[freezes]] tables, got a string"),
    ("freezes = [1]", "freezes[0]", "expected a table, got an integer"),
    ('[[freezes]]\ncron = "0 9 * * *"\nreason = "r"', "freezes[0].duration", "missing"),
    ('[[freezes]]\ncron = "0 9 * * *"\nduration = "1h"', "freezes[0].reason", "missing"),
    ('[[freezes]]\ncron = "0 9 * * *"\nduration = "1h"\nreason = "r"\ntz = 1', "freezes[0].tz",
     "expected a string, got an integer"),
    ('[[freezes]]\ncron = "0 9 * * *"\nduration = "1h"\nreason = "r"\nuse_cases = "churn"',
     "freezes[0].use_cases", "non-empty list"),
    ('[[freeze]]\ncron = "0 9 * * *"', "freeze", "did you mean `freezes`?"),
])
def test_a_freeze_problem_names_its_key(text: str, path: str, says: str) -> None:
    assert any(p.path == path and says in p.message for p in problems(text))


def test_a_freeze_may_fire_every_minute_and_overlap_itself() -> None:
    loaded = parse_pipelines(tomllib.loads(PIPELINE + """
[[freezes]]
cron = "* * * * *"
duration = "14d"
reason = "quiet fortnight"
"""))
    (fortnight,) = loaded.freezes
    window = active_window(loaded.freezes, [], "churn", utc("2026-05-04 12:00:30"))
    assert window == fortnight.window(utc("2026-05-04 12:00"))


def test_g13_a_frequent_freeze_is_listed_at_a_bounded_cost_and_said_to_be_in_part(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Ten freezes firing every minute for a fortnight: ~20,000 fire times each, were it all listed.
    quiet = [freeze("* * * * *", duration=14 * 24 * H, reason=f"quiet {n}") for n in range(10)]
    counted: list[int] = []
    fire_times = Schedule.fire_times

    def counting(self: Schedule, start: datetime, end: datetime, *,
                 limit: int | None = None) -> list[datetime]:
        found = list(fire_times(self, start, end, limit=limit))
        counted.append(len(found))
        return found

    monkeypatch.setattr(Schedule, "fire_times", counting)
    now = utc("2026-05-04 12:00")
    windows, partial = listed_windows(quiet, [], None, now, 14 * 24 * H)
    assert counted == [LISTED_FIRES] * 10
    assert [(f.reason, until) for f, until in partial] == [
        (f"quiet {n}", now + timedelta(minutes=LISTED_FIRES)) for n in range(10)]
    assert windows and all(w.start < now + timedelta(minutes=LISTED_FIRES) for w in windows)
