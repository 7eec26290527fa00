"""Hostile values, a mutator of well-formed bodies, and the checks every hostile request must
pass (test_hostile_inputs.py): never a 5xx, never a traceback, a refusal stores nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from yarl import URL

from bot.simulator.simulator import Simulator
from storage.models import Base

EXAMPLES = 100  # per kind and database: about 8 s for the five kinds on both databases
TABLES = [t.name for t in Base.metadata.sorted_tables if t.name != "processed_requests"]
COUNTS = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES))
ERROR_ICONS = ("⚠️", "🚫", "✋", "ℹ️")

# ── hostile values ─────────────────────────────────────────────────────────────────────────

NASTY = ["", " ", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\u200b", "<!channel>", "<@U0ADMIN>",
         "<https://evil.example|x>", '"', "“", "=", "&amp;", "🚀", "x" * 33, "x" * 256, "x" * 3001,
         "9" * 5000, "U" + "X" * 40, "churn", "deploy_approve", "deploy_reject_reason", "home"]
STRINGS = st.one_of(st.sampled_from(NASTY), st.text(max_size=40),
                    st.builds(lambda s, n: s * n, st.sampled_from(["x", "\x00", "[", "é"]),
                              st.integers(1, 6000)))
NUMBERS = st.one_of(st.integers(), st.integers(min_value=10**60), st.floats(allow_nan=False),
                    st.sampled_from([0, -1, 2**31, 2**63, 10**30]))
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(STRINGS, inner, max_size=3), max_leaves=8)


def _nest(depth: int) -> Any:
    node: Any = "x"
    for _ in range(depth):
        node = {"a": node} if depth % 2 else [node]
    return node


ANY_VALUE = st.one_of(VALUES, st.integers(2, 80).map(_nest))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``node`` a value sits (dict keys and list indexes), depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    out = []
    for key, child in items:
        out.append((*prefix, key))
        out += _paths(child, (*prefix, key))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one to three fields dropped, retyped or replaced by something hostile."""
    body = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(ANY_VALUE)
    return body


# ── the run ────────────────────────────────────────────────────────────────────────────────

Check = Callable[[Any], Awaitable[None]]


async def explore(strategy: st.SearchStrategy[Any], check: Check) -> None:
    """Run ``check`` for each example Hypothesis draws, on this loop, from a worker thread."""
    loop = asyncio.get_running_loop()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def one(case: Any) -> None:
        asyncio.run_coroutine_threadsafe(check(case), loop).result(timeout=120)

    await asyncio.to_thread(one)


async def counts(sim: Simulator) -> tuple[int, ...]:
    async with sim.app.db.sessions() as session:
        return tuple((await session.execute(COUNTS)).one())


def refused(status: int, answer: str) -> bool:
    """A 4xx, or an answer that says no (a usage error, a refusal)."""
    if 400 <= status < 500:
        return True
    try:
        blocks = json.loads(answer).get("blocks") or [{}]
    except (ValueError, AttributeError):
        return False
    said = (blocks[0].get("text") or {}).get("text", "") if isinstance(blocks[0], dict) else ""
    return said.startswith(ERROR_ICONS)


async def send(sim: Simulator, caplog: pytest.LogCaptureFixture, url: str, body: bytes,
               headers: dict[str, str], *, stores: bool = False, method: str = "POST",
               look: Callable[[int, Mapping[str, str]], None] | None = None) -> int:
    """POST (or ``method``); never a 5xx, never a traceback, and a refusal (or, unless
    ``stores``, anything) leaves every table as it was. ``look`` sees each answer's headers."""
    before = await counts(sim)
    caplog.clear()
    async with sim.http.request(method, URL(url, encoded=True), data=body or None, headers=headers,
                                allow_redirects=False) as response:
        status, answer = response.status, await response.text()
        if look is not None:
            look(status, response.headers)
    await sim.app.background.settle()
    assert status < 500, (status, answer[:300], body[:300])
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert tracebacks == [], (tracebacks, body[:300])
    if refused(status, answer) or not stores:
        assert await counts(sim) == before, (status, answer[:300], body[:300])
    return status
