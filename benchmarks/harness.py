"""What the benchmarks share: a fresh database, servers as subprocesses, and the report.

Imported from a benchmark beside it (``python benchmarks/<name>.py`` puts this folder first on
``sys.path``); the bot's own modules are imported where they are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from bench_data import Size

    from storage.database import Database

TICKS = os.sysconf("SC_CLK_TCK")


# ── a fresh database ───────────────────────────────────────────────────────────────────────


async def on_fresh_database(url: str | None, work: Callable[[str, Path], Awaitable[Any]]) -> Any:
    """Run ``work(url, folder)`` on a fresh database: an SQLite file in a temporary folder, or a
    uniquely named database on the PostgreSQL server of ``url``, dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.database import make_engine

    with tempfile.TemporaryDirectory(prefix="bizdevops-bench-") as tmp:
        folder = Path(tmp)
        if url is None:
            return await work(f"sqlite+aiosqlite:///{folder / 'bench.db'}", folder)
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise SystemExit("--database-url: give a postgresql+asyncpg:// URL, or none for SQLite")
        name = f"bizdevops_bench_{uuid.uuid4().hex[:10]}"
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


async def server_version(url: str | None) -> str:
    """The database and its version, for a report's first line (no URL: SQLite)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.database import make_engine

    if url is None or make_url(url).get_backend_name() == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return "PostgreSQL " + str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


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


async def py_spy(pid: int, folder: str | None) -> asyncio.subprocess.Process | None:
    """py-spy sampling the bot's Python code while it holds the GIL (CPU, not waiting), in
    py-spy's raw (collapsed stacks) format, one file per phase in ``folder``."""
    if folder is None:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before sampling
    out = Path(folder) / f"bot-{pid}-{time.time_ns()}.txt"
    return await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--rate", "500", "--gil", "--nonblocking",
        "--format", "raw", "--output", str(out), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


# ── each size of a workspace ──────────────────────────────────────────────────────────────


async def each_size(args: argparse.Namespace, title: str, detail: str,
                    run: Callable[[str, Path, Size, argparse.Namespace], Awaitable[Any]],
                    report: Callable[[Any], bool]) -> int:
    """The machine's line, then each size of ``args.use_cases`` run on a fresh database and
    reported, then the total; 0 when every size met its targets (busy_workspace.py,
    dashboard_pages.py)."""
    from bench_data import SIZES, Size

    print(f"bizdevops-bot {title} · {await server_version(args.database_url)} · Python "
          f"{platform.python_version()} · {os.cpu_count()} CPUs · load avg "
          f"{os.getloadavg()[0]:.1f} · {detail}")
    started, ok = time.perf_counter(), True
    for n in args.use_cases:
        points, deployments = SIZES.get(n, (min(20 * n, 100_000), 2 * n))
        size = Size(f"{n}", n, points, deployments)
        result = await on_fresh_database(
            args.database_url, lambda url, folder, size=size: run(url, folder, size, args))
        ok &= report(result)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} · total "
          f"{time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


# ── measuring in-process ───────────────────────────────────────────────────────────────────


@dataclass
class Measured:
    statements: int
    median_ms: float
    note: str


class StatementCounter:
    """Statements sent on the database's connections, the read-only ones included."""

    def __init__(self, db: Database) -> None:
        from sqlalchemy import event

        self.count = 0
        for engine in (db.engine, db.read_engine):
            event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


async def measure(counter: StatementCounter, runs: int,
                  call: Callable[[], Awaitable[str]], *, warm_up: bool = True) -> Measured:
    if warm_up:  # connections, statement caches
        await call()
    times, counts, note = [], set(), ""
    for _ in range(runs):
        before = counter.count
        started = time.perf_counter()
        note = await call()
        times.append((time.perf_counter() - started) * 1000)
        counts.add(counter.count - before)
    if len(counts) != 1:
        raise AssertionError(f"statement count changed between runs: {sorted(counts)}")
    return Measured(counts.pop(), statistics.median(times), note)


# ── the report ─────────────────────────────────────────────────────────────────────────────


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
