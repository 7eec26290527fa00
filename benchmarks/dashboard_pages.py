"""The web dashboard's pages at 2,000 and 10,000 use cases: idle, and during the busy workspace.

    python benchmarks/dashboard_pages.py [--database-url URL] [--use-cases 2000 10000]
        [--per-page 100] [--concurrency 4] [--show-concurrency 10] [--profile FOLDER]

For each size, a fresh database is loaded as ``busy_workspace.py`` loads it (``bench_data.py``:
2,000 use cases with 40,000 KPI points and 400 deployments; 10,000 with 100,000 and 20,000; a
week of phase changes, approvals waiting) plus what the dashboard shows of it
(``dashboard_data.py``: each use case's problem and success KPI, a private channel homing a
fortieth of them, every deployment's audit trail, what runs in production). ``bizdevops serve``
runs as a real process against a fake Slack with Sign in with Slack turned on, and one person
signs in through ``/login`` and the fake's authorize page, as a browser does.

Then every page — the portfolio plain, filtered by phase, searched and its page 2; a use case
with KPI points and deployments; deployments plain, failed, of one use case; DORA; the audit
trail plain and of one use case — is requested ``--per-page`` times, interleaved at random,
from ``--concurrency`` browser tabs at once:

1. **idle**: nothing else asks the bot anything;
2. **busy**: the same again during ``busy_workspace.py``'s load: ``/usecase show`` from
   ``--show-concurrency`` senders, and every channel asking for ``/digest now`` and three people
   for ``/metric dora`` — asked again as soon as the last round's digests are all posted, for as
   long as the pages are measured.

It prints each page's p50/p99/max latency (first byte to last, over HTTP), its size, the bot's
CPU per page while idle, and the busy load's own numbers. Targets (SPEC "Web dashboard"; the
2-core machine runs the client, the fake Slack and the database too): every page's p99 ≤ 300 ms
idle and ≤ 500 ms busy, no errors. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bot's packages
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared data and harness

import aiohttp  # noqa: E402
import dashboard_data  # noqa: E402  (beside this file)
from bench_data import (
    SIZES,  # noqa: E402
    Size,  # noqa: E402
)
from busy_load import Commands, Phase, scrape, show_load  # noqa: E402
from busy_workspace import build_workspace, until_idle  # noqa: E402
from dashboard_load import (  # noqa: E402
    ADMIN,
    CHANNELS,
    WORKSPACE_CHANNEL,
    Heavy,
    PageStats,
    heavy_rounds,
    page_by_page,
    page_load,
    page_paths,
    sign_in,
)
from harness import (  # noqa: E402
    each_size,  # noqa: E402
    free_port,
    py_spy,
    start_server,
    table,
)
from slash_load import SECRET, TOKEN  # noqa: E402

IDLE_P99_MS, BUSY_P99_MS = 300.0, 500.0
CLIENT_ID, CLIENT_SECRET = "1234.5678", "bench-client-secret"
PEOPLE = 311  # bench_data's owners, team members and deployers: U00000 … U00310


@dataclass
class SizeResult:
    size: Size
    loaded: dict[str, int]
    idle: dict[str, PageStats]
    busy: dict[str, PageStats]
    shows: Phase
    heavy: Heavy
    metrics: dict[str, float]
    warnings: list[str]
    exit_code: int


def fake_slack(bot_base: str) -> object:
    from bot.simulator.fake_slack import FakeSlack

    fake = FakeSlack(bot_token=TOKEN)
    for i in range(PEOPLE):
        fake.add_user(f"person{i}", f"U{i:05d}", f"Person {i}")
    for channel in [*CHANNELS, WORKSPACE_CHANNEL]:
        private = channel == dashboard_data.PRIVATE_CHANNEL
        fake.add_channel(channel.lower(), channel, private=private,
                         members=[ADMIN] if private else None)
    fake.openid.register_app(CLIENT_ID, CLIENT_SECRET, [f"{bot_base}/login/callback"])
    fake.openid.signed_in = ADMIN
    return fake


async def run_size(url: str, folder: Path, size: Size, args: argparse.Namespace) -> SizeResult:
    loaded = await build_workspace(url, size, datetime.now(UTC))
    loaded.update(await add_story(url))
    port = free_port()
    fake = fake_slack(f"http://127.0.0.1:{port}")
    await fake.start()  # type: ignore[attr-defined]
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    env = {**keep, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": url, "PORT": str(port),  # type: ignore[attr-defined]
           "BIZDEVOPS_ADMINS": ADMIN, "LOG_LEVEL": "WARNING",
           "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
           "BIZDEVOPS_SLACK_URL": fake.base_url,  # type: ignore[attr-defined]
           "BIZDEVOPS_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "BIZDEVOPS_SESSION_SECRET": "bench-session-secret-" + "x" * 32}
    bot = await start_server("bot", [sys.executable, "-m", "bot", "serve"], env, port, folder)
    commands = Commands(fake, size.use_cases)
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with (aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          connector=aiohttp.TCPConnector(limit=50)) as browser,
                    aiohttp.ClientSession(timeout=timeout,
                                          connector=aiohttp.TCPConnector(limit=100)) as http):
            await bot.wait_healthy(http)
            paths = page_paths(await sign_in(browser, bot), size.use_cases, size.deployments)
            await page_load(browser, bot, paths, 5, args.concurrency)  # warm-up: caches, names
            await show_load(http, bot, commands, Phase("warm-up"), args.show_concurrency, count=100)
            await until_idle(http, bot)
            alone = await page_by_page(browser, bot, paths, max(10, args.per_page // 5), 1)
            idle = await page_load(browser, bot, paths, args.per_page, args.concurrency)
            for name, stats in idle.items():
                stats.cpu_ms = alone[name].cpu_ms
            shows, done = Phase("show, while busy"), asyncio.Event()
            load = asyncio.gather(
                show_load(http, bot, commands, shows, args.show_concurrency, until=done),
                heavy_rounds(http, bot, fake, commands, done))
            await asyncio.sleep(1.0)  # the load is running when the pages are asked for
            spy = await py_spy(bot.process.pid, args.profile)
            busy = await page_load(browser, bot, paths, args.per_page, args.concurrency, seed=4)
            done.set()
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled
                await spy.wait()
            _shown, heavy = await load
            metrics = await scrape(http, bot)
    finally:
        code = await bot.stop()
        await fake.stop()  # type: ignore[attr-defined]
    return SizeResult(size, loaded, idle, busy, shows, heavy, metrics,
                      bot.log_lines("WARNING", "ERROR"), code)


async def add_story(url: str) -> dict[str, int]:
    from bot.clock import SystemClock
    from storage.database import Database

    db = Database(url, SystemClock())
    try:
        return await dashboard_data.add_dashboard_story(db)
    finally:
        await db.dispose()


# ── the report ─────────────────────────────────────────────────────────────────────────────


def report(result: SizeResult) -> bool:
    size = result.size
    print(f"\n── {size.use_cases:,} use cases, {size.points:,} points, {size.deployments:,} "
          f"deployments (loaded: " + ", ".join(f"{k} {v:,}" for k, v in result.loaded.items()) + ")")
    header = ["page", "n", "p50 ms", "p99 ms", "max ms", "bot CPU ms", "KiB", "errors"]
    print("idle, the pages interleaved (bot CPU: per request, each page alone, one at a time):")
    print(table(header, [s.row() for s in result.idle.values()]))
    print("busy, the pages interleaved:")
    print(table(header, [s.row() for s in result.busy.values()]))
    shows, heavy = result.shows, result.heavy
    print(table(["meanwhile", "acks", "p50 ms", "p99 ms", "max ms", "req/s", "errors"],
                [shows.row()]))
    print(f"  heavy rounds: {heavy.rounds} (each: {len(CHANNELS) + 1} /digest now + 3 /metric "
          f"dora), {len(heavy.acks)} acknowledged (slowest "
          f"{max(heavy.acks, default=float('nan')):.0f} ms), {heavy.failed} failed; "
          f"digests posted {heavy.digests}")
    m = result.metrics
    lag_n = m.get("bizdevops_event_loop_lag_seconds_count", 0)
    over = lag_n - m.get("bizdevops_event_loop_lag_seconds_bucket{le=0.1}", lag_n)
    print(f"  /metrics: event loop late {over:.0f} times by more than 100 ms out of {lag_n:.0f} "
          f"ticks")
    print(f"  bot log WARNING/ERROR lines: {len(result.warnings)}; exit code {result.exit_code}")
    kinds = Counter(" ".join(line.split()[2:5])[:120] for line in result.warnings)
    for kind, count in kinds.most_common(8):
        print(f"    {count:5d} × {kind}")
    for line in [w for w in result.warnings if "loop_blocked" in w][:3]:  # what held the loop
        print(f"      {line[line.find('ms='):][:400]}")
    ok = result.exit_code == 0
    for phase, pages, limit in (("idle", result.idle, IDLE_P99_MS),
                                ("busy", result.busy, BUSY_P99_MS)):
        worst = max(pages.values(), key=lambda s: s.p99)
        errors = sum(len(s.errors) for s in pages.values())
        met = all(s.p99 <= limit for s in pages.values()) and not errors
        missed = [s.name for s in pages.values() if s.p99 > limit]
        print(f"  target every page's p99 ≤ {limit:.0f} ms {phase}: {'MET' if met else 'MISSED'} "
              f"(slowest: {worst.name} {worst.p99:.1f} ms; {errors} errors"
              + (f"; over: {', '.join(missed)}" if missed else "") + ")")
        ok &= met
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: SQLite file)")
    parser.add_argument("--use-cases", type=int, nargs="+", default=sorted(SIZES))
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--show-concurrency", type=int, default=10)
    parser.add_argument("--profile", metavar="FOLDER",
                        help="sample the bot with py-spy while the pages are busy (py-spy on PATH)")
    args = parser.parse_args()
    return await each_size(args, "dashboard pages", f"{args.per_page} requests per page at "
                           f"concurrency {args.concurrency}", run_size, report)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
