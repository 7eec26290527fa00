"""The `/metric` grammar: text in, a command dataclass out, or a UsageError with the usage line."""

from __future__ import annotations

from collections.abc import Callable

from bot.services.commands import (
    MetricCommand,
    PullKpi,
    RecordMetric,
    SetTarget,
    ShowDora,
    ShowMetrics,
    ShowSources,
)
from handlers.grammar.parsing import UsageError, dispatch, parse_slug, plain_text, shown, split

USAGE = {
    "record": "/metric record <slug> <name> <value> [unit=<text>]",
    "show": "/metric show <slug> [<name>] [days=30]",
    "target": "/metric target <slug> <name> <op> <number>     op: >=, <=, >, <",
    "dora": "/metric dora [<slug>] [days=30]",
    "sources": "/metric sources [<slug>]",
    "pull": "/metric pull <slug> <name>",
}
HELP = [
    (USAGE["record"], "Record a KPI value (owner, team members, admins); e.g. `precision 0.83`."),
    (USAGE["show"], "Latest values, changes, sparklines, targets, and a chart in the channel."),
    (USAGE["target"], "Set the target; crossing it either way is announced once."),
    (USAGE["dora"], "Deployment frequency, lead time, change failure rate, time to restore."),
    (USAGE["sources"], "KPIs pulled from SQL, Prometheus or MLflow: schedule, last value, status."),
    (USAGE["pull"], "Pull one KPI from its source now (owner, team members, admins)."),
]
MAX_DAYS = 366


def parse_metric(text: str) -> MetricCommand:
    return dispatch(text, _PARSERS, USAGE, command="/metric")


def _days(raw: str | None, usage: str) -> int:
    if raw is None:
        return 30
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DAYS:
        raise UsageError(f"`days={shown(raw)}` must be a whole number from 1 to {MAX_DAYS}.", usage)
    return int(raw)


def _record(rest: str, usage: str) -> RecordMetric:
    tokens = split(rest, allowed=frozenset({"unit"}), usage=usage)
    if len(tokens.positional) != 3:
        raise UsageError("Give the use case, the KPI's name and one value, "
                         "e.g. `/metric record churn precision 0.83`.", usage)
    slug, name, value = tokens.positional
    return RecordMetric(parse_slug(slug, usage), name, value, plain_text(tokens.options.get("unit", "")))


def _show(rest: str, usage: str) -> ShowMetrics:
    tokens = split(rest, allowed=frozenset({"days"}), usage=usage)
    if not 1 <= len(tokens.positional) <= 2:
        raise UsageError("Give the use case and, optionally, one KPI name.", usage)
    name = tokens.positional[1] if len(tokens.positional) == 2 else None
    days = _days(tokens.options.get("days"), usage)
    return ShowMetrics(parse_slug(tokens.positional[0], usage), name, days)


def _target(rest: str, usage: str) -> SetTarget:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) != 4:
        raise UsageError("Give the use case, the KPI, an operator and a number, "
                         "e.g. `/metric target churn precision >= 0.8`.", usage)
    slug, name, op, value = tokens.positional
    return SetTarget(parse_slug(slug, usage), name, plain_text(op), value)


def _dora(rest: str, usage: str) -> ShowDora:
    tokens = split(rest, allowed=frozenset({"days"}), usage=usage)
    if len(tokens.positional) > 1:
        raise UsageError("Give at most one use case.", usage)
    slug = parse_slug(tokens.positional[0], usage) if tokens.positional else None
    return ShowDora(slug, _days(tokens.options.get("days"), usage))


def _sources(rest: str, usage: str) -> ShowSources:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) > 1:
        raise UsageError("Give at most one use case.", usage)
    return ShowSources(parse_slug(tokens.positional[0], usage) if tokens.positional else None)


def _pull(rest: str, usage: str) -> PullKpi:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) != 2:
        raise UsageError("Give the use case and the KPI's name, e.g. `/metric pull churn auc`.",
                         usage)
    slug, name = tokens.positional
    return PullKpi(parse_slug(slug, usage), name)


_PARSERS: dict[str, Callable[[str, str], MetricCommand]] = {
    "record": _record, "show": _show, "target": _target, "dora": _dora, "sources": _sources,
    "pull": _pull,
}
