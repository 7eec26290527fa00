"""How building a digest (`/digest now`, a scheduled digest) behaves as the database grows.

    python benchmarks/digest_build.py [--database-url URL]
        [--use-cases 10000 --points 100000 --deployments 20000] [--runs 3]

Builds a fresh database twice — the full data set and one tenth of it — with the data
generator of ``benchmarks/bench_data.py`` (use cases with teams and phase history over 40
channels, KPI points over 90 days with targets, finished deployments with real stage JSON),
plus what makes a digest busy (``bench_data.add_digest_activity``): a phase change in the last
week for every tenth use case and five deployments waiting at an approval gate in the measured
channel. Then it times
``DigestService.collect`` + ``render_digest``:

* for ``#C00000``, a channel with its own use cases (a quarter of a percent of them each), and
* for a channel without use cases of its own, whose digest covers the whole workspace,

and counts the SQL statements each issues (a ``before_cursor_execute`` listener), on the
read-only connections the app gathers on (``Database.reads``). The links to waiting approvals,
looked up after the read (the outbox, then chat.getPermalink), are left out.

Without ``--database-url`` the database is an SQLite file in a temporary directory. With a
PostgreSQL URL (``postgresql+asyncpg://user@host/db``) a uniquely named database is created on
that server for each size and dropped afterwards.

Statement counts must be the same at both sizes (no query per use case, deployment or point);
wall times are medians of ``--runs`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bot's packages
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared data and harness

import bench_data  # noqa: E402  (beside this file)
from bench_data import NOW, Size  # noqa: E402
from harness import (  # noqa: E402
    Measured,
    StatementCounter,
    measure,
    on_fresh_database,
    server_version,
    table,
)
from sqlalchemy import func, select  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.render.digest_blocks import render_digest  # noqa: E402
from bot.services.digests import DEFAULT_PERIOD, DigestService  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import DeploymentRow  # noqa: E402

CHANNEL = "C00000"  # use_case_rows homes use case i in C{i % 40}
EMPTY_CHANNEL = "C99999"  # no use case of its own: its digest covers everything
WAITING = 5  # deployments at an approval gate in CHANNEL


# ── the data: bench_data's set plus what a digest reports ──────────────────────────────────


async def load(db: Database, size: Size, seed: int) -> dict[str, int]:
    loaded = await bench_data.load(db, size, seed)
    added = await bench_data.add_digest_activity(db, size, seed, CHANNEL, WAITING)
    async with db.engine.connect() as conn:
        recent = await conn.scalar(select(func.count()).select_from(DeploymentRow)
                                   .where(DeploymentRow.requested_at >= NOW - 2 * timedelta(days=30)))
    return {**loaded, **added, "deployments in the digest's window": int(recent or 0)}


# ── measuring ──────────────────────────────────────────────────────────────────────────────


def digest_service(db: Database) -> DigestService:
    return DigestService(db.uow, db.clock, timedelta(weeks=6), "Europe/Berlin", frozenset({"U00001"}),
                         reads=db.reads)


async def run_size(url: str, size: Size, runs: int, seed: int) -> tuple[dict[str, int], float,
                                                                           dict[str, Measured]]:
    db = Database(url, ManualClock(NOW))
    try:
        started = time.perf_counter()
        await upgrade(db.engine)
        loaded = await load(db, size, seed)
        load_seconds = time.perf_counter() - started
        service = digest_service(db)
        counter = StatementCounter(db)

        def build(channel: str):  # type: ignore[no-untyped-def]
            async def digest() -> str:
                async with db.reads() as uow:
                    data = await service.collect(uow, channel, NOW - DEFAULT_PERIOD, NOW)
                message = render_digest(data)
                blocks = message.as_args()["blocks"]
                assert len(blocks) <= 50, len(blocks)
                return (f"{len(blocks)} blocks; {sum(p.count for p in data.phases)} use cases, "
                        f"{data.total('moves')} phase changes, {data.total('approvals')} approvals, "
                        f"{data.total('deployments')} deployments, {data.total('kpis')} KPIs, "
                        f"{data.total('crossings')} crossings")
            return digest

        results = {
            f"digest #{CHANNEL} (its own use cases)": await measure(counter, runs, build(CHANNEL)),
            "digest of a channel without use cases (all)": await measure(counter, runs,
                                                                             build(EMPTY_CHANNEL)),
        }
        return loaded, load_seconds, results
    finally:
        await db.dispose()


# ── the report ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Outcome:
    loaded: dict[str, int]
    load_seconds: float
    results: dict[str, Measured]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: SQLite file)")
    parser.add_argument("--use-cases", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--deployments", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per operation (median)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.use_cases // 10 < 40 * WAITING or min(args.points, args.deployments) < 10:
        raise SystemExit(f"give at least {400 * WAITING} use cases and 10 points and deployments "
                         "(a tenth is measured too, with its gates in the measured channel)")

    sizes = [Size("full", args.use_cases, args.points, args.deployments),
             Size("1/10", args.use_cases // 10, args.points // 10, args.deployments // 10)]
    print(f"bizdevops-bot digest benchmark · {await server_version(args.database_url)} · "
          f"Python {platform.python_version()} · {args.runs} runs per operation, median")
    started = time.perf_counter()
    outcome: dict[str, Outcome] = {}
    for size in sizes:
        loaded, seconds, results = await on_fresh_database(
            args.database_url, lambda url, _folder, size=size: run_size(url, size, args.runs, args.seed))
        outcome[size.label] = Outcome(loaded, seconds, results)

    print()
    keys = list(outcome["full"].loaded)
    print(table(["data set", *keys, "create+load"],
                   [[label, *(f"{o.loaded[k]:,}" for k in keys), f"{o.load_seconds:.1f} s"]
                    for label, o in outcome.items()]))
    print()
    full, tenth = outcome["full"].results, outcome["1/10"].results
    rows, constant = [], True
    for op in full:
        a, b = full[op], tenth[op]
        constant &= a.statements == b.statements
        rows.append([op, str(a.statements), str(b.statements), f"{a.median_ms:.1f}",
                     f"{b.median_ms:.1f}", f"{a.median_ms / b.median_ms:.2f}x"])
    print(table(["collect + render", "stmts full", "stmts 1/10", "ms full", "ms 1/10",
                    "time full/tenth"], rows))
    print()
    for label, o in outcome.items():
        for op, measured in o.results.items():
            print(f"  {op} ({label}): {measured.note}")
    print()
    print(f"statements constant: {'yes' if constant else 'NO'} "
          f"(each digest issues the same number of SQL statements at both sizes)")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
