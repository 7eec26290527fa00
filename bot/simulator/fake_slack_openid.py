"""Sign in with Slack on the fake: the authorize page a browser is sent to, and the Web API's
``openid.connect.token`` and ``openid.connect.userInfo``, checked the way Slack checks them.

The authorize page asks nobody anything: it signs the browser in as ``signed_in`` (the shell's
current user, set by the simulator when the user switches; tests set it too), as a member of
``team_id`` (the fake's workspace unless a test says another), and sends it back to the app's
redirect URL with a single-use code, or with ``error=access_denied`` when ``decline`` is set
(the person pressed Cancel). The id_token is a JWT signed HS256 with the client secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from aiohttp import web
from yarl import URL

from bot.simulator.fake_slack_state import FakeUser, Json

TEAM_CLAIM, USER_CLAIM = "https://slack.com/team_id", "https://slack.com/user_id"
CODE_SECONDS = 600
TOKEN_SECONDS = 300


@dataclass
class _Grant:
    user: FakeUser
    team_id: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    until: float


class FakeOpenId:
    def __init__(self, team_id: str, base_url: Callable[[], str],
                 user: Callable[[str], FakeUser | None]) -> None:
        self.team_id = team_id
        self.client_id = self.client_secret = ""
        self.redirect_urls: list[str] = []
        self.signed_in: str | None = None  # a user ID: whom the authorize page signs in
        self.decline = False
        self._base_url, self._user = base_url, user
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _Grant] = {}
        self._numbers = itertools.count(1)

    def register_app(self, client_id: str, client_secret: str, redirect_urls: list[str]) -> None:
        """The Slack app's credentials and its Redirect URLs (OAuth & Permissions)."""
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_urls = list(redirect_urls)

    # -- the browser's side ---------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if not self.client_id or q.get("client_id") != self.client_id:
            return _error_page("invalid_client_id")
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in self.redirect_urls:
            return _error_page("bad_redirect_uri")
        back = URL(redirect_uri)
        extra = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            error = "invalid_scope" if q.get("response_type") == "code" else "unsupported_response_type"
            raise web.HTTPFound(str(back.update_query(error=error, **extra)))
        user = self._user(self.signed_in) if self.signed_in else None
        if user is None:
            return _error_page("nobody is signed in to the simulated Slack")
        if self.decline:
            raise web.HTTPFound(str(back.update_query(error="access_denied", **extra)))
        code = f"{next(self._numbers)}.{secrets.token_hex(12)}"
        self._codes[code] = _Grant(user, self.team_id, self.client_id, redirect_uri,
                                   q.get("nonce"), time.time() + CODE_SECONDS)
        raise web.HTTPFound(str(back.update_query(code=code, **extra)))

    # -- the Web API's side ---------------------------------------------------------------
    def call(self, method: str, args: Json, authorization: str | None) -> Json:
        if method == "openid.connect.token":
            return self._token(args, authorization)
        if method == "openid.connect.userInfo":
            return self._user_info(args, authorization)
        return {"ok": False, "error": "unknown_method"}

    def _token(self, args: Json, authorization: str | None) -> Json:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:], validate=True) \
                    .decode().partition(":")
            except ValueError:
                return {"ok": False, "error": "invalid_auth"}
        if not self.client_id or client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if not hmac.compare_digest(str(secret or ""), self.client_secret):
            return {"ok": False, "error": "bad_client_secret"}
        if args.get("grant_type", "authorization_code") != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        grant = self._codes.pop(str(args.get("code", "")), None)  # single use, good or bad
        if grant is None or grant.until < time.time() or grant.client_id != client_id:
            return {"ok": False, "error": "invalid_code"}
        if args.get("redirect_uri") != grant.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        access = f"xoxp-openid-{next(self._numbers)}-{secrets.token_hex(8)}"
        self._tokens[access] = grant
        return {"ok": True, "access_token": access, "token_type": "Bearer",
                "id_token": self._id_token(grant)}

    def _user_info(self, args: Json, authorization: str | None) -> Json:
        bearer = authorization or ""
        token = bearer[7:] if bearer.startswith("Bearer ") else args.get("token")
        grant = self._tokens.get(str(token or ""))
        if grant is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, **self._person(grant)}

    def _person(self, grant: _Grant) -> dict[str, Any]:
        user = grant.user
        return {"sub": user.id, USER_CLAIM: user.id, TEAM_CLAIM: grant.team_id,
                "name": user.real_name, "given_name": user.real_name.split(" ")[0],
                "https://slack.com/team_name": "Simulated Workspace", "locale": "en-US"}

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims = {"iss": self._base_url(), "aud": grant.client_id, "iat": now, "auth_time": now,
                  "exp": now + TOKEN_SECONDS, **self._person(grant)}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        head = _b64({"typ": "JWT", "alg": "HS256"}) + "." + _b64(claims)
        mac = hmac.new(self.client_secret.encode(), head.encode(), hashlib.sha256).digest()
        return head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _b64(value: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _error_page(error: str) -> web.Response:
    return web.Response(status=400, content_type="text/html",
                        text=f"<!doctype html><title>Slack</title><p>Sign in failed: {escape(error)}</p>")
