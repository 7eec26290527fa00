"""Sign in with Slack (OpenID Connect) for the dashboard: ``GET /login``, ``GET /login/callback``,
``POST /logout`` (SPEC "Web dashboard").

``/login`` sends the browser to Slack's authorize page with a fresh ``state`` and ``nonce``, kept
with the path to come back to in a signed cookie for 10 minutes (bound to this browser). The
callback takes the state only if it matches that cookie and is claimed for the first time in the
database (a replay is refused in any process), then has Slack name the person and admits them
only if they belong to this workspace: a signed session cookie for 12 hours. ``/logout`` (a
POST from this site, or from no page at all) ends that session in the database, so every
process refuses it, even a copy of it, from then on."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from yarl import URL

from bot.clock import Clock
from bot.domain.signin import Person, SignInProblem, SignInRefused, local_path
from bot.log_events import get_logger
from bot.render.signin_pages import sign_out_refused, signed_out, signin_refused
from bot.services.ports import DeliveryLog
from handlers.web_session import PendingLogin, Sessions, Viewer

log = get_logger(__name__)

STATE_CLAIM = "login-state:"  # the claim's key: one sign-in per state, whichever process
REFUSED_STATUS = {SignInProblem.OTHER_TEAM: 403, SignInProblem.UNREACHABLE: 502}
HTML = "text/html"


class Identify(Protocol):
    """The Web API half of the sign-in (bot.slack.openid.SlackSignIn)."""

    async def person(self, code: str, redirect_uri: str, nonce: str) -> Person: ...


@dataclass(frozen=True)
class SignIn:
    client_id: str
    authorize_url: str   # {BIZDEVOPS_SLACK_URL}/openid/connect/authorize
    redirect_uri: str    # {BIZDEVOPS_PUBLIC_URL}/login/callback
    origin: str          # the public URL's scheme://host[:port], what a browser's Origin says


def page(html: str, status: int = 200) -> web.Response:
    return web.Response(text=html, status=status, content_type=HTML, charset="utf-8")


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def register(web_app: web.Application, sessions: Sessions, sign_in: SignIn | None,
             identify: Identify | None, claims: DeliveryLog, clock: Clock) -> None:
    """The three routes; with sign-in off (``sign_in`` None) /login and its callback go to ``/``,
    which says how to turn it on."""
    routes = _Routes(sessions, sign_in, identify, claims, clock)
    web_app.router.add_get("/login", routes.login)
    web_app.router.add_get("/login/callback", routes.callback)
    web_app.router.add_post("/logout", routes.logout)


@dataclass(frozen=True)
class _Routes:
    sessions: Sessions
    sign_in: SignIn | None
    identify: Identify | None
    claims: DeliveryLog
    clock: Clock

    async def login(self, request: web.Request) -> web.StreamResponse:
        back = local_path(request.query.get("next"))
        if self.sign_in is None:
            return redirect("/")
        if await self.sessions.viewer(request) is not None:
            return redirect(back)
        pending = PendingLogin(secrets.token_urlsafe(32), secrets.token_urlsafe(32), back)
        target = URL(self.sign_in.authorize_url).with_query(
            response_type="code", scope="openid profile", client_id=self.sign_in.client_id,
            redirect_uri=self.sign_in.redirect_uri, state=pending.state, nonce=pending.nonce)
        response = redirect(str(target))
        self.sessions.begin_login(response, pending)
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        if self.sign_in is None or self.identify is None:
            return redirect("/")
        pending = self.sessions.pending_login(request)
        try:
            person = await _admitted(request, pending, self.sign_in, self.identify, self.claims,
                                     self.clock)
        except SignInRefused as refused:
            log.info("sign_in_refused", problem=refused.problem.value, slack_error=refused.detail)
            response = page(signin_refused(refused.problem, refused.detail,
                                           pending.next if pending else "/"),
                            REFUSED_STATUS.get(refused.problem, 400))
            self.sessions.end_login(response)
            return response
        assert pending is not None  # _admitted refuses a sign-in without one
        response = redirect(pending.next)
        self.sessions.start(response, Viewer(person.user_id, person.name, person.team_id))
        self.sessions.end_login(response)
        log.info("signed_in", user=person.user_id)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and (self.sign_in is None or origin != self.sign_in.origin):
            log.info("logout_refused", origin=origin[:100])
            return page(sign_out_refused(), 403)
        response = page(signed_out())
        await self.sessions.end(request, response)  # the web side's one write
        return response


async def _admitted(request: web.Request, pending: PendingLogin | None, sign_in: SignIn,
                    identify: Identify, claims: DeliveryLog, clock: Clock) -> Person:
    """The person this callback signs in, or SignInRefused: a state this browser did not start
    (or started over 10 minutes ago), one used before, Slack's no, or not a member here."""
    state = request.query.get("state", "")
    if pending is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise SignInRefused(SignInProblem.STALE)
    if error := request.query.get("error"):
        raise SignInRefused(SignInProblem.SLACK_SAID_NO, error[:80])
    code = request.query.get("code", "")
    if not code or len(code) > 500:
        raise SignInRefused(SignInProblem.SLACK_SAID_NO)
    if not await claims.first(STATE_CLAIM + state, clock.now()):
        raise SignInRefused(SignInProblem.REPLAYED)
    return await identify.person(code, sign_in.redirect_uri, pending.nonce)
