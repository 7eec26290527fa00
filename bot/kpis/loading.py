"""Load and validate the KPI source file (``BIZDEVOPS_KPI_SOURCES``, TOML) into
:mod:`bot.domain.kpis` objects, and the database URLs its SQL connections name.

Every problem is collected with its key path (``kpis[2].source.connection``) so that
``bizdevops check-config`` and start-up report them all at once. The rules are in
:mod:`bot.kpis.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url

from bot.domain.kpis import NO_SOURCES, KpiSourceSet
from bot.kpis.checks import KpiChecker
from bot.toml_values import PipelineProblem, read_toml

MLFLOW_URL_MISSING = "BIZDEVOPS_MLFLOW_URL is required: the KPI file has MLflow sources"
_WHAT = "KPI source file"


@dataclass(frozen=True)
class KpiConfig:
    sources: KpiSourceSet = NO_SOURCES
    # connection name -> async SQLAlchemy URL; kept out of repr: they hold passwords.
    connection_urls: dict[str, str] = field(default_factory=dict, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message or a log: each URL and its password."""
        urls = [make_url(u) for u in self.connection_urls.values()]
        return tuple(self.connection_urls.values()) + tuple(str(u.password) for u in urls
                                                            if u.password)


class KpiSourceError(Exception):
    """The KPI source file is unusable; ``problems`` holds every reason found."""

    def __init__(self, problems: list[PipelineProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def parse_kpi_sources(data: Mapping[str, Any], env: Mapping[str, str], *, timezone: str = "UTC",
                      mlflow_url: str = "") -> KpiConfig:
    """Validate already-parsed TOML; raise :class:`KpiSourceError` with every problem."""
    checker = KpiChecker(env, timezone)
    sources = checker.source_set(data)
    problems = list(checker.problems)
    if checker.uses_mlflow and not mlflow_url.strip():
        problems.append(PipelineProblem("BIZDEVOPS_MLFLOW_URL",
                                        "required: the KPI file has MLflow sources"))
    if problems or sources is None:
        raise KpiSourceError(problems)
    return KpiConfig(sources, dict(checker.urls))


def load_kpi_sources(path: str | None, env: Mapping[str, str], *, timezone: str = "UTC",
                     mlflow_url: str = "") -> KpiConfig:
    """The KPIs of the file at ``path``, their connections' URLs read from ``env``; no KPIs
    without a path."""
    if not path or not path.strip():
        return KpiConfig()
    data, unreadable = read_toml(path.strip(), _WHAT)
    if unreadable is not None:
        raise KpiSourceError([unreadable])
    return parse_kpi_sources(data, env, timezone=timezone, mlflow_url=mlflow_url)


def check_kpi_file(env: Mapping[str, str]) -> list[str]:
    """Every problem with the KPI source file that ``env`` names, one printable line each."""
    path = env.get("BIZDEVOPS_KPI_SOURCES", "").strip()
    if not path:
        return []
    data, unreadable = read_toml(path, _WHAT)
    if unreadable is not None:
        return [str(unreadable)]
    checker = KpiChecker(env, _timezone(env))
    checker.source_set(data)
    lines = [f"{path}: {problem}" for problem in checker.problems]
    # Checked even when the file has other problems, so one run reports everything.
    if checker.uses_mlflow and not env.get("BIZDEVOPS_MLFLOW_URL", "").strip():
        lines.append(MLFLOW_URL_MISSING)
    return lines


def _timezone(env: Mapping[str, str]) -> str:
    """BIZDEVOPS_TIMEZONE, or UTC when it is unusable (the settings check reports that)."""
    name = env.get("BIZDEVOPS_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return name
