"""The load of ``busy_workspace.py``: correctly signed slash commands sent over HTTP, their
acknowledgement latencies per phase, and what the bot's ``/metrics`` and the fake Slack say."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp
from harness import Server, percentile
from prometheus_client.parser import text_string_to_metric_families
from slash_load import SECRET

ADMIN = "U00001"
CHANNELS = [f"C{i:05d}" for i in range(40)]  # bench_data homes use case i in C{i % 40}


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # ms
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def row(self) -> list[str]:
        values = sorted(self.latencies)
        return [self.name, str(len(values)), f"{percentile(values, 50):.1f}",
                f"{percentile(values, 99):.1f}", f"{max(values, default=float('nan')):.1f}",
                f"{len(values) / self.seconds:.0f}" if self.seconds else "-", str(len(self.errors))]


class Commands:
    """Correctly signed slash commands, each with its own trigger id and response_url."""

    def __init__(self, fake: object, slugs: int) -> None:
        from bot.simulator.signer import SlackRequestSigner

        self._signer = SlackRequestSigner(SECRET)
        self._fake = fake
        self._slugs = slugs
        self._rng = random.Random(11)
        self._n = 0

    def show(self) -> tuple[str, dict[str, str]]:
        return self.build("/usecase", f"show uc-{self._rng.randrange(self._slugs):05d}",
                          CHANNELS[self._n % len(CHANNELS)])

    def build(self, command: str, text: str, channel: str) -> tuple[str, dict[str, str]]:
        from bot.simulator.signer import slash_command_body

        self._n += 1
        body = slash_command_body(
            command=command, text=text, user_id=ADMIN, user_name="alice", channel_id=channel,
            channel_name=channel.lower(), team_id="T0SIM",
            response_url=self._fake.new_response_url(channel=channel, user_id=ADMIN),  # type: ignore[attr-defined]
            trigger_id=f"{self._n}.{time.time_ns()}.busy")
        return body, self._signer.headers(body)


async def post(http: aiohttp.ClientSession, server: Server, request: tuple[str, dict[str, str]],
               phase: Phase | None) -> float | None:
    body, headers = request
    started = time.perf_counter()
    try:
        async with http.post(server.url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        if phase is not None:
            phase.errors.append(type(error).__name__)
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        if phase is not None:
            phase.errors.append(f"HTTP {status}")
        return None
    if phase is not None:
        phase.latencies.append(elapsed)
    return elapsed


async def show_load(http: aiohttp.ClientSession, server: Server, commands: Commands, phase: Phase,
                    concurrency: int, *, count: int | None = None,
                    until: asyncio.Event | None = None) -> None:
    left = [count] if count is not None else None
    started = time.perf_counter()

    async def sender() -> None:
        while True:
            if left is not None:
                if left[0] <= 0:
                    return
                left[0] -= 1
            elif until is not None and until.is_set():
                return
            await post(http, server, commands.show(), phase)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - started


async def scrape(http: aiohttp.ClientSession, server: Server) -> dict[str, float]:
    async with http.get(f"{server.base}/metrics") as response:
        text = await response.text()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            le = sample.labels.get("le")
            out[sample.name + (f"{{le={le}}}" if le else "")] = sample.value
    return out


def digest_posts(fake: object) -> dict[str, float]:
    """Channel → when the first digest was posted there (fake Slack's clock)."""
    out: dict[str, float] = {}
    for call in fake.calls_to("chat.postMessage"):  # type: ignore[attr-defined]
        header = (call.args.get("blocks") or [{}])[0].get("text", {}).get("text", "")
        if header.startswith("📋 BizDevOps digest"):
            out.setdefault(call.args["channel"], call.at)
    return out
