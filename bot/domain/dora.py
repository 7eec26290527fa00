"""DORA metrics from the bot's own deployment records.

What counts:

- A **production deployment** is one whose last stage started (rollbacks included: their pipeline
  is the production stage alone). Its time is when that stage finished; one still running in
  production is in flight and not counted yet. Deployments cancelled, rejected or expired before
  production never touched it and do not count.
- **Dry runs never count**: nothing was deployed. They are in no number below (a dry run neither
  restores a failure nor, as a rollback, blames its target); the report says how many finished,
  so a scope with only dry runs can say there is nothing to measure yet.
- It **failed** when it ended in any state but succeeded (a failed or timed-out production stage,
  or a cancel mid-production, which leaves production half-changed), or when a rollback names it
  in ``rollback_of``. It **succeeded** when it ended succeeded and was not rolled back.
- **Frequency**: production deployments per day over the window (now - days, now].
- **Lead time** for changes: median of change made (``Deployment.change.at``: commit time, model
  version created, the API's ``changed_at``) → production finished, over the successes; those
  with no change time, and rollbacks (an old change brought back), are measured from their
  request and counted (``lead_from_request``).
- **Change failure rate**: failed / all production deployments.
- **Time to restore**: median over the failures of: failure's production finish → the production
  finish of the next successful deployment of the same use case. The restore is attributed to
  the period of the *failure*, wherever the restore falls; it counts only if it happened by
  ``now`` (the real now, also for the previous period); failures not restored yet are counted in
  ``unrestored`` and left out of the median.

Bands (DORA, State of DevOps report), "n/a" without data:

=================  ============  ============  =============  =========
metric             elite         high          medium         low
=================  ============  ============  =============  =========
frequency          ≥ 1 per day   ≥ 1 per week  ≥ 1 per month  less
lead time          < 1 day       < 1 week      < 30 days      longer
change failure     ≤ 5 %         ≤ 10 %        ≤ 15 %         more
time to restore    < 1 hour      < 1 day       < 1 week       longer
=================  ============  ============  =============  =========

The overall band is the lowest of the metrics that have one.

``dora`` and ``dora_periods`` compute a report from records: they are the definition. Storage
counts the same with SQL aggregates (``storage/dora.py``) into :class:`DoraCounts`, which
``report`` turns into the report; tests hold the two equal on random histories.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.deployment_model import Deployment, DeploymentState

FREQUENCY = "frequency"
LEAD_TIME = "lead_time"
CHANGE_FAILURE_RATE = "change_failure_rate"
TIME_TO_RESTORE = "time_to_restore"
METRICS = (FREQUENCY, LEAD_TIME, CHANGE_FAILURE_RATE, TIME_TO_RESTORE)
BANDS = ("elite", "high", "medium", "low")  # best first
NA = "n/a"
DEFAULT_DAYS = 30

DAY = timedelta(days=1)
_FREQUENCY_LIMITS = (1.0, 1 / 7, 1 / 30)                                 # per day, at least
_LEAD_TIME_LIMITS = (DAY, 7 * DAY, 30 * DAY)                             # less than
_CFR_LIMITS = (0.05, 0.10, 0.15)                                          # at most
_RESTORE_LIMITS = (timedelta(hours=1), DAY, 7 * DAY)                     # less than


@dataclass(frozen=True)
class DoraReport:
    use_case: str | None            # None: all use cases
    since: datetime                 # the window is (since, until]
    until: datetime
    days: int
    deployments: int                # production deployments in the window (no dry runs)
    dry_runs: int                   # dry runs that finished in the window, counted apart
    failed: int
    frequency_per_day: float
    lead_time: timedelta | None
    change_failure_rate: float | None  # 0..1
    time_to_restore: timedelta | None
    unrestored: int
    bands: dict[str, str]           # metric name -> elite | high | medium | low | n/a
    band: str                       # overall: the lowest available, or n/a
    lead_from_request: int = 0      # successes measured from the request (no change time, rollbacks)

    @property
    def only_dry_runs(self) -> bool:
        """Dry runs in the window and no production deployment: nothing to measure yet."""
        return self.deployments == 0 and self.dry_runs > 0


@dataclass(frozen=True)
class DoraRecord:
    """What DORA needs of a deployment; storage can read it without decoding the stages."""
    id: int | None
    use_case: str
    kind: str
    rollback_of: int | None
    state: DeploymentState
    requested_at: datetime
    finished_at: datetime | None
    dry_run: bool
    production_started_at: datetime | None    # the last stage's start
    production_finished_at: datetime | None   # the last stage's end
    changed_at: datetime | None = None        # the change's time (None: not known)


@dataclass(frozen=True)
class DoraCounts:
    """A report's numbers for one window and scope: from records, or storage's SQL aggregates."""

    deployments: int                   # production deployments that finished in the window
    failed: int
    dry_runs: int                      # dry runs that finished in the window (in no number)
    lead_time: timedelta | None        # median over the successful ones
    time_to_restore: timedelta | None  # median over the failures restored by now
    unrestored: int                    # failures not restored by now
    lead_from_request: int = 0         # successes measured from the request


def as_record(d: Deployment | DoraRecord) -> DoraRecord:
    if isinstance(d, DoraRecord):
        return d
    last = d.stages[-1] if d.stages else None
    return DoraRecord(d.id, d.use_case, d.kind, d.rollback_of, d.state, d.requested_at,
                      d.finished_at, d.dry_run, last.started_at if last else None,
                      last.finished_at if last else None, d.change.at if d.change else None)


Records = Sequence[Deployment | DoraRecord]


@dataclass(frozen=True)
class _Prod:  # a production deployment, classified
    use_case: str
    lead: timedelta                 # from the change (or the request) to production finished
    from_request: bool              # no change time known, or a rollback
    finished_at: datetime
    failed: bool
    dry_run: bool


def dora(deployments: Records, *, now: datetime, days: int = DEFAULT_DAYS,
         use_case: str | None = None) -> DoraReport:
    """The report for (now - days, now], for one use case or (None) all of them."""
    return _report(_of(deployments, use_case), now - timedelta(days=days), now, days, now, use_case)


def dora_periods(deployments: Records, *, now: datetime, days: int = DEFAULT_DAYS,
                 use_case: str | None = None) -> tuple[DoraReport, DoraReport]:
    """This period and the one before it, of equal length; restores are counted as of ``now``."""
    mine = _of(deployments, use_case)
    start = now - timedelta(days=days)
    current = _report(mine, start, now, days, now, use_case)
    previous = _report(mine, start - timedelta(days=days), start, days, now, use_case)
    return current, previous


def dora_by_use_case(deployments: Records, *, now: datetime,
                     days: int = DEFAULT_DAYS) -> dict[str, DoraReport]:
    """One report per use case that has any deployment record, by slug."""
    groups: dict[str, list[_Prod]] = {as_record(d).use_case: [] for d in deployments}
    for p in _classify(deployments):
        groups[p.use_case].append(p)
    since = now - timedelta(days=days)
    return {slug: _report(groups[slug], since, now, days, now, slug) for slug in sorted(groups)}


def _of(deployments: Records, use_case: str | None) -> list[_Prod]:
    prods = _classify(deployments)
    return prods if use_case is None else [p for p in prods if p.use_case == use_case]


def _classify(deployments: Records) -> list[_Prod]:
    records = [as_record(d) for d in deployments]
    # A rollback blames its target once it reaches production; a refused one or a dry run: nobody.
    rolled_back = {(r.use_case, r.rollback_of) for r in records
                   if r.kind == "rollback" and r.rollback_of is not None
                   and r.production_started_at is not None and not r.dry_run}
    prods = []
    for r in records:
        finished = production_finished(r)
        if finished is None:
            continue
        failed = r.state is not DeploymentState.SUCCEEDED or (r.use_case, r.id) in rolled_back
        prods.append(_Prod(r.use_case, lead_time(r, finished), measured_from_request(r), finished,
                           failed, r.dry_run))
    return sorted(prods, key=lambda p: p.finished_at)


def production_finished(r: DoraRecord) -> datetime | None:
    """When production finished; None if it never started or is still in flight."""
    if r.production_started_at is None or r.state.is_active:
        return None
    return r.production_finished_at or r.finished_at


def measured_from_request(r: DoraRecord) -> bool:
    """No change time is known, or it is a rollback (its change is an old one, made long ago)."""
    return r.changed_at is None or r.kind == "rollback"


def lead_time(r: DoraRecord, finished: datetime) -> timedelta:
    """From the change's time (else the request) to production's end; never less than nothing."""
    start = r.requested_at if measured_from_request(r) else (r.changed_at or r.requested_at)
    return max(finished - start, timedelta())


def window_counts(deployments: Records, *, since: datetime, until: datetime,
                  now: datetime) -> DoraCounts:
    """What storage's SQL aggregates count for the window (since, until], restores by ``now``."""
    return _counts(_classify(deployments), since, until, now)


