"""The web dashboard's pages (SPEC "Web dashboard"): GET only, each reading what its query
selects through the dashboard service and answering HTML. A malformed query is answered with a
page that says what was wrong and how to write it (400), never a traceback; the sign-in
guard (handlers/web_guard.py) has put the signed-in person on the request."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain.audit import AuditFilter
from bot.domain.dashboard import SEARCH_MAX, DeploymentFilter, PortfolioFilter
from bot.domain.deployment_model import DeploymentState
from bot.domain.usecases import SLUG_RE, Phase
from bot.render import web_pages
from bot.services.dashboard import DashboardService
from handlers.api_values import BadInput, rfc3339
from handlers.grammar.parsing import MAX_ID, parse_id
from handlers.web_session import VIEWER, viewer_of

USER_ID = 32  # characters of a Slack user or channel ID, at most


def register(web_app: web.Application, dashboard: DashboardService, tz: str,
             timebox: timedelta) -> None:
    pages = _Pages(dashboard, tz, timebox)
    css = (resources.files("bot.render") / "static" / "dashboard.css").read_bytes()

    async def stylesheet(_request: web.Request) -> web.Response:
        return web.Response(body=css, content_type="text/css", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=3600"})

    web_app.router.add_get("/", pages.portfolio)
    web_app.router.add_get("/use-cases/{slug}", pages.use_case)
    web_app.router.add_get("/deployments", pages.deployments)
    web_app.router.add_get("/dora", pages.dora)
    web_app.router.add_get("/audit", pages.audit)
    web_app.router.add_get("/static/dashboard.css", stylesheet)


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


class _Pages:
    def __init__(self, dashboard: DashboardService, tz: str, timebox: timedelta) -> None:
        self.dashboard, self.tz, self.timebox = dashboard, tz, timebox

    def refused(self, request: web.Request, bad: BadInput) -> web.Response:
        return _html(web_pages.message("That page cannot be shown", [str(bad)], _who(request),
                                       self.tz, back=request.path, back_label="Start again"), 400)

    async def portfolio(self, request: web.Request) -> web.Response:
        try:
            where, after = _portfolio_query(request.query)
        except BadInput as bad:
            return self.refused(request, bad)
        found = await self.dashboard.portfolio(_id(request), where, after)
        return _html(web_pages.portfolio(found, _who(request), self.tz, self.timebox))

    async def use_case(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        try:
            _only(request.query, ("deployment",))
            upto = _number(request.query, "deployment")
        except BadInput as bad:
            return self.refused(request, bad)
        story = (await self.dashboard.use_case(_id(request), slug, upto)
                 if SLUG_RE.fullmatch(slug) else None)
        if story is None:
            return _html(web_pages.message("No such use case", [
                f"There is no use case {slug[:40]!r} that you may see: it may be spelled "
                "differently, or be homed in a private channel you are not in."],
                _who(request), self.tz), 404)
        return _html(web_pages.use_case(story, _who(request), self.tz, self.timebox,
                                        web_pages.kpi_figures(story.charts)))

    async def deployments(self, request: web.Request) -> web.Response:
        try:
            where, before = _deployments_query(request.query, self.tz)
        except BadInput as bad:
            return self.refused(request, bad)
        found = await self.dashboard.deployments(_id(request), where, before)
        return _html(web_pages.deployments(found, _who(request), self.tz))

    async def dora(self, request: web.Request) -> web.Response:
        shown, trend = await self.dashboard.dora()
        return _html(web_pages.dora(shown, _who(request), self.tz,
                                    web_pages.dora_figures(trend.charts if trend else [])))

    async def audit(self, request: web.Request) -> web.Response:
        try:
            where, after = _audit_query(request.query, self.tz)
        except BadInput as bad:
            return self.refused(request, bad)
        page = await self.dashboard.audit(_id(request), where, after)
        return _html(web_pages.audit(page, _who(request), self.tz, _cursor(page.after)))


def _id(request: web.Request) -> str:
    return viewer_of(request).user_id


def _who(request: web.Request) -> str:
    viewer = request.get(VIEWER)
    return "" if viewer is None else viewer.name or viewer.user_id


def _only(query: Any, known: tuple[str, ...]) -> None:
    if unknown := sorted(set(query) - set(known)):
        raise BadInput(f"{unknown[0][:40]!r} is not a filter here; the filters: {', '.join(known)}.")


def _text(query: Any, name: str, limit: int) -> str | None:
    value = query.get(name, "").strip()
    if len(value) > limit:
        raise BadInput(f"{name}: at most {limit} characters, not {len(value)}.")
    return value or None


def _slug(query: Any, name: str) -> str | None:
    slug = _text(query, name, 40)
    if slug is not None and not SLUG_RE.fullmatch(slug):
        raise BadInput(f"{name}: {slug!r} is not a use case slug (lower case letters, digits "
                       "and dashes, e.g. churn-model).")
    return slug


def _number(query: Any, name: str) -> int | None:
    """A deployment's number, as a page's own link carries it."""
    raw = _text(query, name, 12)
    if raw is None:
        return None
    if (number := parse_id(raw)) is None:
        raise BadInput(f"{name}: {raw!r} is not a deployment number (1 to {MAX_ID}).")
    return number


def _portfolio_query(query: Any) -> tuple[PortfolioFilter, str | None]:
    _only(query, ("q", "phase", "owner", "domain", "channel", "after"))
    phase = _text(query, "phase", 16)
    if phase is not None and phase not in {p.value for p in Phase}:
        raise BadInput(f"phase: {phase!r} is not a phase; write one of "
                       f"{', '.join(p.value for p in Phase)}.")
    where = PortfolioFilter(Phase(phase) if phase else None, _text(query, "owner", USER_ID),
                            _text(query, "domain", 200), _text(query, "channel", USER_ID),
                            _text(query, "q", SEARCH_MAX) or "")
    return where, _slug(query, "after")


def _moment(query: Any, name: str, tz: str, *, end_of_day: bool = False) -> datetime | None:
    """A day of the dashboard's time zone (2026-03-01, from a date field: its first moment, or
    with ``end_of_day`` its last, so that the day reads back as itself) or an RFC 3339 moment."""
    raw = _text(query, name, 40)
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return rfc3339(raw, name)
    if end_of_day:
        day += timedelta(days=1)
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return start - timedelta(microseconds=1) if end_of_day else start


def _deployments_query(query: Any, tz: str) -> tuple[DeploymentFilter, int | None]:
    _only(query, ("use_case", "result", "since", "until", "before"))
    result = _text(query, "result", 20)
    states = [s.value for s in DeploymentState]
    if result is not None and result not in states:
        raise BadInput(f"result: {result!r} is not a result; write one of {', '.join(states)}.")
    where = DeploymentFilter(_slug(query, "use_case"), DeploymentState(result) if result else None,
                             _moment(query, "since", tz), _moment(query, "until", tz, end_of_day=True))
    return where, _number(query, "before")


def _audit_query(query: Any, tz: str) -> tuple[AuditFilter, tuple[datetime, int, int] | None]:
    _only(query, ("use_case", "since", "until", "after"))
    where = AuditFilter(_moment(query, "since", tz), _moment(query, "until", tz, end_of_day=True),
                        _slug(query, "use_case"))
    raw = _text(query, "after", 80)
    if raw is None:
        return where, None
    at, _, rest = raw.rpartition("~")  # the cursor a page's link carries: at~source~id
    moment, _, source = at.rpartition("~")
    if not (source in ("0", "1") and rest.isdigit()):
        raise BadInput("after: not a page of this trail; follow the page's own link.")
    return where, (rfc3339(moment, "after"), int(source), int(rest))


def _cursor(key: tuple[datetime, int, int] | None) -> str | None:
    if key is None:
        return None
    at, source, row_id = key
    return f"{at.isoformat().replace('+00:00', 'Z')}~{source}~{row_id}"
