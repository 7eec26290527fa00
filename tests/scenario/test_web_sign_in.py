"""Sign in with Slack for the dashboard (SPEC "Web dashboard"), through the running app and the
fake Slack's authorize page and OpenID Connect methods, over real HTTP, by a browser with a
cookie jar: the whole sign-in, and every way it must be refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from yarl import URL

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from handlers.web_session import LOGIN_COOKIE, SESSION_COOKIE
from tests.scenario.web_support import PROBE, Browser, browser, install_probe, query_of, sign_in


@pytest.fixture
async def web(settings: Settings, clock: ManualClock,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    install_probe(monkeypatch)
    async with Simulator(settings, clock=clock) as sim:
        yield sim


@pytest.fixture
async def b() -> AsyncIterator[Browser]:
    async with browser() as fresh:
        yield fresh


async def _to_callback(sim: Simulator, b: Browser, next_path: str = PROBE) -> URL:
    """Start a sign-in and let the fake Slack answer: the callback URL it sends the browser to,
    not yet followed."""
    login = await b.get(f"{sim.base_url}/login?next={next_path}", follow=False)
    authorize = await b.get(login.headers["Location"], follow=False)
    return URL(authorize.headers["Location"])


async def test_the_whole_sign_in_lands_on_the_page_asked_for(web: Simulator, b: Browser) -> None:
    web.switch_user("erin")
    last = await sign_in(web, b, f"{PROBE}?phase=dev&q=a%20b")
    asked, login, authorize, callback, page = b.hops
    assert (asked.status, asked.headers["Location"]) == (
        302, "/login?next=%2Fuse-cases%2Fprobe%3Fphase%3Ddev%26q%3Da%2520b")
    to_slack = URL(login.headers["Location"])
    assert str(to_slack.with_query(None)) == f"{web.fake.base_url}/openid/connect/authorize"
    q = to_slack.query
    assert (q["response_type"], q["scope"], q["client_id"]) == ("code", "openid profile", "1000.2000")
    assert q["redirect_uri"] == f"{web.base_url}/login/callback"
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32 and q["state"] != q["nonce"]
    login_cookie = SimpleCookie(login.headers["Set-Cookie"])[LOGIN_COOKIE]
    assert (login_cookie["path"], login_cookie["max-age"], login_cookie["samesite"]) == (
        "/login", "600", "Lax") and login_cookie["httponly"]
    assert authorize.status == 302 and query_of(authorize)["state"] == q["state"]
    assert callback.status == 302 and callback.headers["Location"] == f"{PROBE}?phase=dev&q=a%20b"
    session = SimpleCookie(callback.headers.getall("Set-Cookie")[0])[SESSION_COOKIE]
    assert (session["path"], session["max-age"], session["samesite"]) == ("/", "43200", "Lax")
    assert session["httponly"] and not session["secure"]  # the simulator serves plain http
    assert page is last and (last.status, last.text) == (200, "UERIN Erin T0SIM")
    assert b.signed_in and not b.signing_in
    assert [c.method for c in web.fake.calls if c.method.startswith(("openid", "auth"))] == [
        "openid.connect.token", "openid.connect.userInfo", "auth.test"]
    again = await b.get(f"{web.base_url}/login?next=/dora", follow=False)  # signed in already
    assert again.headers["Location"] == "/dora"


async def test_a_state_is_claimed_once_even_with_its_cookie_kept(web: Simulator, b: Browser) -> None:
    callback = await _to_callback(web, b)
    kept = b.cookie(LOGIN_COOKIE)
    assert kept is not None and (await b.get(callback)).status == 200
    async with browser() as thief:  # the same cookie and link, replayed
        thief.set_cookie(LOGIN_COOKIE, kept, f"{web.base_url}/login")
        replay = await thief.get(callback)
        assert replay.status == 400 and "used already" in replay.text and not thief.signed_in
    assert len(web.fake.calls_to("openid.connect.token")) == 1, "a replay never reaches Slack"


async def test_a_callback_in_another_browser_is_refused(web: Simulator, b: Browser) -> None:
    """Login CSRF: a link that someone else's sign-in produced signs nobody in here."""
    callback = await _to_callback(web, b)
    async with browser() as victim:
        refused = await victim.get(callback)
        assert refused.status == 400 and "another browser" in refused.text and not victim.signed_in
    assert (await b.get(callback)).status == 200 and b.signed_in  # its own browser still may


async def test_an_old_sign_in_is_refused(web: Simulator, clock: ManualClock, b: Browser) -> None:
    callback = await _to_callback(web, b)
    clock.advance(timedelta(minutes=11))
    refused = await b.get(callback)
    assert refused.status == 400 and "expired" in refused.text and not b.signed_in


async def test_an_id_token_for_another_nonce_is_refused(web: Simulator, b: Browser) -> None:
    login = await b.get(f"{web.base_url}/login", follow=False)
    forged = URL(login.headers["Location"]).update_query(nonce="someone-elses-nonce")
    refused = await b.get(forged)
    assert refused.status == 400 and "did not match" in refused.text and not b.signed_in


