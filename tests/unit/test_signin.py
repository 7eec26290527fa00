"""Sign in with Slack's pure parts: where a browser may be sent back to, and the dashboard's
signed cookies (12-hour sessions, 10-minute sign-ins, neither passing for the other)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from itsdangerous import URLSafeSerializer

from bot.clock import ManualClock
from bot.domain.signin import local_path
from handlers.web_session import LOGIN_COOKIE, SESSION_COOKIE, PendingLogin, Sessions, Viewer
from tests.fakes.ended_sessions import MemoryEndedSessions

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ERIN = Viewer("UERIN", "Erin", "T0SIM")


@pytest.mark.parametrize(("raw", "kept"), [
    ("/", "/"), ("/dora", "/dora"), ("/deployments?use_case=churn&result=failed", None),
    ("/use-cases/churn%20x", None), ("//evil.example", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
    (None, "/"), ("/\x00", "/"), ("/ a", "/"), ("/é", "/"), ("/" + "a" * 1000, "/"),
])
def test_next_is_a_path_of_this_site_or_home(raw: str | None, kept: str | None) -> None:
    assert local_path(raw) == (raw if kept is None else kept)


def _request(cookie: str, value: str) -> web.Request:
    return make_mocked_request("GET", "/", headers={"Cookie": f"{cookie}={value}"})


def _sessions(clock: ManualClock, key: bytes = b"k" * 32, *, secure: bool = True) -> Sessions:
    return Sessions(key, clock.now, secure=secure, ended=MemoryEndedSessions())


async def test_a_session_lasts_twelve_hours_by_the_bots_clock() -> None:
    clock = ManualClock(START)
    sessions = _sessions(clock)
    sealed = sessions.seal(ERIN)
    assert await sessions.viewer(_request(SESSION_COOKIE, sealed)) == ERIN
    clock.advance(timedelta(hours=12, seconds=1))
    assert await sessions.viewer(_request(SESSION_COOKIE, sealed)) is None
    other_key = _sessions(clock, b"o" * 32)
    assert await other_key.viewer(_request(SESSION_COOKIE, other_key.seal(ERIN))) == ERIN
    assert await sessions.viewer(_request(SESSION_COOKIE, other_key.seal(ERIN))) is None


async def test_a_session_has_an_id_of_its_own_and_ends_when_signed_out() -> None:
    clock = ManualClock(START)
    ended = MemoryEndedSessions()
    sessions = Sessions(b"k" * 32, clock.now, secure=True, ended=ended)
    first, second = sessions.seal(ERIN), sessions.seal(ERIN)
    opened = sessions.session(_request(SESSION_COOKIE, first))
    assert opened is not None and opened.viewer == ERIN and len(opened.id) >= 32
    assert opened.expires_at == START + timedelta(hours=12)
    assert opened.id != (sessions.session(_request(SESSION_COOKIE, second)) or opened).id
    clock.advance(timedelta(hours=1))
    await sessions.end(_request(SESSION_COOKIE, first), web.Response())
    assert ended.rows == {opened.id: START + timedelta(hours=12)}
    assert await sessions.viewer(_request(SESSION_COOKIE, first)) is None
    assert await sessions.viewer(_request(SESSION_COOKIE, second)) == ERIN, "another session"


def test_a_session_without_an_id_is_none() -> None:
    """Signed before sessions had ids (migration 0023): it could not be signed out, so it is
    refused, and its holder signs in once more."""
    clock = ManualClock(START)
    old = URLSafeSerializer(b"k" * 32, salt="bizdevops-session").dumps(
        {"u": "UERIN", "n": "Erin", "t": "T0SIM", "at": int(START.timestamp())})
    assert _sessions(clock).session(_request(SESSION_COOKIE, str(old))) is None


async def test_a_sign_in_cookie_is_no_session_and_lasts_ten_minutes() -> None:
    clock = ManualClock(START)
    sessions = _sessions(clock, secure=False)
    response = web.Response()
    sessions.begin_login(response, PendingLogin("state", "nonce", "/dora"))
    value = response.cookies[LOGIN_COOKIE].value
    assert response.cookies[LOGIN_COOKIE]["path"] == "/login"
    assert sessions.pending_login(_request(LOGIN_COOKIE, value)) == PendingLogin("state", "nonce", "/dora")
    assert await sessions.viewer(_request(SESSION_COOKIE, value)) is None, "a sign-in is not a session"
    clock.advance(timedelta(minutes=10, seconds=1))
    assert sessions.pending_login(_request(LOGIN_COOKIE, value)) is None
