"""The rules of the KPI source file: a walk over the parsed TOML that builds the domain objects
and collects every problem with its key path (``kpis[2].source.connection``) and a hint.

``bot.kpis.loading`` reads the file and reports; this module (with ``source_values.py`` for the
connections and sources) knows what a valid file is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from bot.domain.kpis import KPI_CRON_MIN_INTERVAL, MIN_EVERY, Every, KpiSchedule, KpiSourceSet, KpiSpec
from bot.domain.metrics import Target, parse_op, parse_value, validate_name, validate_unit
from bot.domain.schedule import Schedule, ScheduleError
from bot.domain.usecases import SLUG_RE, DomainError
from bot.kpis.source_values import SourceValues
from bot.render import refusals
from bot.render.mrkdwn import unescape
from bot.toml_values import join, kind_of, parse_duration, quote, short

DEFAULT_TIMEOUT = timedelta(seconds=30)
MAX_TIMEOUT = timedelta(minutes=10)
_TOP_KEYS = ("connections", "kpis")
_KPI_KEYS = ("use_case", "name", "unit", "every", "cron", "tz", "target", "timeout", "source")
_TARGET_RE = re.compile(r"\s*([<>=≥≤!]+)\s*(.*)")
_TARGET_EXAMPLE = 'a comparison and a number, like ">= 0.83" or "<= 250"'
_PROBE_CRON = "0 0 * * *"  # a valid cron, to tell a bad time zone from a bad cron


class KpiChecker(SourceValues):
    """Walks the parsed file, building domain objects and collecting problems as it goes."""

    def __init__(self, env: Mapping[str, str], timezone: str = "UTC") -> None:
        super().__init__(env)
        self.timezone = timezone  # for a cron without `tz`: BIZDEVOPS_TIMEZONE

    def source_set(self, data: Mapping[str, Any]) -> KpiSourceSet | None:
        self.table(data, "", _TOP_KEYS)
        raw = data.get("connections", {})
        connections = self.connections(raw)
        # Sources may name any connection the file declares, even one whose URL has a problem.
        declared = list(raw) if isinstance(raw, dict) else []
        kpis = self.kpis(data.get("kpis"), declared)
        if self.problems:
            return None
        return KpiSourceSet(connections=connections, kpis=kpis)

    def kpis(self, raw: Any, connections: list[str]) -> tuple[KpiSpec, ...]:
        if not isinstance(raw, list) or not raw:
            got = "missing" if raw in (None, []) else f"expected [[kpis]] tables, got {kind_of(raw)}"
            self.fail("kpis", f"{got}; define at least one [[kpis]] table")
            return ()
        specs: list[KpiSpec] = []
        seen: dict[tuple[str, str], int] = {}
        for i, value in enumerate(raw):
            spec = self.kpi(value, f"kpis[{i}]", connections)
            if spec is not None:
                specs.append(spec)
            key = _key(value)
            if key is not None and key in seen:
                self.fail(f"kpis[{i}].name",
                          f"{quote(key[1])} of {quote(key[0])} is already kpis[{seen[key]}]")
            elif key is not None:
                seen[key] = i
        return tuple(specs)

    def kpi(self, value: Any, path: str, connections: list[str]) -> KpiSpec | None:
        table = self.table(value, path, _KPI_KEYS)
        if table is None:
            return None
        count = len(self.problems)
        use_case = self.use_case(table, path)
        name = self.checked(table, "name", path, validate_name, required=True)
        unit = self.checked(table, "unit", path, validate_unit) or ""
        schedule = self.schedule(table, path)
        target = self.target(table.get("target"), join(path, "target")) if "target" in table else None
        timeout = self.duration(table, "timeout", path, DEFAULT_TIMEOUT, MAX_TIMEOUT)
        source = self.source(table.get("source"), join(path, "source"), connections)
        if len(self.problems) > count or use_case is None or name is None or schedule is None \
                or source is None:
            return None
        return KpiSpec(use_case, name, source, schedule, unit=unit, target=target, timeout=timeout)

    def use_case(self, table: dict[str, Any], path: str) -> str | None:
        slug = self.string(table, "use_case", path, required=True)
        if slug is not None and not SLUG_RE.fullmatch(slug):
            self.fail(join(path, "use_case"), f"{quote(slug)} is not a use-case slug "
                                              "(lowercase letters, digits and -, 2 to 40 characters)")
            return None
        return slug

    def checked(self, table: dict[str, Any], key: str, path: str, check: Callable[[str], str],
                required: bool = False) -> str | None:
        """A string that ``check`` accepts (it raises DomainError with the words to report)."""
        value = self.string(table, key, path, required=required)
        if value is None:
            return None
        try:
            return check(value)
        except DomainError as bad:
            self.fail(join(path, key), unescape(refusals.said(bad)))
            return None

    def schedule(self, table: dict[str, Any], path: str) -> KpiSchedule | None:
        if "every" in table and "cron" in table:
            self.fail(join(path, "cron"), "give either `every` or `cron`, not both")
            return None
        if "tz" in table and "cron" not in table:
            self.fail(join(path, "tz"), "only applies with `cron`")
        if "every" in table:
            return self.every(table["every"], join(path, "every"))
        if "cron" in table:
            return self.cron(table, path)
        self.fail(path, 'missing a schedule: every = "1h", or cron = "0 * * * *" (with tz)')
        return None

    def every(self, raw: Any, path: str) -> Every | None:
        try:
            interval = parse_duration(raw)
        except ValueError as bad:
            self.fail(path, str(bad))
            return None
        # Whole minutes, like a cron: fire times then fall on the minute in every process.
        if interval < MIN_EVERY or interval % MIN_EVERY:
            self.fail(path, f"must be whole minutes, at least {short(MIN_EVERY)} "
                            f'(e.g. "5m" or "1h"), not {short(interval) if interval else 0}')
            return None
        return Every(interval)

    def cron(self, table: dict[str, Any], path: str) -> Schedule | None:
        cron = self.string(table, "cron", path)
        tz = self.string(table, "tz", path) if "tz" in table else self.timezone
        if cron is None or tz is None:
            return None
        if "tz" in table and isinstance(problem := _schedule(_PROBE_CRON, tz), str):
            self.fail(join(path, "tz"), problem)
            tz = "UTC"  # still check the cron, so one run reports both
        schedule = _schedule(cron, tz)
        if isinstance(schedule, str):
            self.fail(join(path, "cron"), schedule)
            return None
        return schedule

    def target(self, raw: Any, path: str) -> Target | None:
        if not isinstance(raw, str):
            self.fail(path, f"expected a string with {_TARGET_EXAMPLE}, got {kind_of(raw)}")
            return None
        match = _TARGET_RE.fullmatch(raw)
        if match is None:
            self.fail(path, f"expected {_TARGET_EXAMPLE}, got {quote(raw)}")
            return None
        try:
            return Target(parse_op(match[1]), parse_value(match[2]))
        except DomainError as bad:
            self.fail(path, unescape(refusals.said(bad)))
            return None


def _schedule(cron: str, tz: str) -> Schedule | str:
    """The schedule, or ScheduleError's words on why it is none."""
    try:
        return Schedule(cron, tz, min_interval=KPI_CRON_MIN_INTERVAL)
    except ScheduleError as bad:
        return unescape(refusals.said(bad))


def _key(value: Any) -> tuple[str, str] | None:
    """A KPI's (use_case, name) when both are strings, to find one listed twice."""
    if not isinstance(value, dict):
        return None
    use_case, name = value.get("use_case"), value.get("name")
    return (use_case, name) if isinstance(use_case, str) and isinstance(name, str) else None