async def test_a_member_of_another_workspace_is_refused(web: Simulator, b: Browser) -> None:
    web.fake.openid.team_id = "T0ELSEWHERE"
    refused = await sign_in(web, b)
    assert refused.status == 403 and "another Slack workspace" in refused.text
    assert not b.signed_in and not b.signing_in


async def test_slack_saying_no_is_said(web: Simulator, b: Browser) -> None:
    web.fake.openid.decline = True
    refused = await sign_in(web, b)
    assert refused.status == 400 and "Slack did not sign you in" in refused.text
    assert "access_denied" in refused.text and 'href="/login?next=/use-cases/probe"' in refused.text
    assert not b.signed_in


async def test_a_session_ends_after_twelve_hours_or_when_tampered_with(
        web: Simulator, clock: ManualClock, b: Browser) -> None:
    await sign_in(web, b)
    session = b.cookie(SESSION_COOKIE)
    assert session is not None
    clock.advance(timedelta(hours=11, minutes=59))
    assert (await b.get(f"{web.base_url}{PROBE}", follow=False)).status == 200
    clock.advance(timedelta(minutes=2))
    assert (await b.get(f"{web.base_url}{PROBE}", follow=False)).headers["Location"].startswith("/login")
    clock.advance(timedelta(hours=-12))
    payload, signature = session.split(".")
    tampered = [payload.replace(payload[2], "A" if payload[2] != "A" else "B", 1) + "." + signature,
                payload + "." + signature[::-1], payload, "", "x" * 5000]
    for value in tampered:
        async with browser() as other:
            other.set_cookie(SESSION_COOKIE, value, web.base_url)
            hop = await other.get(f"{web.base_url}{PROBE}", follow=False)
            assert hop.status == 302 and hop.headers["Location"].startswith("/login"), value[:40]
            assert (await other.get(f"{web.base_url}/api/v1/audit", follow=False)).status == 401


@pytest.mark.parametrize("wanted", ["//evil.example", "https://evil.example", "/\\evil.example",
                                    "%2F%2Fevil.example", "javascript:alert(1)", "evil.example"])
async def test_next_never_leaves_the_site(web: Simulator, b: Browser, wanted: str) -> None:
    await b.get(f"{web.base_url}/login?next={wanted}")
    callback = next(h for h in b.hops if h.url.path == "/login/callback")
    assert callback.headers["Location"] == "/" and b.signed_in


async def test_logout_ends_the_session_and_only_from_the_dashboard(web: Simulator, b: Browser) -> None:
    await sign_in(web, b)
    evil = await b.get(f"{web.base_url}/logout", method="POST", follow=False,
                       headers={"Origin": "https://evil.example"})
    assert evil.status == 403 and b.signed_in
    assert (await b.get(f"{web.base_url}/logout", follow=False)).status == 405  # GET changes nothing
    out = await b.get(f"{web.base_url}/logout", method="POST", follow=False,
                      headers={"Origin": web.base_url})
    assert out.status == 200 and "signed out" in out.text and not b.signed_in
    assert (await b.get(f"{web.base_url}{PROBE}", follow=False)).status == 302


async def test_the_audit_export_takes_a_session(web: Simulator, b: Browser) -> None:
    await web.command('/usecase new churn "Predict churn"')
    assert (await b.get(f"{web.base_url}/api/v1/audit?format=json")).status == 401
    await sign_in(web, b)
    export = await b.get(f"{web.base_url}/api/v1/audit?format=json")
    assert export.status == 200 and '"use_case": "churn"' in export.text
    assert '"action": "phase_changed"' in export.text


async def test_security_headers_and_only_reading(web: Simulator, b: Browser) -> None:
    csp = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")
    await sign_in(web, b)
    refused = await b.get(f"{web.base_url}/login/callback?state=x&code=y", follow=False)
    static = await b.get(f"{web.base_url}/static/none.css", follow=False)
    for hop in [*b.hops, static]:
        if URL(web.fake.base_url).port == hop.url.port:
            continue  # Slack's own page
        assert hop.headers["Content-Security-Policy"] == csp, hop.url
        assert hop.headers["X-Frame-Options"] == "DENY" and hop.headers["X-Content-Type-Options"] == "nosniff"
        assert hop.headers["Referrer-Policy"] == "same-origin"
        assert (hop.headers.get("Cache-Control") == "no-store") == (hop is not static), hop.url
    assert refused.status == 400 and refused.headers["Content-Type"].startswith("text/html")
    for method, path in [("POST", PROBE), ("PUT", "/login"), ("DELETE", "/"), ("POST", "/login/callback")]:
        hop = await b.get(f"{web.base_url}{path}", method=method, follow=False)
        assert hop.status == 405 and "GET" in hop.headers["Allow"], (method, path)
    health = await b.get(f"{web.base_url}/healthz")
    assert "Content-Security-Policy" not in health.headers  # not the dashboard's
