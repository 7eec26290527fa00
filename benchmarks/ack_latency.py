"""How fast `bizdevops serve` acknowledges slash commands, against the floor of a bare bolt app.

    python benchmarks/ack_latency.py [--database-url URL] [--requests 2000]
        [--concurrency 1 10 50] [--warmup 100]

Starts a fake Slack Web API (in this process), migrates a fresh database, starts
``python -m bot serve`` as a real subprocess pointed at both, seeds 50 use cases, then sends
``--requests`` correctly signed slash commands at each concurrency (one aiohttp client, a fixed
number of looping senders, every request with its own ``trigger_id``):

    25 %  /usecase new <unique slug> "t"      (a write, and an announcement into the outbox)
    35 %  /usecase show <seeded slug>
    30 %  /usecase list
    10 %  /deploy status

and measures the HTTP acknowledgement latency (request sent → whole response read). The same
load goes to a bare slack-bolt ``AsyncApp`` on aiohttp in its own subprocess (same signing
secret, request verification on, a ``/usecase`` and ``/deploy`` handler that only ack, and a
static ``authorize`` so no ``auth.test`` is called: AsyncApp has no ``token_verification_enabled``
switch) — the floor every bolt bot stands on. Bare and bot runs alternate per concurrency.

Targets (a 2-core machine, client + fake Slack + server on it): p99 < 250 ms at the highest
concurrency, and at least half of the bare-bolt throughput there. Exit status 1 if one is missed.

Without ``--database-url`` the database is an SQLite file in a temporary directory; with a
PostgreSQL URL (``postgresql+asyncpg://user@host/db``) a uniquely named database is created on
that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

import aiohttp  # noqa: E402
import slash_load  # noqa: E402
from harness import (  # noqa: E402  (beside this file)
    free_port,
    on_fresh_database,
    percentile,
    server_version,
    start_server,
    table,
)
from slash_load import ADMIN, CHANNELS, KINDS, MIX, SECRET, SEEDS, TOKEN, Load, Result, measure  # noqa: E402

P99_TARGET_MS = 250.0
THROUGHPUT_TARGET = 0.5


async def migrate(env: dict[str, str], folder: Path) -> None:
    """`bizdevops migrate`, as an operator runs it (and with the code under test)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", env=env, cwd=folder,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    if process.returncode:
        raise SystemExit(f"bizdevops migrate failed:\n{out.decode()}")


# ── the run ────────────────────────────────────────────────────────────────────────────────


