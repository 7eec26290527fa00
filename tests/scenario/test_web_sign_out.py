"""Signing out ends the session for good (SPEC "Web dashboard": ``POST /logout`` ends it), not
only in the browser that signed out: a copy of the cookie is refused afterwards on every page
and by the audit export, in every process sharing the database, on SQLite and PostgreSQL; the
same person's other sessions go on, and Slack's requests never pay for the check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from handlers.web_session import SESSION_COOKIE
from tests.scenario.web_support import Browser, browser, sign_in

PAGES = ("/", "/deployments", "/dora", "/audit", "/use-cases/churn")


@pytest.fixture
async def two(settings: Settings, clock: ManualClock) -> AsyncIterator[tuple[Simulator, Simulator]]:
    """Two bot processes on one database, behind one app (one key for the dashboard's cookies)."""
    shared = replace(settings, session_secret="s" * 32)
    async with Simulator(shared, clock=clock) as one, Simulator(shared, clock=clock) as other:
        await one.command('/usecase new churn "Predict churn"')
        yield one, other


@asynccontextmanager
async def holding(sim: Simulator, cookie: str) -> AsyncIterator[Browser]:
    """A browser of its own with ``cookie`` as its session cookie."""
    async with browser() as b:
        b.set_cookie(SESSION_COOKIE, cookie, sim.base_url)
        yield b


async def admitted(sim: Simulator, cookie: str) -> bool:
    """Whether ``cookie`` is a session here: every page and the export agree (or this fails)."""
    async with holding(sim, cookie) as b:
        pages = [await b.get(f"{sim.base_url}{path}", follow=False) for path in PAGES]
        export = await b.get(f"{sim.base_url}/api/v1/audit?format=json", follow=False)
        login = await b.get(f"{sim.base_url}/login?next=/dora", follow=False)
    if all(hop.status == 200 for hop in pages) and export.status == 200:
        assert login.headers["Location"] == "/dora", "signed in: /login goes straight back"
        return True
    for path, hop in zip(PAGES, pages, strict=True):
        assert hop.status == 302 and hop.headers["Location"].startswith("/login"), path
    assert export.status == 401
    assert login.headers["Location"].startswith(sim.fake.base_url), "a new sign-in, no loop"
    return False


async def test_a_copy_of_a_signed_out_session_is_refused_in_every_process(
        two: tuple[Simulator, Simulator]) -> None:
    one, other = two
    async with browser() as b, browser() as elsewhere:
        await sign_in(one, b, "/")
        await sign_in(one, elsewhere, "/")  # the same person, signed in separately
        copied, kept = b.cookie(SESSION_COOKIE), elsewhere.cookie(SESSION_COOKIE)
        assert copied and kept and copied != kept
        assert await admitted(one, copied) and await admitted(other, copied)
        evil = await b.get(f"{one.base_url}/logout", method="POST", follow=False,
                           headers={"Origin": "https://evil.example"})
        assert evil.status == 403 and await admitted(other, copied), "refused: nothing written"
        out = await b.get(f"{one.base_url}/logout", method="POST", follow=False,
                          headers={"Origin": one.base_url})
        assert out.status == 200 and not b.signed_in
    for sim in two:
        assert not await admitted(sim, copied)
        assert await admitted(sim, kept)
    async with holding(other, copied) as thief:  # the copy signing out again changes nothing
        assert (await thief.get(f"{other.base_url}/logout", method="POST")).status == 200
    assert not await admitted(one, copied) and await admitted(other, kept)


async def test_only_the_dashboard_looks_sessions_up(two: tuple[Simulator, Simulator],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    one, _ = two
    ended = one.app.db.ended_sessions
    asked: list[Any] = []
    real = ended.ended

    async def counted(session_id: str) -> bool:
        asked.append(None)
        return await real(session_id)

    monkeypatch.setattr(ended, "ended", counted)
    async with browser() as b:
        await sign_in(one, b, "/dora")
        signing_in = len(asked)
        await one.command("/usecase list")
        await one.command('/usecase new fraud "Catch fraud"')
        assert len(asked) == signing_in, "a Slack request never reads ended sessions"
        assert (await b.get(f"{one.base_url}/dora")).status == 200 and len(asked) == signing_in + 1
        assert (await b.get(f"{one.base_url}/healthz")).status == 200 and len(asked) == signing_in + 1
