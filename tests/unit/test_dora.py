"""DORA metrics on hand-made deployment histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment, DeploymentState, StageRun, StageState
from bot.domain.dora import (
    CHANGE_FAILURE_RATE,
    FREQUENCY,
    LEAD_TIME,
    METRICS,
    NA,
    TIME_TO_RESTORE,
    DoraReport,
    dora,
    dora_by_use_case,
    dora_periods,
    overall_band,
)
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import StageSpec
from bot.render.dora_changes import compare, short_duration

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OK, FAILED, CANCELLED, REJECTED = (DeploymentState.SUCCEEDED, DeploymentState.FAILED,
                                   DeploymentState.CANCELLED, DeploymentState.REJECTED)
_RUN = DryRunSpec()
_STAGING, _PRODUCTION = StageSpec("staging", _RUN), StageSpec("production", _RUN)


# ── builders ─────────────────────────────────────────────────────────────────────────────────

def deployment(ident: int, done: datetime | None, *, state: DeploymentState = OK,
               lead: timedelta = HOUR, use_case: str = "churn", kind: str = "deploy",
               rollback_of: int | None = None, dry_run: bool = False,
               reached_production: bool = True) -> Deployment:
    """Requested ``lead`` before ``done``; production started half-way and finished at ``done``."""
    end = done or NOW
    requested = end - lead
    staging = StageRun(_STAGING, StageState.PASSED, requested, requested + lead / 4)
    if not reached_production:
        production = StageRun(_PRODUCTION, StageState.CANCELLED if state is CANCELLED
                              else StageState.SKIPPED, None, end)
    else:
        stage_state = {OK: StageState.PASSED, FAILED: StageState.FAILED}.get(state, StageState.CANCELLED)
        stage_state = StageState.RUNNING if done is None else stage_state
        production = StageRun(_PRODUCTION, stage_state, requested + lead / 2, done)
    stages = (production,) if kind == "rollback" else (staging, production)
    return Deployment(
        use_case=use_case, version=f"v{ident}", pipeline="default", requested_by="U0ALICE",
        requested_at=requested, channel_id="C0OPS", stages=stages,
        state=DeploymentState.RUNNING if done is None and reached_production else state,
        id=ident, kind=kind, rollback_of=rollback_of, dry_run=dry_run, finished_at=done,
    )


def ago(days: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


# ── counting ─────────────────────────────────────────────────────────────────────────────────

def test_no_deployments_is_all_n_a_and_zero_frequency() -> None:
    r = dora([], now=NOW)
    assert (r.deployments, r.dry_runs, r.failed, r.unrestored) == (0, 0, 0, 0)
    assert r.frequency_per_day == 0
    assert r.lead_time is None and r.change_failure_rate is None and r.time_to_restore is None
    assert r.bands == {m: NA for m in METRICS} and r.band == NA
    assert (r.since, r.until, r.days, r.use_case) == (NOW - 30 * DAY, NOW, 30, None)


def test_deployments_that_never_reached_production_do_not_count() -> None:
    history = [
        deployment(1, ago(3), state=CANCELLED, reached_production=False),
        deployment(2, ago(2), state=REJECTED, reached_production=False),
        deployment(3, ago(1), state=DeploymentState.EXPIRED, reached_production=False),
        deployment(4, None),                                  # still running in production
        deployment(5, ago(4), kind="rollback", rollback_of=6, state=REJECTED, reached_production=False),
        deployment(6, ago(5)),
    ]
    r = dora(history, now=NOW)
    assert r.deployments == 1 and r.failed == 0               # a refused rollback blames nobody


def test_a_cancel_in_production_counts_as_a_failure() -> None:
    r = dora([deployment(1, ago(2), state=CANCELLED)], now=NOW)
    assert (r.deployments, r.failed, r.change_failure_rate) == (1, 1, 1.0)


def test_frequency_counts_the_window_only_and_dry_runs_apart() -> None:
    history = [deployment(i, ago(i * 3), dry_run=i % 2 == 0) for i in range(1, 15)]  # 3..42 days ago
    r = dora(history, now=NOW)
    assert r.deployments == 5 and r.dry_runs == 4             # 3, 9, ..., 27 and 6, ..., 24 days ago
    assert r.frequency_per_day == pytest.approx(5 / 30)
    assert r.bands[FREQUENCY] == "high" and not r.only_dry_runs
    week = dora(history, now=NOW, days=7)
    assert (week.deployments, week.dry_runs) == (1, 1)
    assert week.frequency_per_day == pytest.approx(1 / 7)


# ── dry runs: in no number ───────────────────────────────────────────────────────────────────

def test_only_dry_runs_is_nothing_to_measure() -> None:
    history = [deployment(1, ago(3), dry_run=True), deployment(2, ago(2), dry_run=True, state=FAILED),
               deployment(3, ago(1), dry_run=True, lead=2 * HOUR)]
    r = dora(history, now=NOW)
    assert (r.deployments, r.dry_runs, r.failed, r.unrestored) == (0, 3, 0, 0)
    assert r.frequency_per_day == 0
    assert r.lead_time is None and r.change_failure_rate is None and r.time_to_restore is None
    assert r.bands == {m: NA for m in METRICS} and r.band == NA
    assert r.only_dry_runs
    assert dora_by_use_case(history, now=NOW)["churn"].only_dry_runs
    assert not dora([], now=NOW).only_dry_runs


def test_a_dry_run_does_not_restore_a_failure() -> None:
    history = [deployment(1, ago(3), state=FAILED), deployment(2, ago(2), dry_run=True)]
    r = dora(history, now=NOW)
    assert (r.deployments, r.failed, r.dry_runs) == (1, 1, 1)
    assert r.time_to_restore is None and r.unrestored == 1
    restored = dora([*history, deployment(3, ago(1))], now=NOW)   # the next real success does
    assert restored.time_to_restore == 2 * DAY and restored.unrestored == 0


def test_a_dry_run_rollback_blames_nobody() -> None:
    history = [deployment(1, ago(2)),
               deployment(2, ago(1), kind="rollback", rollback_of=1, dry_run=True)]
    r = dora(history, now=NOW)
    assert (r.deployments, r.failed, r.dry_runs) == (1, 0, 1)
    assert r.change_failure_rate == 0 and r.lead_time == HOUR


def test_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    history = [deployment(1, NOW - 30 * DAY), deployment(2, NOW), deployment(3, NOW + HOUR)]
    assert dora(history, now=NOW).deployments == 1            # only the one finishing at now


def test_lead_time_is_the_median_over_successful_deployments() -> None:
    history = [
        deployment(1, ago(5), lead=2 * HOUR),
        deployment(2, ago(4), lead=10 * HOUR),
        deployment(3, ago(3), lead=4 * HOUR),
        deployment(4, ago(2), lead=3 * HOUR),
        deployment(5, ago(1), lead=100 * HOUR, state=FAILED),  # failures have no lead time
    ]
    r = dora(history, now=NOW)
    assert r.lead_time == timedelta(hours=3.5)
    assert r.bands[LEAD_TIME] == "elite"
    assert r.lead_from_request == 4  # none knew its change: all measured from the request


def _changed(d: Deployment, before_request: timedelta | None) -> Deployment:
    at = None if before_request is None else d.requested_at - before_request
    return replace(d, change=Change(ChangeKind.COMMIT, "3f9c2a1d", at))


def test_lead_time_for_changes_runs_from_the_change_and_counts_those_from_the_request() -> None:
    """A pipeline of 1 hour after a commit made 2 days earlier is 2 days and 1 hour of lead
    time, not 1 hour; one that knows no change time (no change, or a change without a time) is
    measured from its request and counted; failures and dry runs are in neither."""
    history = [
        _changed(deployment(1, ago(5)), 2 * DAY),                 # 49 h
        _changed(deployment(2, ago(4)), 3 * DAY),                 # 73 h
        _changed(deployment(3, ago(3)), None),                    # 1 h, from the request
        deployment(4, ago(2), lead=2 * HOUR),                     # 2 h, from the request
        _changed(deployment(5, ago(1), state=FAILED), None),      # a failure: no lead time
        _changed(deployment(6, ago(1), dry_run=True), None),      # a dry run counts nowhere
        _changed(deployment(7, ago(0.5)), -2 * HOUR),             # made after it finished: 0
    ]
    r = dora(history, now=NOW)
    assert (r.deployments, r.failed, r.lead_from_request) == (6, 1, 2)
    assert r.lead_time == 2 * HOUR  # the median of 0, 1 h, 2 h, 49 h, 73 h
    assert dora(history[:2], now=NOW).lead_time == 61 * HOUR
    assert dora(history[:2], now=NOW).bands[LEAD_TIME] == "high"


# ── failures and restores ────────────────────────────────────────────────────────────────────

def test_all_failed() -> None:
    history = [deployment(i, ago(i), state=FAILED) for i in range(1, 4)]
    r = dora(history, now=NOW)
    assert r.change_failure_rate == 1.0 and r.failed == 3
    assert r.bands[CHANGE_FAILURE_RATE] == "low" and r.band == "low"
    assert r.time_to_restore is None and r.bands[TIME_TO_RESTORE] == NA
    assert r.unrestored == 3
    assert r.lead_time is None and r.bands[LEAD_TIME] == NA


def test_a_failure_is_restored_by_the_next_success_of_the_same_use_case() -> None:
    history = [
        deployment(1, ago(5)),
        deployment(2, ago(4), state=FAILED),
        deployment(3, ago(4, -1), use_case="fraud"),          # another use case restores nothing
        deployment(4, ago(4, -3)),
        deployment(5, ago(1)),
    ]
    r = dora(history, now=NOW, use_case="churn")
    assert r.time_to_restore == 3 * HOUR and r.unrestored == 0
    assert r.change_failure_rate == pytest.approx(0.25)
    assert r.bands[TIME_TO_RESTORE] == "high"


def test_each_failure_is_timed_to_the_next_success() -> None:
    history = [deployment(1, ago(3), state=FAILED), deployment(2, ago(3, -1), state=FAILED),
               deployment(3, ago(3, -4))]
    r = dora(history, now=NOW)
    assert r.time_to_restore == 3.5 * HOUR                     # median of 4 h and 3 h


def test_a_rollback_marks_the_rolled_back_deployment_failed_and_restores_it() -> None:
    history = [
        deployment(1, ago(6)),
        deployment(2, ago(2)),
        deployment(3, ago(2, -0.5), kind="rollback", rollback_of=2, lead=timedelta(minutes=10)),
    ]
    r = dora(history, now=NOW)
    assert r.deployments == 3 and r.failed == 1               # the rollback itself counts, and succeeded
    assert r.time_to_restore == timedelta(minutes=30)
    assert r.bands[TIME_TO_RESTORE] == "elite"
    assert r.lead_time == timedelta(minutes=35)                # 1 h and 10 min; the rolled back one is out
    assert r.change_failure_rate == pytest.approx(1 / 3)


def test_a_rollback_under_way_already_blames_its_target() -> None:
    history = [deployment(1, ago(2)), deployment(2, None, kind="rollback", rollback_of=1)]
    r = dora(history, now=NOW)
    assert (r.deployments, r.failed, r.unrestored) == (1, 1, 1)   # the rollback itself is in flight


def test_a_restore_after_now_does_not_count() -> None:
    history = [deployment(1, ago(1), state=FAILED), deployment(2, NOW + HOUR)]
    r = dora(history, now=NOW)
    assert r.time_to_restore is None and r.unrestored == 1


def test_a_restore_across_periods_belongs_to_the_period_of_the_failure() -> None:
    history = [
        deployment(1, ago(35)),
        deployment(2, ago(31), state=FAILED),                 # previous period
        deployment(3, ago(29)),                               # this period restores it, 2 days later
    ]
    current, previous = dora_periods(history, now=NOW, days=30)
    assert previous.failed == 1 and previous.time_to_restore == 2 * DAY and previous.unrestored == 0
    assert previous.until == current.since == NOW - 30 * DAY
    assert current.failed == 0 and current.time_to_restore is None and current.unrestored == 0
    assert current.deployments == 1 and current.change_failure_rate == 0
    # on its own, the previous period as it was seen at its end: not restored yet
    then = dora(history, now=NOW - 30 * DAY)
    assert then.unrestored == 1 and then.time_to_restore is None


# ── use cases ────────────────────────────────────────────────────────────────────────────────

def test_per_use_case_and_overall() -> None:
    history = [
        deployment(1, ago(3), use_case="churn"),
        deployment(2, ago(2), use_case="churn", state=FAILED),
        deployment(3, ago(1), use_case="fraud"),
        deployment(4, ago(40), use_case="pricing"),
        deployment(5, ago(1), use_case="fraud", kind="rollback", rollback_of=1),  # not churn's id space
    ]
    overall = dora(history, now=NOW)
    assert overall.deployments == 4 and overall.failed == 1
    assert dora(history, now=NOW, use_case="churn").deployments == 2
    assert dora(history, now=NOW, use_case="fraud").failed == 0
    reports = dora_by_use_case(history, now=NOW)
    assert list(reports) == ["churn", "fraud", "pricing"]
    assert reports["pricing"].deployments == 0 and reports["pricing"].band == NA
    assert reports["churn"].use_case == "churn"


# ── bands ────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("count", "days", "band"), [
    (30, 30, "elite"), (29, 30, "high"), (1, 7, "high"), (4, 30, "medium"), (1, 30, "medium"),
    (1, 31, "low"),
])
def test_frequency_bands_at_the_thresholds(count: int, days: int, band: str) -> None:
    history = [deployment(i, NOW - i * timedelta(minutes=1)) for i in range(count)]
    assert dora(history, now=NOW, days=days).bands[FREQUENCY] == band


@pytest.mark.parametrize(("lead", "band"), [
    (DAY - timedelta(seconds=1), "elite"), (DAY, "high"), (7 * DAY, "medium"),
    (30 * DAY - timedelta(seconds=1), "medium"), (30 * DAY, "low"),
])
def test_lead_time_bands_at_the_thresholds(lead: timedelta, band: str) -> None:
    assert dora([deployment(1, ago(1), lead=lead)], now=NOW).bands[LEAD_TIME] == band


@pytest.mark.parametrize(("failed", "band"), [(1, "elite"), (2, "high"), (3, "medium"), (4, "low")])
def test_change_failure_rate_bands_at_the_thresholds(failed: int, band: str) -> None:
    history = [deployment(i, ago(0, i), state=FAILED if i < failed else OK) for i in range(20)]
    r = dora(history, now=NOW)
    assert r.change_failure_rate == pytest.approx(failed / 20)
    assert r.bands[CHANGE_FAILURE_RATE] == band


@pytest.mark.parametrize(("gap", "band"), [
    (HOUR - timedelta(seconds=1), "elite"), (HOUR, "high"), (DAY, "medium"), (7 * DAY, "low"),
])
def test_time_to_restore_bands_at_the_thresholds(gap: timedelta, band: str) -> None:
    history = [deployment(1, ago(10), state=FAILED), deployment(2, ago(10) + gap)]
    assert dora(history, now=NOW).bands[TIME_TO_RESTORE] == band


def test_overall_band_is_the_lowest_available() -> None:
    assert overall_band(["elite", "medium", NA, "high"]) == "medium"
    assert overall_band([NA, NA]) == NA
    r = dora([deployment(1, ago(1), lead=2 * DAY)], now=NOW)
    assert r.bands == {FREQUENCY: "medium", LEAD_TIME: "high", CHANGE_FAILURE_RATE: "elite",
                       TIME_TO_RESTORE: NA}
    assert r.band == "medium"


# ── comparison ───────────────────────────────────────────────────────────────────────────────

def _report(**values: object) -> DoraReport:
    base: dict[str, object] = dict(
        use_case=None, since=NOW - 30 * DAY, until=NOW, days=30, deployments=10, dry_runs=0, failed=1,
        frequency_per_day=10 / 30, lead_time=2 * HOUR, change_failure_rate=0.1,
        time_to_restore=HOUR, unrestored=0, bands={}, band=NA,
    )
    return DoraReport(**{**base, **values})  # type: ignore[arg-type]


def test_compare_texts() -> None:
    previous = _report()
    current = _report(frequency_per_day=10 / 30 + 2 / 7, lead_time=5 * HOUR,
                      change_failure_rate=0.05, time_to_restore=HOUR)
    assert compare(current, previous) == {
        FREQUENCY: "+2 per week (better)",
        LEAD_TIME: "+3 h (worse)",
        CHANGE_FAILURE_RATE: "−5 pts (better)",
        TIME_TO_RESTORE: "no change",
    }


def test_compare_with_missing_values() -> None:
    empty = dora([], now=NOW)
    assert compare(empty, empty) == {m: NA for m in METRICS}
    one = dora([deployment(1, ago(1))], now=NOW)
    changes = compare(one, empty)
    assert changes[FREQUENCY] == "+0.233 per week (better)"
    assert changes[LEAD_TIME] == NA and changes[CHANGE_FAILURE_RATE] == NA


def test_short_duration() -> None:
    assert short_duration(timedelta(seconds=45)) == "45 s"
    assert short_duration(timedelta(minutes=12)) == "12 min"
    assert short_duration(timedelta(hours=3, minutes=30)) == "3.5 h"
    assert short_duration(2 * DAY) == "2 d"
    assert short_duration(-3 * HOUR) == "−3 h"


def test_a_rollback_is_measured_from_its_request_not_from_its_old_change() -> None:
    """A rollback brings back a model made two months ago: its lead time is how long restoring
    took (from its request), not two months, and it is counted among those from the request."""
    history = [
        _changed(deployment(1, ago(3), state=FAILED), 1 * DAY),
        _changed(deployment(2, ago(2), kind="rollback", rollback_of=1, lead=HOUR / 2), 60 * DAY),
    ]
    r = dora(history, now=NOW)
    assert (r.lead_time, r.lead_from_request) == (HOUR / 2, 1)
