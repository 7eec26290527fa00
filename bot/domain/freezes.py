"""Freeze windows: spans of time in which no deployment starts (``/deploy`` is refused, naming the
window, its reason and its end; only an admin's override passes).

Two sources: ad hoc windows from ``/deploy freeze`` (stored, a plain :class:`FreezeWindow`) and
recurring ones from the pipeline file's ``[[freezes]]`` (a :class:`RecurringFreeze`: a cron in a
time zone and a duration). Pure: every function takes the moment it needs; datetimes in are aware,
datetimes out are UTC. A window is half-open, ``[start, end)``: a deployment at ``end`` may start.

Daylight saving time -- a recurring window uses the same cron and time-zone code as digests
(:class:`bot.domain.schedule.Schedule`):

* it *starts* at the cron's wall-clock fire time in its zone: ``0 18 * * fri`` starts every Friday
  at 18:00 local, on both sides of a change -- never skipped, never doubled;
* a start wall time that does not exist (02:30 on the spring-forward day) starts the window at the
  instant the clock skips to (03:30 local); one that happens twice (02:30 on the fall-back day in
  Europe/Berlin) starts one window, at its first occurrence (an hourly cron, hour ``*``, starts one
  in each real hour, the repeated one included);
* it *lasts* ``duration`` of real time: a 1h window is one hour long on both sides of a change, and
  the windows of a cron come one after the other exactly as its fire times do. So a weekend freeze
  ``0 18 * * fri`` + ``2d15h`` (Friday 18:00 to Monday 09:00) that spans a change ends an hour later
  on the wall clock (10:00) on the spring-forward weekend and an hour earlier (08:00) on the
  fall-back one: its length is kept, its end is not re-aligned to local time.

Windows of one freeze that overlap (a duration longer than the gap between fire times) are allowed:
a moment is frozen when any window contains it, and :func:`active_window` names the one ending last.
Windows that meet (one ends as the next begins, from any source) freeze without a gap:
:func:`freeze_chain` follows them to the moment deployments may really start again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.schedule import Schedule

AD_HOC = "ad hoc"
PIPELINE_FILE = "pipeline file"
MAX_DURATION = timedelta(days=14)
FREEZE_CRON_MIN_INTERVAL = timedelta(minutes=1)
_FIRST_STEP = timedelta(minutes=1)
_INSTANT = timedelta(microseconds=1)
CHAIN_STEPS = 500  # windows followed one after the other at most (``*/10 9-17 * * *`` + 10m: 54 a day)
LISTED_FIRES = 1_000  # fire times computed per freeze for a listing: a frequent cron is listed in part


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: freeze windows work with aware datetimes")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class FreezeWindow:
    """One span ``[start, end)`` in which deployments of ``use_cases`` (None: all) are refused."""

    start: datetime
    end: datetime
    reason: str
    use_cases: frozenset[str] | None = None
    source: str = AD_HOC  # AD_HOC or PIPELINE_FILE

    def __post_init__(self) -> None:
        start, end = _utc(self.start), _utc(self.end)
        if end <= start:
            raise ValueError(f"a freeze window must end after it starts: {start} → {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def applies_to(self, slug: str) -> bool:
        return self.use_cases is None or slug in self.use_cases

    def active_at(self, moment: datetime) -> bool:
        return self.start <= _utc(moment) < self.end


@dataclass(frozen=True)
class RecurringFreeze:
    """A ``[[freezes]]`` entry: a window of ``duration`` at each fire time of ``schedule``."""

    schedule: Schedule
    duration: timedelta
    reason: str
    use_cases: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not timedelta() < self.duration <= MAX_DURATION:
            raise ValueError(f"a freeze lasts more than 0 and at most {MAX_DURATION.days} days, "
                             f"not {self.duration}")

    def applies_to(self, slug: str) -> bool:
        return self.use_cases is None or slug in self.use_cases

    def window(self, start: datetime) -> FreezeWindow:
        """The window that starts at the fire time ``start``."""
        return FreezeWindow(start, _utc(start) + self.duration, self.reason, self.use_cases,
                            PIPELINE_FILE)

    def windows(self, start: datetime, end: datetime, *,
                limit: int | None = None) -> list[FreezeWindow]:
        """Every window overlapping ``[start, end)``, oldest first: one that started before
        ``start`` but is still open counts (fire times are looked back for by ``duration``);
        with ``limit``, only the windows of the first ``limit`` fire times."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return []
        fires = self.schedule.fire_times(start - self.duration, end, limit=limit)
        return [self.window(fire) for fire in fires if fire < end]

    def covers_all_time(self, start: datetime) -> bool:
        """Its windows, joined, leave no gap in a week from ``start``: it never lets go."""
        week = _utc(start) + timedelta(days=7)
        joined = _merged(self.windows(start, week))
        return len(joined) == 1 and joined[0].start <= _utc(start) and joined[0].end >= week

    def active_window(self, now: datetime) -> FreezeWindow | None:
        """The window containing ``now`` that ends last (the one started last), or None.

        Looks back in doubling steps, so a frequent cron with a long duration costs a few fire
        times, not one per minute of the duration."""
        now, step = _utc(now), min(_FIRST_STEP, self.duration)
        while True:
            fires = self.schedule.fire_times(now - step, now)  # (now - step, now]
            if fires:
                return self.window(fires[-1])
            if step >= self.duration:
                return None
            step = min(step * 2, self.duration)

    @property
    def key(self) -> str:
        """Names this entry in claims ("said once"): the same in every process, and a new one
        when the entry is edited."""
        scope = "*" if self.use_cases is None else ",".join(sorted(self.use_cases))
        text = "|".join((self.schedule.cron, self.schedule.tz, str(self.duration.total_seconds()),
                         self.reason, scope))
        return "file:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def active_window(freezes: Sequence[RecurringFreeze], ad_hoc: Sequence[FreezeWindow], slug: str,
                  now: datetime) -> FreezeWindow | None:
    """The window that refuses a deployment of ``slug`` at ``now``, or None. When several
    contain ``now``, the one ending last (on a tie, an ad hoc one, then the file's order)."""
    found = [w for w in ad_hoc if w.applies_to(slug) and w.active_at(now)]
    for freeze in freezes:
        if freeze.applies_to(slug) and (window := freeze.active_window(now)) is not None:
            found.append(window)
    return max(found, key=lambda w: w.end, default=None)