async def run(url: str, folder: Path, args: argparse.Namespace) -> int:
    from bot.simulator.fake_slack import FakeSlack

    fake = FakeSlack(bot_token=TOKEN)
    await fake.start()
    fake.add_user("alice", ADMIN)
    for channel in CHANNELS:
        fake.add_channel(channel.lower(), channel)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    bot_port, bare_port = free_port(), free_port()
    bot_env = {**keep, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.api_url, "DATABASE_URL": url, "PORT": str(bot_port),
               "BIZDEVOPS_ADMINS": ADMIN, "LOG_LEVEL": "WARNING"}
    bare_env = {**keep, "SLACK_SIGNING_SECRET": SECRET}
    if args.bot_src:  # another checkout's code, e.g. to measure a fix against this one
        bot_env["PYTHONPATH"] = os.path.abspath(args.bot_src)  # noqa: ASYNC240 - once, at start-up
    await migrate(bot_env, folder)
    version = await server_version(url)
    bot = await start_server("bot", [sys.executable, "-m", "bot", "serve"], bot_env, bot_port,
                             folder)
    bare = await start_server("bare bolt", [sys.executable, slash_load.__file__, str(bare_port)],
                              bare_env, bare_port, folder)
    print(f"bizdevops-bot ack latency · {version} · Python {platform.python_version()} · "
          f"{os.cpu_count()} CPUs · load avg {os.getloadavg()[0]:.1f} · {args.requests} requests "
          f"per concurrency (+{args.warmup} warm-up) · mix "
          + ", ".join(f"{k} {s}%" for k, s in args.mix)
          + (f" · bot code from {args.bot_src}" if args.bot_src else ""))
    results: list[Result] = []
    load = Load(fake.new_response_url(), seed=args.seed, mix=args.mix)
    try:
        async with aiohttp.ClientSession() as http:
            await bot.wait_healthy(http)
            await bare.wait_healthy(http)
            await slash_load.seed(http, bot, load)
        for concurrency in args.concurrency:
            for server, check in ((bare, False), (bot, True)):
                result = await measure(server, load, args.requests, args.warmup, concurrency,
                                       check)
                results.append(result)
                print(f"  {server.name:9} c={concurrency:<3} {result.rps:7.0f} req/s  "
                      f"p99 {percentile(result.all, 99):7.1f} ms  errors {len(result.errors)}",
                      flush=True)
        posted = len(fake.calls_to("chat.postMessage"))
    finally:
        codes = {bot.name: await bot.stop(), bare.name: await bare.stop()}
        await fake.stop()

    print()
    rows = []
    for r in results:
        values = r.all
        rows.append([r.server, str(r.concurrency), f"{len(values)}", f"{percentile(values, 50):.1f}",
                     f"{percentile(values, 95):.1f}", f"{percentile(values, 99):.1f}",
                     f"{max(values):.1f}", f"{r.rps:.0f}",
                     f"{r.cpu / max(len(values), 1) * 1000:.2f}", str(len(r.errors))])
    print(table(["server", "conc", "ok", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s",
                 "server CPU ms/req", "errors"], rows))
    print()
    by_kind = []
    for r in results:
        if r.server != bot.name:
            continue
        for kind, _share in args.mix:
            values = sorted(r.latencies.get(kind, []))
            by_kind.append([f"c={r.concurrency} {kind}", str(len(values)),
                            f"{percentile(values, 50):.1f}", f"{percentile(values, 95):.1f}",
                            f"{percentile(values, 99):.1f}"])
    print(table(["bot, per command", "n", "p50 ms", "p95 ms", "p99 ms"], by_kind))
    print()
    ratios = []
    for concurrency in args.concurrency:
        b = next(r for r in results if r.server == bot.name and r.concurrency == concurrency)
        f = next(r for r in results if r.server == bare.name and r.concurrency == concurrency)
        ratios.append([str(concurrency), f"{b.rps:.0f}", f"{f.rps:.0f}", f"{b.rps / f.rps:.2f}",
                       f"{percentile(b.all, 99) / percentile(f.all, 99):.1f}x"])
    print(table(["conc", "bot req/s", "bare req/s", "bot/bare throughput", "bot/bare p99"],
                ratios))
    errors = [e for r in results for e in r.errors]
    for error in sorted(set(errors))[:10]:
        print(f"  error: {error} (x{errors.count(error)})")
    warnings = bot.log_lines("WARNING", "ERROR")
    created = len(SEEDS) + sum(len(r.latencies.get("new", [])) for r in results if r.server == bot.name)
    print(f"\nuse cases created: {created}"
          f" (+warm-up); announcements delivered to the fake by the bot's outbox worker meanwhile: "
          f"{posted}; bot log WARNING/ERROR lines: {len(warnings)}; exit codes: {codes}")
    for line in warnings[:5]:
        print(f"  {line[:200]}")

    top = max(args.concurrency)
    b = next(r for r in results if r.server == bot.name and r.concurrency == top)
    f = next(r for r in results if r.server == bare.name and r.concurrency == top)
    p99_ok = percentile(b.all, 99) < P99_TARGET_MS
    tput_ok = b.rps >= THROUGHPUT_TARGET * f.rps
    clean = not errors and codes[bot.name] == 0
    print(f"\ntarget p99 < {P99_TARGET_MS:.0f} ms at concurrency {top}: "
          f"{'MET' if p99_ok else 'MISSED'} ({percentile(b.all, 99):.1f} ms)")
    print(f"target throughput ≥ {THROUGHPUT_TARGET:.0%} of bare bolt at concurrency {top}: "
          f"{'MET' if tput_ok else 'MISSED'} ({b.rps:.0f} vs {f.rps:.0f} req/s = "
          f"{b.rps / f.rps:.0%})")
    print(f"every request acknowledged with 200 and a clean shutdown: {'yes' if clean else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes on this machine "
          "share its CPUs: compare server CPU ms/req across runs, not only wall-clock numbers)")
    return 0 if p99_ok and tput_ok and clean else 1


def parse_mix(value: str) -> tuple[tuple[str, int], ...]:
    mix = []
    for part in value.split(","):
        kind, _, share = part.partition("=")
        if kind not in KINDS or not share.isdigit() or int(share) <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: give KIND=PERCENT with KIND one of {KINDS}")
        mix.append((kind, int(share)))
    return tuple(mix)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: SQLite file)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mix", type=parse_mix, default=MIX,
                        help="shares of the commands, e.g. list=100 or new=25,show=35,list=30,deploy=10")
    parser.add_argument("--bot-src", help="run `bizdevops serve` from this checkout instead")
    args = parser.parse_args()
    started = time.perf_counter()
    code = await on_fresh_database(args.database_url, lambda url, folder: run(url, folder, args))
    print(f"total {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
