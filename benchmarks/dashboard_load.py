"""The load of ``dashboard_pages.py``: a person signed in through Sign in with Slack (the bot's
``/login``, the fake Slack's authorize page, ``/login/callback``: the session cookie the bot
signs), the dashboard's pages requested over HTTP with that cookie, and the busy workspace's
heavy commands asked again, round after round, for as long as the pages are measured."""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from html import unescape

import aiohttp
from busy_load import ADMIN, CHANNELS, Commands, post
from busy_workspace import DORA_ASKERS, WORKSPACE_CHANNEL
from harness import Server, cpu_seconds, percentile
from yarl import URL

ERROR_PAGE = "That page cannot be shown"
DIGEST_HEADER = "📋 BizDevOps digest"


@dataclass
class PageStats:
    name: str
    latencies: list[float] = field(default_factory=list)  # ms
    sizes: list[int] = field(default_factory=list)         # bytes of HTML
    errors: list[str] = field(default_factory=list)
    cpu_ms: float | None = None  # the bot's CPU per request, when it served this page alone

    def row(self) -> list[str]:
        values = sorted(self.latencies)
        size = sum(self.sizes) / len(self.sizes) / 1024 if self.sizes else float("nan")
        cpu = "-" if self.cpu_ms is None else f"{self.cpu_ms:.1f}"
        return [self.name, str(len(values)), f"{percentile(values, 50):.1f}",
                f"{percentile(values, 99):.1f}", f"{max(values, default=float('nan')):.1f}",
                cpu, f"{size:.0f}", str(len(self.errors))]

    @property
    def p99(self) -> float:
        return percentile(sorted(self.latencies), 99)


async def sign_in(http: aiohttp.ClientSession, bot: Server) -> str:
    """Through the bot's /login and the fake Slack's authorize page, one redirect at a time,
    as a browser does; returns the page it landed on (the portfolio)."""
    target = URL(f"{bot.base}/login?next=/")
    for _ in range(10):
        async with http.get(target, allow_redirects=False) as response:
            text = await response.text()
            if response.status not in (301, 302, 303, 307):
                if response.status != 200 or str(target.path) != "/":
                    raise SystemExit(f"sign-in ended at {target} with {response.status}: {text[:300]}")
                return text
            target = target.join(URL(response.headers["Location"]))
    raise SystemExit("sign-in: more than ten redirects")


def next_link(html: str, name: str) -> str:
    """The href of a page's link that carries the query parameter ``name`` (a next page)."""
    for href in re.findall(r'href="([^"]+)"', html):
        href = unescape(href)
        if name in URL(href).query:
            return href
    raise SystemExit(f"no link with {name}= on the page")


def page_paths(first: str, use_cases: int, deployments: int, seed: int = 5) -> dict[str, list[str]]:
    """Each page's addresses: a use case with KPI points and deployments picked at random
    among those (bench_data gives deployment i to use case i % n)."""
    rng = random.Random(seed)
    with_deployments = min(use_cases, deployments)

    def slugs(count: int) -> list[str]:
        return [f"uc-{rng.randrange(with_deployments):05d}" for _ in range(count)]

    return {
        "portfolio": ["/"],
        "portfolio, phase dev": ["/?phase=dev"],
        "portfolio, searched": [f"/?q=number+{rng.randrange(10, 99)}" for _ in range(20)],
        "portfolio, page 2": [next_link(first, "after")],
        "use case": [f"/use-cases/{s}" for s in slugs(200)],
        "deployments": ["/deployments"],
        "deployments, failed": ["/deployments?result=failed"],
        "deployments, one use case": [f"/deployments?use_case={s}" for s in slugs(200)],
        "dora": ["/dora"],
        "audit": ["/audit"],
        "audit, one use case": [f"/audit?use_case={s}" for s in slugs(200)],
    }


async def get_page(http: aiohttp.ClientSession, bot: Server, path: str, stats: PageStats) -> None:
    started = time.perf_counter()
    try:
        async with http.get(f"{bot.base}{path}", allow_redirects=False) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        stats.errors.append(type(error).__name__)
        return
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200 or ERROR_PAGE.encode() in body:
        stats.errors.append(f"HTTP {status} {path}")
        return
    stats.latencies.append(elapsed)
    stats.sizes.append(len(body))


async def page_load(http: aiohttp.ClientSession, bot: Server, paths: dict[str, list[str]],
                    per_page: int, concurrency: int, seed: int = 3) -> dict[str, PageStats]:
    """``per_page`` requests of every page, interleaved at random, from ``concurrency``
    browsers at once (one session: the same person in several tabs)."""
    rng = random.Random(seed)
    stats = {name: PageStats(name) for name in paths}
    work = [(name, rng.choice(choices)) for name, choices in paths.items() for _ in range(per_page)]
    rng.shuffle(work)

    async def browser() -> None:
        while work:
            name, path = work.pop()
            await get_page(http, bot, path, stats[name])

    await asyncio.gather(*(browser() for _ in range(concurrency)))
    return stats


async def page_by_page(http: aiohttp.ClientSession, bot: Server, paths: dict[str, list[str]],
                       per_page: int, concurrency: int, seed: int = 3) -> dict[str, PageStats]:
    """Each page alone, one after the other, with the bot's CPU per request of each."""
    out = {}
    for name, choices in paths.items():
        cpu = cpu_seconds(bot.process.pid)
        out[name] = (await page_load(http, bot, {name: choices}, per_page, concurrency, seed))[name]
        served = len(out[name].latencies) + len(out[name].errors)
        out[name].cpu_ms = (cpu_seconds(bot.process.pid) - cpu) * 1000 / max(1, served)
    return out


def digests_posted(fake: object) -> int:
    calls = fake.calls_to("chat.postMessage")  # type: ignore[attr-defined]
    return sum((c.args.get("blocks") or [{}])[0].get("text", {}).get("text", "")
               .startswith(DIGEST_HEADER) for c in calls)


@dataclass
class Heavy:
    rounds: int = 0
    acks: list[float] = field(default_factory=list)  # ms, /digest now and /metric dora
    failed: int = 0
    digests: int = 0


async def heavy_rounds(http: aiohttp.ClientSession, bot: Server, fake: object, commands: Commands,
                       done: asyncio.Event) -> Heavy:
    """busy_workspace.py's heavy commands, asked again as soon as the last round's digests
    are all posted (or after a minute), until ``done``."""
    heavy, channels = Heavy(), [*CHANNELS, WORKSPACE_CHANNEL]
    while not done.is_set():
        before = digests_posted(fake)
        asks = [commands.build("/digest", "now", c) for c in channels]
        asks += [commands.build("/metric", "dora", CHANNELS[i]) for i in range(DORA_ASKERS)]
        acks = await asyncio.gather(*(post(http, bot, ask, None) for ask in asks))
        heavy.acks += [a for a in acks if a is not None]
        heavy.failed += sum(a is None for a in acks)
        heavy.rounds += 1
        for _ in range(600):  # a minute at most
            if done.is_set() or digests_posted(fake) >= before + len(channels):
                break
            await asyncio.sleep(0.1)
    heavy.digests = digests_posted(fake)
    return heavy


__all__ = ["ADMIN", "CHANNELS", "WORKSPACE_CHANNEL", "Heavy", "PageStats", "heavy_rounds",
           "page_by_page", "page_load", "page_paths", "sign_in"]
