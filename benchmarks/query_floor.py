"""What one database read costs, layer by layer: the floor under every command.

    python benchmarks/query_floor.py [--database-url URL] [--runs 3000] [--requests 2000]

On a fresh migrated database (an SQLite file, or a uniquely named PostgreSQL database that is
dropped afterwards) holding one use case, two measurements:

**In one process**, reads that use case by slug — the query behind `/usecase show` — through
each layer the bot uses, and prints the CPU milliseconds per read:

    driver   1 statement   asyncpg (prepared) / aiosqlite (the bot's one-trip connection)
    core     1 statement   SQLAlchemy Core: engine.connect() on the bot's engine, execute, close
    unit     3 statements  the bot's unit of work: a session, the repository's `get` (the use
                           case, its team, its history), rollback — what `/usecase show` reads

**Over HTTP**, ack_latency.py's load (``slash_load.py``: signed slash commands, concurrency 50,
``--requests``) against three bolt apps, each its own process: the bare one ack_latency.py
measures against (its handler only acks), one whose handler acks with a title read through
SQLAlchemy Core (one statement), and one that reads it through the bot's unit of work. Prints
requests per second, p99, server CPU per request, and the share of the bare app's throughput:
ack_latency.py's throughput target (half of bare bolt) read against the least a
database-backed command does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

import aiohttp  # noqa: E402
import harness  # noqa: E402
import slash_load  # noqa: E402
from harness import on_fresh_database, server_version  # noqa: E402

CONCURRENCY = 50

SLUG = "churn-model"


async def cpu_ms(work: Callable[[], Awaitable[Any]], runs: int) -> float:
    for _ in range(min(200, runs)):  # warm caches and pools
        await work()
    started = time.process_time()
    for _ in range(runs):
        await work()
    return (time.process_time() - started) / runs * 1000


async def measure(url: str, _folder: Path, runs: int) -> list[tuple[str, float]]:
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.engine import make_url

    from bot.clock import SystemClock
    from bot.domain.usecases import create
    from storage import sqlite_driver
    from storage.database import Database, make_engine
    from storage.migrate import upgrade
    from storage.models import UseCaseRow

    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    db = Database(url, SystemClock())
    async with db.uow() as uow:
        await uow.use_cases.add(create(SLUG, "Churn", creator_id="U1", channel_id="C1",
                                       now=datetime.now(UTC)))
        await uow.commit()

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        raw = await sqlite_driver.connector(str(parsed.database))
        cursor = raw.cursor()

        async def driver() -> None:
            await cursor.execute("SELECT * FROM use_cases WHERE slug = ?", (SLUG,))
            await cursor.fetchall()

        close = raw.close
    else:
        import asyncpg

        pg = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(
            hide_password=False))
        query = await pg.prepare("SELECT * FROM use_cases WHERE slug = $1")

        async def driver() -> None:
            await query.fetchrow(SLUG)

        close = pg.close

    statement = select(UseCaseRow.__table__).where(UseCaseRow.slug == SLUG)

    async def core() -> None:
        async with db.engine.connect() as conn:
            (await conn.execute(statement)).first()

    async def unit() -> None:
        async with db.uow() as uow:
            assert await uow.use_cases.get(SLUG) is not None

    try:
        return [(name, await cpu_ms(work, runs))
                for name, work in (("driver", driver), ("core", core), ("unit", unit))]
    finally:
        await close()
        await db.dispose()


def serve_reading_bolt(port: int, url: str, layer: str) -> None:
    """The bare bolt app, acking with the use case's title read through ``layer``."""
    from sqlalchemy import select

    from bot.clock import SystemClock
    from storage.database import Database
    from storage.models import UseCaseRow

    db = Database(url, SystemClock())
    statement = select(UseCaseRow.title).where(UseCaseRow.slug == SLUG)

    async def core() -> str:
        async with db.engine.connect() as conn:
            return str(await conn.scalar(statement))

    async def unit() -> str:
        async with db.uow() as uow:
            found = await uow.use_cases.get(SLUG)
        return found.title if found else "?"

    slash_load.serve_bare_bolt(port, {"core": core, "unit": unit}[layer])


async def over_http(url: str, folder: Path, requests: int) -> list[slash_load.Result]:
    env = {**os.environ, "SLACK_SIGNING_SECRET": slash_load.SECRET}
    apps = [("bare bolt", [slash_load.__file__]),
            ("+ core read", [__file__, "--reading-bolt-server", url, "core"]),
            ("+ unit read", [__file__, "--reading-bolt-server", url, "unit"])]
    servers = []
    try:
        for name, argv in apps:
            port = harness.free_port()
            command = [sys.executable, *argv[:2], str(port), *argv[2:]]
            servers.append(await harness.start_server(name, command, env, port, folder))
        async with aiohttp.ClientSession() as http:
            for server in servers:
                await server.wait_healthy(http)
        load = slash_load.Load("http://127.0.0.1:9/unused", seed=7, mix=(("show", 100),))
        return [await slash_load.measure(server, load, requests, 100, CONCURRENCY, check=False)
                for server in servers]
    finally:
        for server in servers:
            await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://… (default: SQLite file)")
    parser.add_argument("--runs", type=int, default=3000, help="reads per layer, in-process")
    parser.add_argument("--requests", type=int, default=2000, help="requests per app, over HTTP")
    args = parser.parse_args()

    async def both(url: str, folder: Path) -> tuple[str, list[tuple[str, float]], list[Any]]:
        rows = await measure(url, folder, args.runs)
        return await server_version(url), rows, await over_http(url, folder, args.requests)

    version, rows, served = await on_fresh_database(args.database_url, both)
    print(f"bizdevops-bot query floor · {version} · Python {platform.python_version()} · "
          f"{args.runs} reads per layer")
    statements = {"driver": 1, "core": 1, "unit": 3}
    driver = rows[0][1]
    for name, ms in rows:
        per = ms / statements[name]
        print(f"  {name:7} {ms:7.3f} ms CPU per read  ({statements[name]} statement"
              f"{'s' if statements[name] > 1 else ''}, {per:.3f} ms each, "
              f"{per / driver:4.1f}× the driver)")
    print(f"\nover HTTP, concurrency {CONCURRENCY}, {args.requests} signed slash commands per app:")
    bare = served[0].rps
    for result in served:
        values = result.all
        print(f"  {result.server:11} {result.rps:6.0f} req/s  "
              f"p99 {harness.percentile(values, 99):6.1f} ms  "
              f"{result.cpu / max(len(values), 1) * 1000:5.2f} ms CPU/request  "
              f"{result.rps / bare:4.0%} of bare bolt  errors {len(result.errors)}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--reading-bolt-server":
        serve_reading_bolt(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        raise SystemExit(0)
    asyncio.run(main())