def _counts(prods: Sequence[_Prod], since: datetime, until: datetime, now: datetime) -> DoraCounts:
    finished = [p for p in prods if since < p.finished_at <= until]
    window = [p for p in finished if not p.dry_run]
    failures = [p for p in window if p.failed]
    measured = [p for p in window if not p.failed]
    successes = _successes_by_use_case(prods, now)
    restores = [_restore(p, successes.get(p.use_case, [])) for p in failures]
    restored = [r for r in restores if r is not None]
    return DoraCounts(
        deployments=len(window), failed=len(failures), dry_runs=len(finished) - len(window),
        lead_time=median([p.lead for p in measured]),
        time_to_restore=median(restored), unrestored=len(restores) - len(restored),
        lead_from_request=sum(p.from_request for p in measured),
    )


def _report(prods: Sequence[_Prod], since: datetime, until: datetime, days: int,
            now: datetime, use_case: str | None) -> DoraReport:
    """``prods`` in order of finish, already narrowed to the use case (if any)."""
    counts = _counts(prods, since, until, now)
    return report(counts, since=since, until=until, days=days, use_case=use_case)


def report(counts: DoraCounts, *, since: datetime, until: datetime, days: int,
           use_case: str | None) -> DoraReport:
    """The report for a window from what was counted in it (here, or by SQL aggregates)."""
    count = counts.deployments
    cfr = counts.failed / count if count else None
    frequency = count / days if days > 0 else 0.0
    lead_time, ttr = counts.lead_time, counts.time_to_restore
    bands = {
        FREQUENCY: _band_at_least(frequency, _FREQUENCY_LIMITS) if count else NA,
        LEAD_TIME: NA if lead_time is None else _band_below(lead_time, _LEAD_TIME_LIMITS),
        CHANGE_FAILURE_RATE: NA if cfr is None else _band_at_most(cfr, _CFR_LIMITS),
        TIME_TO_RESTORE: NA if ttr is None else _band_below(ttr, _RESTORE_LIMITS),
    }
    return DoraReport(
        use_case=use_case, since=since, until=until, days=days, deployments=count,
        dry_runs=counts.dry_runs, failed=counts.failed, frequency_per_day=frequency,
        lead_time=lead_time, change_failure_rate=cfr, time_to_restore=ttr,
        unrestored=counts.unrestored, bands=bands, band=overall_band(bands.values()),
        lead_from_request=counts.lead_from_request,
    )


