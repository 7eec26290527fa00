"""Signed slash commands as load, and the bare bolt app they are measured against.

Shared by ``ack_latency.py`` and ``query_floor.py``. ``python benchmarks/slash_load.py PORT``
serves the bare bolt app (handlers that only ack) on that port.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

import aiohttp  # noqa: E402
from harness import Server, cpu_seconds  # noqa: E402  (beside this file)

SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench-token"
ADMIN = "UALICE"
APPROVER = "UBOB"  # the second admin: approves what alice asked to deploy
CHANNELS = [f"CBENCH{i}" for i in range(10)]
SEEDS = [f"seed-{i:02d}" for i in range(50)]
MIX = (("new", 25), ("show", 35), ("list", 30), ("deploy", 10))
KINDS = tuple(kind for kind, _ in MIX)


# ── the bare bolt app (its own process: `python benchmarks/slash_load.py PORT`) ───────────


def serve_bare_bolt(port: int, reply: Callable[[], Awaitable[str]] | None = None,
                    before_response: bool | None = None) -> None:
    """Command handlers that only ack; with ``reply``, they ack with its text, after it —
    ``query_floor.py`` gives one that reads a row. ``before_response``: bolt's
    ``process_before_response`` (default: with a reply, as the bot does)."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    async def authorize(**_kwargs: Any) -> AuthorizeResult:  # no auth.test, no network
        return AuthorizeResult(enterprise_id=None, team_id="T0SIM", bot_user_id="U0BOT",
                               bot_id="B0BOT", bot_token=TOKEN)

    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], authorize=authorize,
                    request_verification_enabled=True, raise_error_for_unhandled_request=False,
                    process_before_response=reply is not None if before_response is None
                    else before_response)

    async def command(ack: Any) -> None:
        await (ack(text=await reply()) if reply else ack())

    bolt.command("/usecase")(command)
    bolt.command("/deploy")(command)
    bolt.command("/metric")(command)
    bolt.action("deploy_approve")(command)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ── the load ───────────────────────────────────────────────────────────────────────────────


@dataclass
class Result:
    server: str
    concurrency: int
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per kind, ms
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    cpu: float = 0.0

    @property
    def all(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)

    @property
    def rps(self) -> float:
        return len(self.all) / self.seconds if self.seconds else 0.0


class Load:
    """Builds signed slash-command requests; slugs and trigger ids never repeat in one run."""

    def __init__(self, response_url: str, seed: int,
                 mix: tuple[tuple[str, int], ...] = MIX) -> None:
        from bot.simulator.signer import SlackRequestSigner

        self._mix = mix
        self._signer = SlackRequestSigner(SECRET)
        self._response_url = response_url
        self._rng = random.Random(seed)
        self._n = 0
        self.run_id = uuid.uuid4().hex[:6]
        self.gates: list[str] = []  # Approve buttons' values, for "approve" clicks

    def click(self, kind: str) -> tuple[str, dict[str, str]]:
        """Bob's click on one of the gates' Approve buttons (the first decides, the rest are
        told it was decided)."""
        from bot.simulator.signer import block_actions_body

        self._n += 1
        channel = CHANNELS[0]
        body = block_actions_body(
            user_id=APPROVER, user_name="bob", channel_id=channel, team_id="T0SIM",
            action={"action_id": "deploy_approve", "block_id": "gate",
                    "value": self._rng.choice(self.gates)},
            message={"ts": "1.000001", "text": "deployment"}, container=None,
            response_url=self._response_url,
            trigger_id=f"{self.run_id}.{self._n}.{time.time_ns()}")
        return body, self._signer.headers(body)

    def plan(self, count: int) -> list[str]:
        kinds = [kind for kind, share in self._mix for _ in range(share)]
        return [kinds[i % len(kinds)] for i in self._rng.sample(range(count), count)]

    def request(self, kind: str, slug: str | None = None) -> tuple[str, dict[str, str]]:
        if kind == "approve":
            return self.click(kind)
        return self.command(*{
            "new": ("/usecase", f'new {slug or f"b{self.run_id}-{self._n + 1}"} "t"'),
            "show": ("/usecase", f"show {self._rng.choice(SEEDS)}"),
            "list": ("/usecase", "list"),
            "deploy": ("/deploy", "status"),
            "metric": ("/metric", f"show {self._rng.choice(SEEDS)}"),  # acked, drawn after
        }[kind])

    def command(self, command: str, text: str) -> tuple[str, dict[str, str]]:
        """Alice's ``command text``, signed, in one of the channels in turn."""
        from bot.simulator.signer import slash_command_body

        self._n += 1
        body = slash_command_body(
            command=command, text=text, user_id=ADMIN, user_name="alice",
            channel_id=CHANNELS[self._n % len(CHANNELS)], channel_name="bench", team_id="T0SIM",
            response_url=self._response_url, trigger_id=f"{self.run_id}.{self._n}.{time.time_ns()}",
        )
        return body, self._signer.headers(body)


async def seed(http: aiohttp.ClientSession, server: Server, load: Load) -> None:
    """The use cases `show` asks about (``SEEDS``), made the way users make them."""
    for slug in SEEDS:
        body, headers = load.request("new", slug)
        async with http.post(server.url, data=body, headers=headers) as response:
            if b"Created" not in await response.read():
                raise SystemExit(f"seeding {slug} failed: HTTP {response.status}")


async def drive(http: aiohttp.ClientSession, server: Server, load: Load, kinds: list[str],
                concurrency: int, result: Result | None, check: bool) -> None:
    queue = iter(kinds)

    async def sender() -> None:
        for kind in queue:
            body, headers = load.request(kind)
            started = time.perf_counter()
            try:
                async with http.post(server.url, data=body, headers=headers) as response:
                    payload = await response.read()
                    status = response.status
            except aiohttp.ClientError as error:
                if result is not None:
                    result.errors.append(f"{kind}: {type(error).__name__}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200 or (check and kind == "new" and b"Created" not in payload):
                if result is not None:
                    result.errors.append(f"{kind}: HTTP {status} {payload[:120]!r}")
                continue
            if result is not None:
                result.latencies.setdefault(kind, []).append(elapsed)

    await asyncio.gather(*(sender() for _ in range(concurrency)))


async def measure(server: Server, load: Load, requests: int, warmup: int, concurrency: int,
                  check: bool) -> Result:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        await drive(http, server, load, load.plan(warmup), concurrency, None, check)
        result = Result(server.name, concurrency)
        cpu_before = cpu_seconds(server.process.pid)
        started = time.perf_counter()
        await drive(http, server, load, load.plan(requests), concurrency, result, check)
        result.seconds = time.perf_counter() - started
        result.cpu = cpu_seconds(server.process.pid) - cpu_before
    return result


if __name__ == "__main__":
    serve_bare_bolt(int(sys.argv[1]))
