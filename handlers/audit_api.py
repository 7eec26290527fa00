"""`GET /api/v1/audit?since=&until=&use_case=&format=csv|json` for a person signed in to the
dashboard or an ``audit:read`` token (SPEC "Audit export"): one row per audit event — a phase
change or a deployment event: at, actor, use_case, deployment_id, action, detail — as CSV with a
header or JSON Lines, streamed a page at a time, oldest first. A use case homed in a private
channel is exported only to a person in that channel: a token is nobody's, and gets none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from aiohttp import web

from bot.domain.audit import AuditFilter
from bot.domain.usecases import SLUG_RE
from bot.render.audit_words import csv_lines, json_lines
from bot.services.audit import AuditExport
from bot.services.tokens import TokenService
from handlers.api_tokens import bearer
from handlers.api_values import BadInput, rfc3339
from handlers.web_session import VIEWER, Viewer

SCOPE = "audit:read"
FORMATS = {"csv": "text/csv", "json": "application/x-ndjson"}
KNOWN = ("since", "until", "use_case", "format")
# A signed-in person's export: the filter narrowed to what they may see.
Narrow = Callable[[AuditFilter, Viewer], Awaitable[AuditFilter]]
PUBLIC_ONLY: frozenset[str] = frozenset()  # the private channels a token is in: none


def register(web_app: web.Application, tokens: TokenService, export: AuditExport, tz: str,
             narrow: Narrow) -> None:
    async def audit(request: web.Request) -> web.StreamResponse:
        viewer = request.get(VIEWER)  # the dashboard's guard names a signed-in person
        if not isinstance(viewer, Viewer):
            token = await bearer(request, tokens, SCOPE)
            if isinstance(token, web.StreamResponse):
                return token
        try:
            where, form = _query(request)
        except BadInput as bad:
            return web.json_response({"error": str(bad)}, status=400)
        if isinstance(viewer, Viewer):
            where = await narrow(where, viewer)
        else:
            where = replace(where, channels=PUBLIC_ONLY)
        # Not cached, not sniffed: handlers/web_guard.py's security headers, as for the pages.
        response = web.StreamResponse(headers={"Content-Type": f"{FORMATS[form]}; charset=utf-8"})
        await response.prepare(request)
        first = True
        async for page in export.pages(where):
            text = csv_lines(page, tz, header=first) if form == "csv" else json_lines(page, tz)
            await response.write(text.encode())
            first = False
        if first and form == "csv":  # nothing matched: the header alone
            await response.write(csv_lines([], tz, header=True).encode())
        await response.write_eof()
        return response

    web_app.router.add_get("/api/v1/audit", audit)


def _query(request: web.Request) -> tuple[AuditFilter, str]:
    if unknown := sorted(set(request.query) - set(KNOWN)):
        raise BadInput(f"unknown parameter {unknown[0]!r}; the known ones: {', '.join(KNOWN)}")
    q = {name: value for name, value in request.query.items() if value}  # empty: not given
    form = q.get("format", "csv")
    if form not in FORMATS:
        raise BadInput(f"format: expected csv or json, not {form[:20]!r}")
    slug = q.get("use_case")
    if slug is not None and not SLUG_RE.fullmatch(slug):
        raise BadInput(f"use_case: {slug[:40]!r} is not a use case slug, e.g. churn")
    since, until = _time(q.get("since"), "since"), _time(q.get("until"), "until")
    if since is not None and until is not None and until <= since:
        raise BadInput("until: must be after since")
    return AuditFilter(since, until, slug), form


def _time(raw: str | None, field: str) -> datetime | None:
    return None if raw is None else rfc3339(raw, field)
