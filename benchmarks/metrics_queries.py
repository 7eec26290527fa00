"""How `/metric show` and `/metric dora` behave as the database grows.

    python benchmarks/metrics_queries.py [--database-url URL]
        [--use-cases 1000 --points 100000 --deployments 20000] [--runs 5]

Builds a fresh database twice — the full data set and one tenth of it (use cases, points and
deployments all divided by ten, so each use case has the same history) — migrates it, bulk-loads
use cases (with teams and phase history), KPI points over 90 days and finished deployments with
realistic stage JSON, then times ``MetricService.show`` (one use case), ``MetricService.dora``
(one use case) and ``MetricService.dora`` (overall), and counts the SQL statements each issues.

Without ``--database-url`` the database is an SQLite file in a temporary directory. With a
PostgreSQL URL (``postgresql+asyncpg://user@host/db``) a uniquely named database is created on
that server for each run and dropped afterwards.

Statement counts must be the same at both sizes (no N+1 queries); wall times are medians of
``--runs`` runs after one warm-up. The overall DORA report is counted by SQL aggregates (both
periods), plus the table of the 20 busiest use cases computed from their own records; its
target is ≤ 100 ms at 20,000 deployments. Compare ratios within one run: machines are shared
and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from bench_data import NOW, Size, load  # noqa: E402  (beside this file)
from harness import (  # noqa: E402
    Measured,
    StatementCounter,
    measure,
    on_fresh_database,
    server_version,
    table,
)

from bot.clock import ManualClock  # noqa: E402
from bot.domain.dora import dora_by_use_case  # noqa: E402
from bot.render.metric_replies import reply  # noqa: E402
from bot.services.commands import ShowDora, ShowMetrics  # noqa: E402
from bot.services.metrics import MetricService  # noqa: E402
from bot.services.ports import Scope  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

SUBJECT = "uc-00000"  # the use case `show` and `dora <slug>` are measured on
DAY = timedelta(days=1)
DORA_TARGET_MS = 100.0  # DORA for all use cases at 20,000 deployments (issue 11)


# ── measuring ──────────────────────────────────────────────────────────────────────────────


async def run_size(url: str, size: Size, runs: int, seed: int) -> tuple[dict[str, int], float,
                                                                        dict[str, Measured]]:
    db = Database(url, ManualClock(NOW))
    try:
        started = time.perf_counter()
        await upgrade(db.engine)
        loaded = await load(db, size, seed)
        load_seconds = time.perf_counter() - started
        service = MetricService(db.uow, db.clock, reads=db.reads)
        counter = StatementCounter(db)

        async def show() -> str:
            message, chart = await service.show(ShowMetrics(SUBJECT, None, 30))
            series = chart.series if chart else []
            return f"{len(series)} KPIs, {sum(len(s[2]) for s in series)} points charted"

        async def dora_one() -> str:
            return reply(await service.dora(ShowDora(SUBJECT, 30))).text.split(": ", 1)[1][:60]

        async def dora_all() -> str:
            return reply(await service.dora(ShowDora(None, 30))).text.split(": ", 1)[1][:60]

        # Where the overall DORA time goes: the SQL aggregates of both periods, or the busiest
        # use cases' table (their records, computed by the domain).
        async def counts() -> str:
            windows = [(NOW - 30 * DAY, NOW), (NOW - 60 * DAY, NOW - 30 * DAY)]
            async with db.reads() as uow:
                found = await uow.dora.counts(Scope(), windows, NOW)
            return f"{found[0].deployments:,} production deployments in 30 days counted"

        async def busiest() -> str:
            async with db.reads() as uow:
                slugs = await uow.dora.busiest((NOW - 30 * DAY, NOW), 20)
                records = await uow.deployments.dora_records(NOW - 90 * DAY, slugs=slugs)
            by_slug = dora_by_use_case(records, now=NOW, days=30)
            return f"{len(by_slug)} use cases, {len(records)} records"

        results = {
            f"show {SUBJECT}": await measure(counter, runs, show),
            f"dora {SUBJECT}": await measure(counter, runs, dora_one),
            "dora (all use cases)": await measure(counter, runs, dora_all),
            "  of which: SQL counts, 2 periods": await measure(counter, runs, counts),
            "  of which: the 20 busiest": await measure(counter, runs, busiest),
        }
        return loaded, load_seconds, results
    finally:
        await db.dispose()


# ── the report ─────────────────────────────────────────────────────────────────────────────


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: SQLite file)")
    parser.add_argument("--use-cases", type=int, default=1000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--deployments", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per operation (median)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if min(args.use_cases, args.points, args.deployments) < 10:
        raise SystemExit("give at least 10 use cases, points and deployments (a tenth is measured too)")

    sizes = [Size("full", args.use_cases, args.points, args.deployments),
             Size("1/10", args.use_cases // 10, args.points // 10, args.deployments // 10)]
    print(f"bizdevops-bot metrics benchmark · {await server_version(args.database_url)} · "
          f"Python {platform.python_version()} · {args.runs} runs per operation, median")
    started = time.perf_counter()
    outcome: dict[str, tuple[dict[str, int], float, dict[str, Measured]]] = {}
    for size in sizes:
        outcome[size.label] = await on_fresh_database(
            args.database_url, lambda url, _folder, size=size: run_size(url, size, args.runs, args.seed))

    print()
    keys = list(outcome["full"][0])
    print(table(["data set", *keys, "create+load"],
                [[label, *(f"{loaded[k]:,}" for k in keys), f"{seconds:.1f} s"]
                 for label, (loaded, seconds, _) in outcome.items()]))
    print()
    full, tenth = outcome["full"][2], outcome["1/10"][2]
    rows, constant = [], True
    for op in full:
        a, b = full[op], tenth[op]
        constant &= a.statements == b.statements
        rows.append([op, str(a.statements), str(b.statements), f"{a.median_ms:.1f}",
                     f"{b.median_ms:.1f}", f"{a.median_ms / b.median_ms:.2f}x"])
    print(table(["operation", "stmts full", "stmts 1/10", "ms full", "ms 1/10", "time full/tenth"],
                rows))
    print()
    for op, measured in full.items():
        print(f"  {op.strip()} (full): {measured.note}")
    print()
    print(f"statements constant: {'yes' if constant else 'NO'} "
          f"(each operation issues the same number of SQL statements at both sizes)")
    dora_ms = full["dora (all use cases)"].median_ms
    met = dora_ms <= DORA_TARGET_MS
    print(f"target DORA for all use cases ≤ {DORA_TARGET_MS:.0f} ms at {args.deployments:,} "
          f"deployments: {'MET' if met else 'MISSED'} ({dora_ms:.1f} ms)")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if constant and met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
