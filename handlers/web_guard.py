"""The dashboard's door: no page without a session, nothing but GET (and ``POST /logout``), and
the security headers on every dashboard, sign-in and static answer.

The guard covers ``/``, ``/deployments``, ``/dora``, ``/audit`` and ``/use-cases/…``: without a
session the browser goes to ``/login?next=<where it was>``; with one, the page finds its
:class:`~handlers.web_session.Viewer` in ``request["viewer"]``. With sign-in off, ``/`` says how
to turn it on and shows no data, and the other pages go to ``/``. ``GET /api/v1/audit`` takes a
session too: the guard names its viewer there, and the export decides (handlers/audit_api.py). A
session signed out (``POST /logout``) is no session, here as on the pages; no other path pays
for that lookup (Slack's requests least of all)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.domain.signin import NEXT_MAX
from bot.render.signin_pages import method_not_allowed, signin_off
from handlers.web_auth import page, redirect
from handlers.web_session import VIEWER, Sessions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGES = frozenset({"/", "/deployments", "/dora", "/audit"})
PAGE_PREFIX = "/use-cases/"
SIGN_IN = frozenset({"/login", "/login/callback", "/logout"})
STATIC_PREFIX = "/static/"
SESSION_API = frozenset({"/api/v1/audit"})  # what a session may read besides the pages
READ = frozenset({"GET", "HEAD"})

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def is_page(path: str) -> bool:
    return path in PAGES or path.startswith(PAGE_PREFIX)


def is_web(path: str) -> bool:
    """A dashboard page, a sign-in route or the static files: the browser's side of the bot."""
    return is_page(path) or path in SIGN_IN or path.startswith(STATIC_PREFIX)


def guard(sessions: Sessions, *, enabled: bool, redirect_url: str) -> Callable[..., Awaitable[
        web.StreamResponse]]:
    """The middleware; ``enabled``: sign-in is on; ``redirect_url``: what to register at Slack."""

    @web.middleware
    async def dashboard_door(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if is_web(path) and request.method not in READ and (path, request.method) != ("/logout", "POST"):
            return _read_only(path)
        if is_page(path):
            if not enabled:
                return page(signin_off(redirect_url)) if path == "/" else redirect("/")
            viewer = await sessions.viewer(request)
            if viewer is None:
                return redirect(_login(request.raw_path))
            request[VIEWER] = viewer
        elif path in SESSION_API and enabled:
            viewer = await sessions.viewer(request)
            if viewer is not None:
                request[VIEWER] = viewer
        return await handler(request)

    return dashboard_door


def _login(back: str) -> str:
    """Where a browser without a session goes: sign in, then ``back`` (home, when longer than a
    path to come back to may be: its redirect would outgrow what a client reads)."""
    return "/login" if len(back) > NEXT_MAX else "/login?next=" + quote(back, safe="")


def _read_only(path: str) -> web.Response:
    response = page(method_not_allowed(), 405)
    response.headers["Allow"] = "POST" if path == "/logout" else "GET, HEAD"
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every web answer, pages, redirects and errors alike, gets them,
    and so does what a session reads besides the pages (the audit export)."""
    if not (is_web(request.path) or request.path in SESSION_API):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(STATIC_PREFIX):
        response.headers["Cache-Control"] = "no-store"


def install(web_app: web.Application, sessions: Sessions, *, enabled: bool, redirect_url: str) -> None:
    web_app.middlewares.append(guard(sessions, enabled=enabled, redirect_url=redirect_url))
    web_app.on_response_prepare.append(security_headers)
