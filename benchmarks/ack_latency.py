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
import random
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

import aiohttp  # noqa: E402

SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench-token"
ADMIN = "UALICE"
CHANNELS = [f"CBENCH{i}" for i in range(10)]
SEEDS = [f"seed-{i:02d}" for i in range(50)]
MIX = (("new", 25), ("show", 35), ("list", 30), ("deploy", 10))
KINDS = tuple(kind for kind, _ in MIX)
P99_TARGET_MS = 250.0
THROUGHPUT_TARGET = 0.5
TICKS = os.sysconf("SC_CLK_TCK")


# ── the bare bolt app (its own process: `--bare-bolt-server PORT`) ─────────────────────────


def serve_bare_bolt(port: int, reply: Callable[[], Awaitable[str]] | None = None) -> None:
    """Command handlers that only ack; with ``reply``, they ack with its text, after it (as the
    bot does: ``process_before_response``) — ``query_floor.py`` gives one that reads a row."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    async def authorize(**_kwargs: Any) -> AuthorizeResult:  # no auth.test, no network
        return AuthorizeResult(enterprise_id=None, team_id="T0SIM", bot_user_id="U0BOT",
                               bot_id="B0BOT", bot_token=TOKEN)

    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], authorize=authorize,
                    request_verification_enabled=True, raise_error_for_unhandled_request=False,
                    process_before_response=reply is not None)

    async def command(ack: Any) -> None:
        await (ack(text=await reply()) if reply else ack())

    bolt.command("/usecase")(command)
    bolt.command("/deploy")(command)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ── servers as subprocesses ────────────────────────────────────────────────────────────────


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Server:
    name: str
    process: asyncio.subprocess.Process
    base: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"{self.base}/slack/events"

    async def wait_healthy(self, http: aiohttp.ClientSession) -> None:
        for _ in range(600):
            if self.process.returncode is not None:
                break
            try:
                async with http.get(f"{self.base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        raise SystemExit(f"{self.name} never became healthy:\n{self.log_path.read_text()[-3000:]}")

    async def stop(self) -> int:
        from bot.server import SHUTDOWN_GRACE

        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:  # the bot may spend its whole grace announcing the backlog the load left
                await asyncio.wait_for(self.process.wait(), timeout=SHUTDOWN_GRACE + 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0

    def log_lines(self, *levels: str) -> list[str]:
        return [line for line in self.log_path.read_text().splitlines()
                if any(f" {level} " in line for level in levels)]


async def start_server(name: str, argv: list[str], env: dict[str, str], port: int,
                       folder: Path) -> Server:
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=folder, stdout=out, stderr=asyncio.subprocess.STDOUT)
    return Server(name, process, f"http://127.0.0.1:{port}", log_path)


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


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


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

    def plan(self, count: int) -> list[str]:
        kinds = [kind for kind, share in self._mix for _ in range(share)]
        return [kinds[i % len(kinds)] for i in self._rng.sample(range(count), count)]

    def request(self, kind: str, slug: str | None = None) -> tuple[str, dict[str, str]]:
        from bot.simulator.signer import slash_command_body

        self._n += 1
        command, text = {
            "new": ("/usecase", f'new {slug or f"b{self.run_id}-{self._n}"} "t"'),
            "show": ("/usecase", f"show {self._rng.choice(SEEDS)}"),
            "list": ("/usecase", "list"),
            "deploy": ("/deploy", "status"),
        }[kind]
        body = slash_command_body(
            command=command, text=text, user_id=ADMIN, user_name="alice",
            channel_id=CHANNELS[self._n % len(CHANNELS)], channel_name="bench", team_id="T0SIM",
            response_url=self._response_url, trigger_id=f"{self.run_id}.{self._n}.{time.time_ns()}",
        )
        return body, self._signer.headers(body)


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


# ── the database ───────────────────────────────────────────────────────────────────────────


async def on_fresh_database(url: str | None, work: Callable[[str, Path], Awaitable[Any]]) -> Any:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.database import make_engine

    with tempfile.TemporaryDirectory(prefix="bizdevops-ack-") as tmp:
        folder = Path(tmp)
        if url is None:
            return await work(f"sqlite+aiosqlite:///{folder / 'bench.db'}", folder)
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise SystemExit("--database-url: give a postgresql+asyncpg:// URL, or none for SQLite")
        name = f"bizdevops_ack_{uuid.uuid4().hex[:10]}"
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                return await work(parsed.set(database=name).render_as_string(hide_password=False),
                                  folder)
            finally:
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.dispose()


async def migrate(env: dict[str, str], folder: Path) -> None:
    """`bizdevops migrate`, as an operator runs it (and with the code under test)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", env=env, cwd=folder,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    if process.returncode:
        raise SystemExit(f"bizdevops migrate failed:\n{out.decode()}")


async def server_version(url: str) -> str:
    from sqlalchemy import text

    from storage.database import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + str(await conn.scalar(text("select sqlite_version()")))
            return "PostgreSQL " + str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


# ── the run ────────────────────────────────────────────────────────────────────────────────


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


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
    bare = await start_server("bare bolt", [sys.executable, os.path.abspath(__file__),  # noqa: ASYNC240
                                            "--bare-bolt-server", str(bare_port)],
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
            for slug in SEEDS:  # the use cases `show` asks about, made the way users make them
                body, headers = load.request("new", slug)
                async with http.post(bot.url, data=body, headers=headers) as response:
                    if b"Created" not in await response.read():
                        raise SystemExit(f"seeding {slug} failed: HTTP {response.status}")
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
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-bolt-server":
        serve_bare_bolt(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main()))
