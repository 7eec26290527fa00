"""The web dashboard's pages as HTML (Jinja2, autoescaped: whatever a person typed in Slack is
text here, never markup). One function per page turns the service's facts into the words and
rows its template shows; the templates (bot/render/templates) only lay them out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.domain.dashboard_urls import deployment_url, use_case_url
from bot.domain.deployment_model import DeploymentState
from bot.domain.dora import CHANGE_FAILURE_RATE, FREQUENCY, LEAD_TIME, TIME_TO_RESTORE
from bot.domain.kpi_chart import KpiChart
from bot.domain.metrics import Target, format_number, with_unit
from bot.domain.safe_text import web_url
from bot.domain.usecases import Phase, UseCase
from bot.render.audit_words import event_words, export_fields, moved_words, said_of
from bot.render.blocks import when
from bot.render.change_links import change_label
from bot.render.dora_changes import compare
from bot.render.durations import humanize
from bot.render.metric_blocks import duration_or_na, failure_rate, from_request, per_week, target_status
from bot.render.plain_text import plain_text
from bot.render.production_words import production_line, short_production
from bot.render.svg_charts import kpi_chart_text, kpi_svg

if TYPE_CHECKING:
    from bot.domain.metric_results import DoraShown
    from bot.services.dashboard import AuditPage, DeploymentsPage, Portfolio, UseCaseStory
    from bot.services.ports import StoredPoint, StoredTarget

NAV = (("/", "Portfolio"), ("/deployments", "Deployments"), ("/dora", "DORA"), ("/audit", "Audit"))
PHASES = tuple((p.value, p.label) for p in Phase)
ENV = Environment(loader=PackageLoader("bot.render", "templates"), undefined=StrictUndefined,
                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _page(template: str, title: str, here: str, viewer: str, tz: str, **values: Any) -> str:
    return ENV.get_template(template).render(title=title, here=here, nav=NAV, viewer=viewer,
                                             tz=tz, **values)


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CODE = re.compile(r"`([^`\n]*)`")


def _read(mrkdwn: str, names: Mapping[str, str]) -> str:
    """mrkdwn for a page: people by their names, versions without their code marks."""
    named = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), mrkdwn)
    return _CODE.sub(r"\1", plain_text(named))


def _name(names: Mapping[str, str], user_id: str | None) -> str:
    return "the bot" if not user_id else names.get(user_id, user_id)


def _kpi(point: StoredPoint | None, target: StoredTarget | None, name: str = "") -> str:
    if point is None:
        return f"{name}: no value yet"
    value = with_unit(format_number(point.value), point.unit)
    if target is None:
        return f"{point.name}: {value}, no target"
    return f"{point.name}: {value}, {target_status(Target(target.op, target.value), point.value, point.unit)}"


def _kpis(uc: UseCase, newest: list[StoredPoint], targets: Mapping[str, StoredTarget]) -> list[str]:
    """The success KPI first, then every KPI with a target, each against its target."""
    by_name = {p.name: p for p in newest}
    names = ([uc.kpi] if uc.kpi else []) + sorted(set(targets) - {uc.kpi})
    if not names:
        return ["no KPI named yet"]
    return [_kpi(by_name.get(name), targets.get(name), name) for name in names]


def _query(base: str, **values: object) -> str:
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base


def portfolio(p: Portfolio, viewer: str, tz: str, timebox: Any) -> str:
    rows = [{"slug": uc.slug, "title": uc.title, "phase": uc.phase.label,
             "owner": _name(p.names, uc.owner_id), "in_phase": humanize(uc.time_in_phase(p.now)),
             "overdue": uc.is_overdue(p.now, timebox),
             "owner_id": uc.owner_id, "domain": uc.domain,
             "production": _read(short_production(p.production.get(uc.slug)), p.names),
             "kpis": _kpis(uc, p.kpis.get(uc.slug, []), p.targets.get(uc.slug, {}))}
            for uc in p.use_cases]
    w = p.where
    next_href = _query("/", q=w.search, phase=w.phase.value if w.phase else None, owner=w.owner_id,
                       domain=w.domain, channel=w.channel_id, after=p.after) if p.after else None
    return _page("portfolio.html", "Portfolio", "/", viewer, tz, where=w, empty=type(w)(),
                 rows=rows, counts=p.counts, phases=PHASES, next_href=next_href)


def use_case(s: UseCaseStory, viewer: str, tz: str, timebox: Any,
             charts: list[dict[str, Any]]) -> str:
    uc = s.use_case
    history = [{"at": when(c.at, tz), "by": _name(s.names, c.actor_id),
                "words": moved_words((c.from_phase and c.from_phase.value, c.to_phase.value), c.note)}
               for c in uc.history]
    team = [f"{_name(s.names, m.user_id)} ({m.role.value.replace('_', ' ')})" for m in uc.team]
    return _page("use_case.html", uc.slug, "", viewer, tz, uc=uc, phase=uc.phase.label,
                 in_phase=humanize(uc.time_in_phase(s.now)), overdue=uc.is_overdue(s.now, timebox),
                 owner=_name(s.names, uc.owner_id), team=team, history=history,
                 production=_read(production_line(s.production, tz), s.names), charts=charts,
                 days=(s.period[1] - s.period[0]).days,
                 deployments=[_deployment(d, trail, s.names, tz) for d, trail in s.deployments],
                 older_href=deployment_url("", uc.slug, s.older) if s.older else None,
                 newest_href=f"{use_case_url('', uc.slug)}#deployments" if s.newer else None)


def _deployment(d: Any, trail: Any, names: Mapping[str, str], tz: str) -> dict[str, Any]:
    what = ("rollback to " if d.kind == "rollback" else "") + d.version \
        + (" (dry run)" if d.dry_run else "")
    stages = [f"{s.spec.name}: {s.state.value.replace('_', ' ')}"
              + (f", {when(s.finished_at, tz)}" if s.finished_at else "") for s in d.stages]
    events = [{"at": when(e.at, tz), "action": e.kind.replace("_", " "), "by": _name(names, e.actor),
               "detail": _read(event_words(e.kind, e.detail, tz, said=said_of(
                   e.kind, d.version, d.pipeline, dry_run=d.dry_run, rollback=d.kind == "rollback")),
                   names)}
              for e in trail]
    return {"id": d.id, "what": what, "state": d.state.value.replace("_", " "),
            "by": _name(names, d.requested_by), "at": when(d.requested_at, tz), "pipeline": d.pipeline,
            "change": change_label(d.change) if d.change else "",
            "change_url": web_url(d.change.url) if d.change else None, "stages": stages, "trail": events}


def deployments(p: DeploymentsPage, viewer: str, tz: str) -> str:
    rows = [{"id": d.id, "slug": d.slug, "href": deployment_url("", d.slug, d.id),
             "version": d.version + (" (dry run)" if d.dry_run else ""),
             "state": d.state.replace("_", " "), "at": when(d.requested_at, tz),
             "by": _name(p.names, d.requested_by),
             "took": humanize(d.finished_at - d.requested_at) if d.finished_at else "under way"}
            for d in p.deployments]
    w = p.where
    next_href = _query("/deployments", use_case=w.use_case, result=w.result.value if w.result else None,
                       since=_stamp(w.since), until=_stamp(w.until), before=p.before) if p.before else None
    return _page("deployments.html", "Deployments", "/deployments", viewer, tz, where=w, rows=rows,
                 results=[s.value for s in DeploymentState], since=_day(w.since, tz),
                 until=_day(w.until, tz), next_href=next_href)


def _day(at: datetime | None, tz: str) -> str:
    """The day of the dashboard's time zone a filter's moment falls on, for its date field."""
    return at.astimezone(ZoneInfo(tz)).date().isoformat() if at else ""


def dora(shown: DoraShown, viewer: str, tz: str, charts: list[dict[str, Any]]) -> str:
    r, before = shown.report, shown.previous
    changes = compare(r, before)
    metrics = [{"name": name, "now": say(r), "before": say(before),
                "band": f"{r.bands[key]} ({changes[key]})"} for key, name, say in (
        (FREQUENCY, "Deployment frequency", per_week),
        (LEAD_TIME, "Lead time for changes", lambda x: duration_or_na(x.lead_time)),
        (CHANGE_FAILURE_RATE, "Change failure rate", failure_rate),
        (TIME_TO_RESTORE, "Time to restore", lambda x: duration_or_na(x.time_to_restore)))]
    note = (f"{r.deployments} production deployments, {r.failed} failed; dry runs are never counted"
            + (f"; {from_request(r)}" if r.lead_from_request else "") + ".")
    busiest = [{"slug": slug, "deployments": b.deployments, "cfr": failure_rate(b),
                "lead": duration_or_na(b.lead_time)} for slug, b in shown.per_use_case]
    return _page("dora.html", "DORA metrics", "/dora", viewer, tz, days=r.days, band=r.band,
                 metrics=metrics, note=note, busiest=busiest, charts=charts)


def audit(p: AuditPage, viewer: str, tz: str, after: str | None) -> str:
    rows = []
    for e in p.events:
        fields = export_fields(e, tz, say=lambda mrkdwn: _read(mrkdwn, p.names))
        rows.append({"at": when(e.at, tz), "by": _name(p.names, e.actor), "slug": e.use_case,
                     "deployment_id": e.deployment_id, "action": e.action.replace("_", " "),
                     "deployment_href": deployment_url("", e.use_case, e.deployment_id)
                     if e.deployment_id else None,
                     "detail": fields["detail"]})
    w = p.where
    filters = {"use_case": w.use_case, "since": _stamp(w.since), "until": _stamp(w.until)}
    next_href = _query("/audit", **filters, after=after) if after else None
    return _page("audit.html", "Audit trail", "/audit", viewer, tz, where=w, rows=rows,
                 since=_day(w.since, tz), until=_day(w.until, tz), next_href=next_href,
                 csv_href=_query("/api/v1/audit", **filters, format="csv"),
                 json_href=_query("/api/v1/audit", **filters, format="json"))


def _stamp(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def message(title: str, paragraphs: list[str], viewer: str, tz: str, *,
            back: str = "/", back_label: str = "Back to the portfolio") -> str:
    """A refusal or an explanation, as a page."""
    return _page("message.html", title, "", viewer, tz, paragraphs=paragraphs, back=back,
                 back_label=back_label)


def kpi_figures(charts: Sequence[KpiChart]) -> list[dict[str, Any]]:
    """Each chart as inline SVG (its text escaped by bot/render/svg_charts.py) and the sentence
    that says what it shows."""
    return [{"svg": Markup(kpi_svg(c)), "text": kpi_chart_text(c)}  # noqa: S704 - escaped there
            for c in charts]


# The DORA trend's charts carry the metric's key and no use case: named here for people.
DORA_NAMES = {FREQUENCY: ("Deployment frequency", "per week"), LEAD_TIME: ("Lead time", "hours"),
              CHANGE_FAILURE_RATE: ("Change failure rate", "%"),
              TIME_TO_RESTORE: ("Time to restore", "hours")}


def dora_figures(charts: Sequence[KpiChart]) -> list[dict[str, Any]]:
    # The metric's key stands in for the slug no DORA chart has: each chart's ids its own.
    return kpi_figures([replace(c, slug=f"dora-{c.name}", title=DORA_NAMES[c.name][0],
                                name="all public use cases", unit=DORA_NAMES[c.name][1])
                        for c in charts])