def freeze_chain(freezes: Sequence[RecurringFreeze], ad_hoc: Sequence[FreezeWindow], slug: str,
                 now: datetime) -> list[FreezeWindow]:
    """The windows that keep ``slug`` frozen from ``now`` without a gap: the active one, then
    the one active when it ends, and so on (windows of one freeze joined). Empty: not frozen.
    A freeze that never lets go (``* * * * *`` + 1m) is followed :data:`CHAIN_STEPS` windows."""
    chain: list[FreezeWindow] = []
    window = active_window(freezes, ad_hoc, slug, now)
    for _step in range(CHAIN_STEPS):
        if window is None:
            break
        if chain and _same_freeze(chain[-1], window):
            chain[-1] = _joined(chain[-1], window)
        else:
            chain.append(window)
        window = active_window(freezes, ad_hoc, slug, window.end)
    return chain


def _same_freeze(a: FreezeWindow, b: FreezeWindow) -> bool:
    return (a.reason, a.use_cases, a.source) == (b.reason, b.use_cases, b.source)


def _joined(a: FreezeWindow, b: FreezeWindow) -> FreezeWindow:
    return FreezeWindow(min(a.start, b.start), max(a.end, b.end), a.reason, a.use_cases, a.source)


def coming_windows(freezes: Sequence[RecurringFreeze], ad_hoc: Sequence[FreezeWindow],
                   slug: str | None, now: datetime, horizon: timedelta) -> list[FreezeWindow]:
    """The windows open at ``now`` or starting before ``now + horizon``, for ``slug`` (None:
    every window), ordered by start then end. Overlapping or touching windows of one recurring
    freeze are listed as one (``*/10 9-17 * * *`` + ``10m`` reads as 09:00–18:00)."""
    return listed_windows(freezes, ad_hoc, slug, now, horizon, limit=None)[0]


def listed_windows(freezes: Sequence[RecurringFreeze], ad_hoc: Sequence[FreezeWindow],
                   slug: str | None, now: datetime, horizon: timedelta, *,
                   limit: int | None = LISTED_FIRES
                   ) -> tuple[list[FreezeWindow], list[tuple[RecurringFreeze, datetime]]]:
    """:func:`coming_windows` at a bounded cost: at most ``limit`` fire times per freeze. Also
    the freezes listed only in part, each with how far (a cron every few minutes)."""
    now = _utc(now)
    end = now + horizon
    out = [w for w in ad_hoc if (slug is None or w.applies_to(slug)) and w.end > now and w.start < end]
    partial = []
    for freeze in freezes:
        if slug is None or freeze.applies_to(slug):
            found = freeze.windows(now, end, limit=limit)
            out += _merged(found)
            if limit is not None and found and len(found) >= limit and found[-1].end < end:
                partial.append((freeze, found[-1].end))
    return sorted(out, key=lambda w: (w.start, w.end)), partial


@dataclass(frozen=True)
class Boundary:
    """A freeze beginning or ending: announced once where it applies (claimed by its key)."""

    key: str     # the freeze: RecurringFreeze.key, or "adhoc:<id>"
    starts: bool
    at: datetime
    window: FreezeWindow

    @property
    def claim(self) -> str:
        return claim_of(self.key, self.starts, self.at)


def claim_of(key: str, starts: bool, at: datetime) -> str:
    """What a start or end is claimed by, e.g. "adhoc:7:end@2026-05-04T22:00:00+00:00"."""
    return f"{key}:{'start' if starts else 'end'}@{_utc(at).isoformat()}"


def ad_hoc_key(freeze_id: int) -> str:
    return f"adhoc:{freeze_id}"


def boundaries(freezes: Sequence[RecurringFreeze], ended: Sequence[tuple[str, FreezeWindow]],
               since: datetime, now: datetime) -> list[Boundary]:
    """The starts and ends in ``(since, now]``, oldest first, of the file's freezes (windows of
    one freeze that meet are one: no end and start between them) and the ends of ad hoc windows
    (``ended``: their keys and windows; they are announced when made). A start is left out when
    its window is over by ``now``: only its end is still news."""
    since, now = _utc(since), _utc(now)
    out = [Boundary(key, False, w.end, w) for key, w in ended if since < w.end <= now]
    for freeze in freezes:
        for w in _merged(freeze.windows(since, now + _INSTANT)):
            if since < w.start <= now < w.end:
                out.append(Boundary(freeze.key, True, w.start, w))
            if since < w.end <= now:
                out.append(Boundary(freeze.key, False, w.end, w))
    return sorted(out, key=lambda b: (b.at, b.starts))


def _merged(windows: list[FreezeWindow]) -> list[FreezeWindow]:
    """Windows of one freeze (same reason and use cases, oldest first) joined where they meet."""
    out: list[FreezeWindow] = []
    for window in windows:
        if out and window.start <= out[-1].end:
            out[-1] = _joined(out[-1], window)
        else:
            out.append(window)
    return out
