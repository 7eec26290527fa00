"""Sign in with Slack's pure parts: where a browser may be sent back to, and the dashboard's
signed cookies (12-hour sessions, 10-minute sign-ins, neither passing for the other)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.clock import ManualClock
from bot.domain.signin import local_path
from handlers.web_session import LOGIN_COOKIE, SESSION_COOKIE, PendingLogin, Sessions, Viewer

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


def test_a_session_lasts_twelve_hours_by_the_bots_clock() -> None:
    clock = ManualClock(START)
    sessions = Sessions(b"k" * 32, clock.now, secure=True)
    sealed = sessions.seal(ERIN)
    assert sessions.viewer(_request(SESSION_COOKIE, sealed)) == ERIN
    clock.advance(timedelta(hours=12, seconds=1))
    assert sessions.viewer(_request(SESSION_COOKIE, sealed)) is None
    other_key = Sessions(b"o" * 32, clock.now, secure=True)
    assert other_key.viewer(_request(SESSION_COOKIE, other_key.seal(ERIN))) == ERIN
    assert sessions.viewer(_request(SESSION_COOKIE, other_key.seal(ERIN))) is None


def test_a_sign_in_cookie_is_no_session_and_lasts_ten_minutes() -> None:
    clock = ManualClock(START)
    sessions = Sessions(b"k" * 32, clock.now, secure=False)
    response = web.Response()
    sessions.begin_login(response, PendingLogin("state", "nonce", "/dora"))
    value = response.cookies[LOGIN_COOKIE].value
    assert response.cookies[LOGIN_COOKIE]["path"] == "/login"
    assert sessions.pending_login(_request(LOGIN_COOKIE, value)) == PendingLogin("state", "nonce", "/dora")
    assert sessions.viewer(_request(SESSION_COOKIE, value)) is None, "a sign-in is not a session"
    clock.advance(timedelta(minutes=10, seconds=1))
    assert sessions.pending_login(_request(LOGIN_COOKIE, value)) is None
