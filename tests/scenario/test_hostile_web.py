"""Property test over HTTP for the dashboard's side: hostile queries, cookies, origins and methods
on the sign-in routes, the guarded pages and the audit export never get a 5xx, never leave a
traceback in the log, never store anything, and never send the browser off the site (a redirect
goes to a path here or to Slack's authorize page). See test_hostile_inputs.py for the rest."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import strategies as st
from yarl import URL

from bot.simulator.simulator import Simulator
from handlers.web_session import LOGIN_COOKIE, SESSION_COOKIE
from tests.scenario.hostile_support import STRINGS, explore, send
from tests.scenario.web_support import browser

PATHS = st.one_of(st.sampled_from(["/login", "/login/callback", "/logout", "/", "/dora", "/audit",
                                   "/deployments", "/api/v1/audit", "/static/x.css"]),
                  STRINGS.map(lambda s: "/use-cases/" + quote(s, safe="")))
KEYS = st.sampled_from(["next", "code", "state", "error", "format", "since", "until", "use_case",
                        "nonce", "q", "phase", "owner", "domain", "channel", "after", "before",
                        "result", "deployment"])
METHODS = st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT"])


def _header_safe(text: str) -> str:
    """What a client can put in a header at all: no control character, Latin-1."""
    return "".join(c for c in text if 32 <= ord(c) < 256 and ord(c) != 127)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


async def test_hostile_requests_to_the_dashboards_side(sim: Simulator,
                                                       logs: pytest.LogCaptureFixture) -> None:
    async with browser() as b:  # a real sign-in's cookies and state, for requests to reuse
        login = await b.get(f"{sim.base_url}/login", follow=False)
        state = URL(login.headers["Location"]).query["state"]
        real = {LOGIN_COOKIE: b.cookie(LOGIN_COOKIE) or ""}
        await b.get(f"{sim.base_url}/login?next=/dora")
        real[SESSION_COOKIE] = b.cookie(SESSION_COOKIE) or ""
    cookie_values = st.one_of(STRINGS, st.sampled_from(list(real.values())),
                              st.sampled_from(list(real.values())).map(lambda v: v[:-3] + "AAA"))
    cookies = st.dictionaries(st.sampled_from([SESSION_COOKIE, LOGIN_COOKIE, "other"]), cookie_values,
                              max_size=2)
    numbers = st.integers(-1, 2**64).map(str)  # ids past what a 32-bit column holds, too
    queries = st.dictionaries(KEYS, st.one_of(STRINGS, numbers, st.just(state),
                                              st.just("//evil.example")), max_size=4)
    cases = st.tuples(PATHS, queries, cookies, METHODS, st.one_of(st.none(), STRINGS))
    authorize = f"{sim.fake.base_url}/openid/connect/authorize?"

    def leaves_not(status: int, headers: Mapping[str, str]) -> None:
        if 300 <= status < 400:
            where = headers.get("Location", "")
            assert (where.startswith("/") and not where.startswith(("//", "/\\"))) \
                or where.startswith(authorize), where

    async def check(case: tuple[str, dict[str, str], dict[str, str], str, Any]) -> None:
        path, query, jar, method, origin = case
        # Within what a browser sends at all: aiohttp answers a longer header or request line
        # with 400 itself, before any handler (test_hostile_inputs covers that for POSTs).
        headers = {"Cookie": _header_safe("; ".join(f"{k}={v[:3000]}" for k, v in jar.items()))}
        if origin is not None:
            headers["Origin"] = _header_safe(origin)[:1000]
        query = {k: v[:700] for k, v in query.items()}
        url = f"{sim.base_url}{path[:1500]}?{urlencode(query)}" if query else f"{sim.base_url}{path[:1500]}"
        await send(sim, logs, url, b"", headers, method=method, look=leaves_not)

    await explore(cases, check)
