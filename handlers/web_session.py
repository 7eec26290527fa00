"""Who is looking at the dashboard: the signed-in :class:`Viewer` (``viewer_of(request)`` in a
page), and the two signed cookies that carry sign-in — the session (12 hours) and, while the
browser is away at Slack, the sign-in's state, nonce and where to go back to (10 minutes).

Both are signed with itsdangerous (HMAC-SHA1 over the payload, a salt per kind, so one cannot
pass for the other) under the dashboard's key; their age is written inside and read against
the bot's clock, so a simulated week ends a session as a real one would.

A session also carries a random id (a secret: never logged). ``POST /logout`` records it as
ended in the database, so a copy of the cookie is refused from then on in every process: the
one lookup a signed-in page or export pays (:meth:`Sessions.viewer`). A cookie without an id
(signed before migration 0023) is no session: its holder signs in once more."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from itsdangerous import BadData, URLSafeSerializer

from bot.services.ports import EndedSessions

SESSION_COOKIE = "bizdevops_session"
LOGIN_COOKIE = "bizdevops_login"
SESSION_HOURS = 12
LOGIN_MINUTES = 10
NAME_MAX = 200
ID_BYTES = 24  # a session id's randomness (32 characters)
ID_MAX = 64


@dataclass(frozen=True)
class Viewer:
    user_id: str
    name: str
    team_id: str


VIEWER = web.RequestKey("viewer", Viewer)  # where the guard puts the signed-in person


@dataclass(frozen=True)
class Session:
    """A session cookie as signed: whose, its id (a secret) and when it ends by itself."""
    id: str = field(repr=False)  # never in a log line, even a printed Session
    viewer: Viewer
    expires_at: datetime


@dataclass(frozen=True)
class PendingLogin:
    """A sign-in on its way through Slack: what the callback must find again."""
    state: str
    nonce: str
    next: str


def viewer_of(request: web.Request) -> Viewer:
    """The signed-in person of a dashboard request (the guard let it through only with one)."""
    viewer = request.get(VIEWER)
    if not isinstance(viewer, Viewer):
        raise web.HTTPFound("/login")
    return viewer


class Sessions:
    """Seals and opens the dashboard's cookies; ``secure`` when the dashboard is served over
    https; ``ended``: the sessions signed out, as the database keeps them."""

    def __init__(self, key: bytes, now: Callable[[], datetime], *, secure: bool,
                 ended: EndedSessions) -> None:
        self._session = URLSafeSerializer(key, salt="bizdevops-session")
        self._login = URLSafeSerializer(key, salt="bizdevops-login")
        self._now = now
        self._ended = ended
        self.secure = secure

    # -- the session ------------------------------------------------------------------------
    def seal(self, viewer: Viewer, at: datetime | None = None, session_id: str | None = None) -> str:
        stamp = int((at or self._now()).timestamp())
        return str(self._session.dumps({"u": viewer.user_id, "n": viewer.name[:NAME_MAX],
                                        "t": viewer.team_id, "at": stamp,
                                        "s": session_id or secrets.token_urlsafe(ID_BYTES)}))

    def session(self, request: web.Request) -> Session | None:
        """The session cookie that came with ``request``, by its signature alone; None when there
        is none, or it is forged, tampered with, older than 12 hours or without an id."""
        found = self._open(self._session, request.cookies.get(SESSION_COOKIE),
                           timedelta(hours=SESSION_HOURS))
        if found is None or not all(isinstance(found.get(k), str) for k in ("u", "n", "t", "s")) \
                or not 0 < len(found["s"]) <= ID_MAX:
            return None
        ends = datetime.fromtimestamp(found["at"], UTC) + timedelta(hours=SESSION_HOURS)
        return Session(found["s"], Viewer(found["u"], found["n"], found["t"]), ends)

    async def viewer(self, request: web.Request) -> Viewer | None:
        """The person signed in with ``request``: its session, unless that was signed out (one
        lookup by primary key, on the pages' read-only connections)."""
        session = self.session(request)
        if session is None or await self._ended.ended(session.id):
            return None
        return session.viewer

    def start(self, response: web.StreamResponse, viewer: Viewer) -> None:
        response.set_cookie(SESSION_COOKIE, self.seal(viewer), max_age=SESSION_HOURS * 3600,
                            **self._flags("/"))

    async def end(self, request: web.Request, response: web.StreamResponse) -> None:
        """Sign out: the session that came with ``request`` ends in every process (the one write
        the web side makes), and the browser forgets its cookie."""
        session = self.session(request)
        if session is not None:
            await self._ended.end(session.id, session.expires_at, self._now())
        response.del_cookie(SESSION_COOKIE, **self._flags("/"))

    # -- a sign-in under way ----------------------------------------------------------------
    def begin_login(self, response: web.StreamResponse, pending: PendingLogin) -> None:
        value = self._login.dumps({"s": pending.state, "o": pending.nonce, "x": pending.next,
                                   "at": int(self._now().timestamp())})
        response.set_cookie(LOGIN_COOKIE, str(value), max_age=LOGIN_MINUTES * 60,
                            **self._flags("/login"))

    def pending_login(self, request: web.Request) -> PendingLogin | None:
        found = self._open(self._login, request.cookies.get(LOGIN_COOKIE),
                           timedelta(minutes=LOGIN_MINUTES))
        if found is None or not all(isinstance(found.get(k), str) for k in ("s", "o", "x")):
            return None
        return PendingLogin(found["s"], found["o"], found["x"])

    def end_login(self, response: web.StreamResponse) -> None:
        response.del_cookie(LOGIN_COOKIE, **self._flags("/login"))

    # -- both -------------------------------------------------------------------------------
    def _flags(self, path: str) -> dict[str, Any]:
        return {"path": path, "httponly": True, "samesite": "Lax", "secure": self.secure}

    def _open(self, serializer: URLSafeSerializer, raw: str | None,
              lifetime: timedelta) -> dict[str, Any] | None:
        if not raw or len(raw) > 4096:
            return None
        try:
            found = serializer.loads(raw)
        except (BadData, UnicodeError, ValueError):
            return None
        if not isinstance(found, dict) or not isinstance(found.get("at"), int) \
                or isinstance(found["at"], bool):
            return None
        age = self._now().timestamp() - found["at"]
        return found if -60 <= age <= lifetime.total_seconds() else None
