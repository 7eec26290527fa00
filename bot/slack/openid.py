"""Sign in with Slack, the Web API half: the code exchanged with ``openid.connect.token``, the
id_token checked against this sign-in, the person named by ``openid.connect.userInfo``, and
their workspace compared with the bot's own (``auth.test``, asked once).

These calls go through a client of their own whose logger writes nothing below WARNING:
slack_sdk logs request and response bodies at DEBUG, and those carry the code, the person's
access token and the id_token."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.signin import Person, SignInProblem, SignInRefused

TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
CLOCK_SKEW_SECONDS = 300
TIMEOUT_SECONDS = 10

_quiet = logging.getLogger("bizdevops.openid")
_quiet.setLevel(logging.WARNING)


class SlackSignIn:
    def __init__(self, api_url: str, client_id: str, client_secret: str, issuer: str,
                 workspace: Callable[[], Awaitable[str]]) -> None:
        self._api_url, self._issuer = api_url, issuer
        self._client_id, self._client_secret = client_id, client_secret
        self._workspace = workspace
        self._team: str | None = None

    async def person(self, code: str, redirect_uri: str, nonce: str) -> Person:
        """Who came back from Slack with ``code``, if they belong here; else SignInRefused."""
        client = AsyncWebClient(base_url=self._api_url, logger=_quiet, timeout=TIMEOUT_SECONDS)
        try:
            # AsyncWebClient.openid_connect_token, with the Basic credentials written here: it
            # builds them with aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
            granted = await client.api_call(
                "openid.connect.token", headers={"Authorization": self._basic()},
                data={"code": code, "redirect_uri": redirect_uri, "grant_type": "authorization_code"})
            claims = self._checked(_claims(granted.get("id_token")), nonce)
            info = await client.openid_connect_userInfo(token=str(granted.get("access_token", "")))
            team = await self.team()
        except SlackApiError as refused:
            error = refused.response.get("error") if refused.response is not None else None
            raise SignInRefused(SignInProblem.SLACK_SAID_NO, str(error or "")[:80]) from None
        except (TimeoutError, aiohttp.ClientError, ValueError):
            raise SignInRefused(SignInProblem.UNREACHABLE) from None
        user, their_team = info.get(USER_CLAIM), info.get(TEAM_CLAIM)
        if info.get("sub") != claims.get("sub") or not isinstance(user, str) or not user:
            raise SignInRefused(SignInProblem.TOKEN_MISMATCH)
        if their_team != team or claims.get(TEAM_CLAIM) != team:
            raise SignInRefused(SignInProblem.OTHER_TEAM)
        name = info.get("name") or info.get("given_name") or user
        return Person(user, str(name), team)

    def _basic(self) -> str:
        pair = f"{self._client_id}:{self._client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    async def team(self) -> str:
        """This workspace's team ID (the bot's, by ``auth.test``), asked once."""
        if self._team is None:
            self._team = await self._workspace()
        return self._team

    def _checked(self, claims: dict[str, Any], nonce: str) -> dict[str, Any]:
        # The id_token came straight from Slack over TLS in answer to our own request with our
        # client secret: OpenID Connect Core 3.1.3.7 (6) lets a client skip the signature check
        # then. What binds it to this sign-in is checked: the nonce, the audience, the issuer,
        # and that it has not expired (by the wall clock: Slack's, not a simulated one).
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        expires = claims.get("exp")
        if claims.get("nonce") != nonce or self._client_id not in audiences \
                or claims.get("iss") != self._issuer or not isinstance(expires, int | float) \
                or expires < time.time() - CLOCK_SKEW_SECONDS:
            raise SignInRefused(SignInProblem.TOKEN_MISMATCH)
        return claims


def _claims(id_token: object) -> dict[str, Any]:
    """The payload of a JWT (its middle part), unverified: see ``SlackSignIn._checked``."""
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3:
        raise SignInRefused(SignInProblem.TOKEN_MISMATCH)
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        raise SignInRefused(SignInProblem.TOKEN_MISMATCH) from None
    if not isinstance(payload, dict):
        raise SignInRefused(SignInProblem.TOKEN_MISMATCH)
    return payload


async def workspace_of(client: AsyncWebClient) -> str:
    """The bot's own team ID."""
    answer = await client.auth_test()
    return str(answer["team_id"])
