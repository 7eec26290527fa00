"""A browser for the dashboard's tests: its own cookie jar, redirects followed one hop at a time
(each hop can be looked at), through the app and the fake Slack's authorize page over real HTTP.

``install_probe`` gives the app one extra page behind the guard, ``/use-cases/probe``, that says
who the guard let in: the guard is tested on a path that exists whatever pages are built around
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from bot import web_root
from bot.simulator.simulator import Simulator
from handlers.web_session import LOGIN_COOKIE, SESSION_COOKIE, viewer_of

PROBE = "/use-cases/probe"


@dataclass
class Hop:
    url: URL
    status: int
    headers: Any
    text: str


@dataclass
class Browser:
    session: aiohttp.ClientSession
    hops: list[Hop] = field(default_factory=list)

    async def get(self, url: str | URL, *, follow: bool = True, method: str = "GET",
                  headers: dict[str, str] | None = None) -> Hop:
        """Request ``url``; with ``follow``, go where each redirect says until an answer."""
        target = URL(url) if isinstance(url, str) else url
        for _ in range(10):
            async with self.session.request(method, target, allow_redirects=False,
                                            headers=headers) as response:
                hop = Hop(target, response.status, response.headers, await response.text())
            self.hops.append(hop)
            if not follow or hop.status not in (301, 302, 303, 307):
                return hop
            target = target.join(URL(hop.headers["Location"]))
            method, headers = "GET", None
        raise AssertionError("more than ten redirects")

    def cookie(self, name: str) -> str | None:
        found = [c.value for c in self.session.cookie_jar if c.key == name]
        return found[0] if found else None

    def set_cookie(self, name: str, value: str, url: str) -> None:
        self.session.cookie_jar.update_cookies({name: value}, URL(url))

    @property
    def signed_in(self) -> bool:
        return self.cookie(SESSION_COOKIE) is not None

    @property
    def signing_in(self) -> bool:
        return self.cookie(LOGIN_COOKIE) is not None


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    # unsafe: the app and the fake Slack are on 127.0.0.1, an address a strict jar ignores
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Browser(session)


async def _probe(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    return web.Response(text=f"{viewer.user_id} {viewer.name} {viewer.team_id}")


def install_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built from now on (in this test) serve PROBE behind the guard."""
    real = web_root.register

    def register(app: Any, s: Any) -> None:
        app.web.router.add_get(PROBE, _probe)  # first: before any page of the same shape
        real(app, s)

    monkeypatch.setattr(web_root, "register", register)


async def sign_in(sim: Simulator, b: Browser, next_path: str = PROBE) -> Hop:
    """The whole sign-in from a page asked for; the last answer."""
    return await b.get(f"{sim.base_url}{next_path}")


def query_of(hop: Hop) -> dict[str, str]:
    return dict(URL(hop.headers["Location"]).query)
