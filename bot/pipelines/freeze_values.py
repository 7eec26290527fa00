"""The pipeline file's recurring freeze windows, ``[[freezes]]``: which keys each takes and what
makes them valid, every problem with its key path (the rest of the file: ``checks.py``).

A freeze's cron may fire as often as every minute, and its duration may be longer than the gap
between two fire times: such windows overlap, and a moment is frozen while any of them lasts, so
there is nothing to refuse (``bot.domain.freezes`` explains the arithmetic).
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from bot.domain.freezes import FREEZE_CRON_MIN_INTERVAL, MAX_DURATION, RecurringFreeze
from bot.domain.schedule import Schedule, ScheduleError
from bot.domain.usecases import SLUG_RE
from bot.render import refusals
from bot.render.mrkdwn import unescape
from bot.toml_values import TomlReader, join, kind_of, quote

FREEZE_KEYS = ("cron", "duration", "tz", "reason", "use_cases")
MAX_REASON = 200
_PROBE_CRON = "0 0 * * *"  # a valid cron, to tell a bad time zone from a bad cron


class FreezeValues(TomlReader):
    def freezes(self, value: Any, path: str = "freezes") -> tuple[RecurringFreeze, ...]:
        if not isinstance(value, list):
            self.fail(path, f"expected [[{path}]] tables, got {kind_of(value)}")
            return ()
        found = [self.freeze(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return tuple(f for f in found if f is not None)

    def freeze(self, value: Any, path: str) -> RecurringFreeze | None:
        table = self.table(value, path, FREEZE_KEYS)
        if table is None:
            return None
        count = len(self.problems)
        schedule = self.freeze_schedule(table, path)
        if "duration" not in table:
            self.fail(join(path, "duration"), 'missing; e.g. "2h" or "2d15h"')
        duration = self.duration(table, "duration", path, timedelta(hours=1), MAX_DURATION)
        reason = self.reason(table, path)
        use_cases = self.slugs(table["use_cases"], join(path, "use_cases")) if "use_cases" in table else None
        if schedule is None or reason is None or len(self.problems) > count:
            return None
        return RecurringFreeze(schedule, duration, reason, use_cases)

    def freeze_schedule(self, table: dict[str, Any], path: str) -> Schedule | None:
        cron = self.string(table, "cron", path, required=True)
        tz = self.string(table, "tz", path) if "tz" in table else "UTC"
        if tz is not None and "tz" in table and isinstance(problem := _schedule(_PROBE_CRON, tz), str):
            self.fail(join(path, "tz"), problem + _zone_hint(tz))
            tz = None
        if cron is None:
            return None
        schedule = _schedule(cron, tz or "UTC")  # the cron is checked even with a bad zone
        if isinstance(schedule, str):
            self.fail(join(path, "cron"), schedule)
            return None
        return schedule if tz is not None else None

    def reason(self, table: dict[str, Any], path: str) -> str | None:
        reason = self.string(table, "reason", path, required=True)
        if reason is None:
            return None
        reason = reason.strip()
        if not reason:
            self.fail(join(path, "reason"), "must not be empty: say why deployments wait")
        elif len(reason) > MAX_REASON:
            self.fail(join(path, "reason"), f"at most {MAX_REASON} characters, not {len(reason)}")
        return reason or None

    def slugs(self, value: Any, path: str) -> frozenset[str] | None:
        if not isinstance(value, list) or not value:
            self.fail(path, 'expected a non-empty list of use-case slugs like ["churn"] '
                            "(leave it out to freeze every use case)")
            return None
        bad = "is not a use-case slug (lowercase letters, digits and -, 2 to 40 characters)"
        return frozenset(self.unique_strings(value, path, lambda s: bool(SLUG_RE.fullmatch(s)), bad))


def _schedule(cron: str, tz: str) -> Schedule | str:
    """The schedule, or ScheduleError's words on why it is none."""
    try:
        return Schedule(cron, tz, min_interval=FREEZE_CRON_MIN_INTERVAL)
    except ScheduleError as bad:  # said of a cron, not of a digest schedule
        return unescape(refusals.said(ScheduleError(bad.key, **{**bad.facts, "subject": "cron"})))


def _zone_hint(tz: str) -> str:
    close = difflib.get_close_matches(tz, sorted(available_timezones()), n=1)
    return f" Did you mean {quote(close[0])}?" if close else ""
