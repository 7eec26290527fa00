"""What one database read costs in CPU, layer by layer: the floor under every command.

    python benchmarks/query_floor.py [--database-url URL] [--runs 3000]

In one process, on a fresh migrated database (an SQLite file, or a uniquely named PostgreSQL
database that is dropped afterwards), reads one use case by slug — the query behind
`/usecase show` — through each layer the bot uses, and prints the CPU milliseconds per read:

    driver   1 statement   asyncpg (prepared) / aiosqlite (the bot's one-trip connection)
    core     1 statement   SQLAlchemy Core: engine.connect() on the bot's engine, execute, close
    unit     3 statements  the bot's unit of work: a session, the repository's `get` (the use
                           case, its team, its history), rollback — what `/usecase show` reads

ack_latency.py's throughput target (half of a bare bolt app, ≈ 0.5 ms of CPU per request on
this machine) is to be read against these: a command needs at least one unit of work.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from ack_latency import on_fresh_database, server_version  # noqa: E402  (beside this file)

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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://… (default: SQLite file)")
    parser.add_argument("--runs", type=int, default=3000)
    args = parser.parse_args()

    async def versioned(url: str, folder: Path) -> tuple[str, list[tuple[str, float]]]:
        rows = await measure(url, folder, args.runs)
        return await server_version(url), rows

    version, rows = await on_fresh_database(args.database_url, versioned)
    print(f"bizdevops-bot query floor · {version} · Python {platform.python_version()} · "
          f"{args.runs} reads per layer")
    statements = {"driver": 1, "core": 1, "unit": 3}
    driver = rows[0][1]
    for name, ms in rows:
        per = ms / statements[name]
        print(f"  {name:7} {ms:7.3f} ms CPU per read  ({statements[name]} statement"
              f"{'s' if statements[name] > 1 else ''}, {per:.3f} ms each, "
              f"{per / driver:4.1f}× the driver)")


if __name__ == "__main__":
    asyncio.run(main())