def _successes_by_use_case(prods: Sequence[_Prod], now: datetime) -> dict[str, list[datetime]]:
    """Finish times of successful deployments up to ``now``, sorted, per use case (a dry run
    restores nothing)."""
    out: dict[str, list[datetime]] = {}
    for p in prods:
        if not p.failed and not p.dry_run and p.finished_at <= now:
            out.setdefault(p.use_case, []).append(p.finished_at)
    return out


def _restore(failure: _Prod, successes: Sequence[datetime]) -> timedelta | None:
    """Time to the next success of the same use case (binary search: histories are long)."""
    index = bisect.bisect_right(successes, failure.finished_at)
    return successes[index] - failure.finished_at if index < len(successes) else None


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _band_at_least(value: float, limits: Sequence[float]) -> str:
    return next((BANDS[i] for i, limit in enumerate(limits) if value >= limit), BANDS[-1])


def _band_at_most(value: float, limits: Sequence[float]) -> str:
    return next((BANDS[i] for i, limit in enumerate(limits) if value <= limit), BANDS[-1])


def _band_below(value: timedelta, limits: Sequence[timedelta]) -> str:
    return next((BANDS[i] for i, limit in enumerate(limits) if value < limit), BANDS[-1])


def overall_band(bands: Iterable[str]) -> str:
    """The lowest band among those that are not n/a; n/a when none is."""
    ranked = [BANDS.index(b) for b in bands if b in BANDS]
    return BANDS[max(ranked)] if ranked else NA
