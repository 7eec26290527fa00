"""Sign in with Slack at its edges: switched off (``/`` says how to turn it on and shows no
data), secrets that never reach a log line, and the fake Slack holding the app to Slack's rules
(credentials, single-use codes, the registered redirect URL)."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.logs import configure
from bot.simulator.simulator import Simulator
from bot.web_root import session_key
from handlers.web_session import SESSION_COOKIE
from storage.migrate import upgrade
from tests.scenario.web_support import browser, install_probe, sign_in


@pytest.fixture
async def off(settings: Settings) -> AsyncIterator[str]:
    """The app with no SLACK_CLIENT_ID/SECRET, served on a real port: its base URL."""
    app = create_app(replace(settings, public_url="https://bot.example.com",
                             slack_signing_secret="s" * 32, slack_bot_token="xoxb-off"))
    await upgrade(app.db.engine)
    runner = aiohttp.web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()
    await app.stop()


async def test_sign_in_off_explains_itself_and_shows_nothing(off: str) -> None:
    async with browser() as b:
        home = await b.get(f"{off}/")
        assert home.status == 200 and home.headers["Content-Type"].startswith("text/html")
        for words in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "OAuth &amp; Permissions",
                      "https://bot.example.com/login/callback"):
            assert words in home.text
        assert "Content-Security-Policy" in home.headers and "<script" not in home.text
        for path in ("/dora", "/deployments?use_case=churn", "/audit", "/use-cases/churn", "/login",
                     "/login/callback?code=x&state=y"):
            hop = await b.get(f"{off}{path}", follow=False)
            assert (hop.status, hop.headers["Location"]) == (302, "/"), path
        export = await b.get(f"{off}/api/v1/audit")
        assert export.status == 401 and export.headers["Content-Type"].startswith("application/json")


# ── secrets never in logs ──────────────────────────────────────────────────────────────────

@pytest.fixture
def app_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("aiohttp.access").level
    out = io.StringIO()
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("aiohttp.access").setLevel(saved[2])


@pytest.mark.parametrize("fmt", ["console", "json"])
async def test_no_secret_of_a_sign_in_reaches_the_log(
        settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
        app_logs: io.StringIO, fmt: str) -> None:
    install_probe(monkeypatch)
    sim = Simulator(settings, clock=clock)
    async with sim:
        app = sim.app.settings
        configure("DEBUG", fmt, app.secrets())  # as `serve` does: every line at DEBUG, masked
        [handler] = logging.getLogger().handlers
        handler.setStream(app_logs)  # type: ignore[attr-defined]
        async with browser() as b:
            assert (await sign_in(sim, b)).status == 200
            await b.get(f"{sim.base_url}/login/callback?state=x&code=y")  # one refused, logged
            session = b.cookie(SESSION_COOKIE)
            code = next(h.url.query["code"] for h in b.hops if h.url.path == "/login/callback"
                        and "code" in h.url.query and h.url.query["state"] != "x")
        [granted] = sim.fake.calls_to("openid.connect.token")
    logged = app_logs.getvalue()
    assert "signed_in" in logged and "sign_in_refused" in logged and "openid.connect" not in logged
    key = session_key(app)
    for secret in (app.slack_client_secret, key.hex(), session, code, granted.response["access_token"],
                   granted.response["id_token"], app.slack_signing_secret):
        assert secret and secret not in logged


# ── the fake Slack holds the app to Slack's rules ──────────────────────────────────────────

@pytest.fixture
async def sim(settings: Settings, clock: ManualClock) -> AsyncIterator[Simulator]:
    async with Simulator(settings, clock=clock) as running:
        yield running


async def _code(sim: Simulator, **changes: str) -> tuple[str, str]:
    """A code from the fake's authorize page for the app's own request (changed as told)."""
    redirect = f"{sim.base_url}/login/callback"
    query = {"response_type": "code", "scope": "openid profile", "client_id": "1000.2000",
             "redirect_uri": redirect, "state": "s1", "nonce": "n1", **changes}
    url = URL(f"{sim.fake.base_url}/openid/connect/authorize").with_query(query)
    async with sim.http.get(url, allow_redirects=False) as answer:
        if answer.status != 302:
            return "", await answer.text()
        return URL(answer.headers["Location"]).query.get("code", ""), answer.headers["Location"]


async def test_the_fake_checks_the_authorize_request_like_slack(sim: Simulator) -> None:
    assert "invalid_client_id" in (await _code(sim, client_id="9.9"))[1]
    assert "bad_redirect_uri" in (await _code(sim, redirect_uri="https://evil.example/cb"))[1]
    assert "error=invalid_scope" in (await _code(sim, scope="profile"))[1]
    code, location = await _code(sim)
    assert code and location.startswith(f"{sim.base_url}/login/callback?") and "state=s1" in location


async def test_the_fake_checks_the_token_exchange_like_slack(sim: Simulator) -> None:
    client = AsyncWebClient(base_url=sim.fake.api_url)
    secret = sim.app.settings.slack_client_secret
    redirect = f"{sim.base_url}/login/callback"

    async def error(**args: str) -> str:
        try:
            await client.api_call("openid.connect.token", data=args)
        except SlackApiError as refused:
            return str(refused.response["error"])
        return "ok"

    code, _ = await _code(sim)
    assert await error(client_id="9.9", client_secret=secret, code=code, redirect_uri=redirect) \
        == "invalid_client_id"
    assert await error(client_id="1000.2000", client_secret="guess", code=code,
                       redirect_uri=redirect) == "bad_client_secret"
    assert await error(client_id="1000.2000", client_secret=secret, code=code,
                       redirect_uri=redirect + "x") == "bad_redirect_uri"
    code, _ = await _code(sim)
    assert await error(client_id="1000.2000", client_secret=secret, code=code,
                       redirect_uri=redirect) == "ok"
    assert await error(client_id="1000.2000", client_secret=secret, code=code,
                       redirect_uri=redirect) == "invalid_code", "a code is used once"
    assert await error(client_id="1000.2000", client_secret=secret, code="1.forged",
                       redirect_uri=redirect) == "invalid_code"
    [granted] = sim.fake.calls_to("openid.connect.token")
    info = await client.openid_connect_userInfo(token=granted.response["access_token"])
    assert (info["sub"], info["https://slack.com/team_id"]) == (sim.user, sim.fake.team_id)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await client.openid_connect_userInfo(token="xoxp-guess")


async def test_the_shell_user_is_who_a_browser_signs_in_as(sim: Simulator) -> None:
    sim.switch_user("frank")
    async with browser() as b:
        await b.get(f"{sim.base_url}/login")
        assert b.signed_in
        assert (await b.get(f"{sim.base_url}/api/v1/audit")).status == 200
    [person] = [c.response for c in sim.fake.calls_to("openid.connect.userInfo")]
    assert person["https://slack.com/user_id"] == sim.fake.user("frank").id  # type: ignore[union-attr]
