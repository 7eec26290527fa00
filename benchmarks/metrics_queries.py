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
``--runs`` runs after one warm-up (at most 3 runs, without warm-up, for the overall DORA report and
its two parts, which take seconds at full size). Compare ratios within one run: machines are
shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.domain import deployments as machine  # noqa: E402
from bot.domain.deployment_model import (  # noqa: E402
    DeploymentState,
    StageRun,
    StageState,
    Vote,
)
from bot.domain.dora import DoraRecord, dora_by_use_case, dora_periods  # noqa: E402
from bot.domain.pipeline import (  # noqa: E402
    BUILT_IN,
    ApprovalSpec,
    ExecutorKind,
    ExecutorSpec,
    OnFailure,
    Pipeline,
    StageSpec,
)
from bot.services.commands import ShowDora, ShowMetrics  # noqa: E402
from bot.services.metrics import MetricService  # noqa: E402
from storage.database import Database, make_engine  # noqa: E402
from storage.deployment_codec import stage_to_json  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    DeploymentRow,
    MetricPointRow,
    MetricTargetRow,
    PhaseChangeRow,
    TeamMemberRow,
    UseCaseRow,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=90)
KPIS = ("accuracy", "precision", "recall", "latency_ms", "throughput", "drift")
UNITS = {"latency_ms": "ms", "throughput": "req/s"}
ROLES = ("business", "data-scientist", "data-engineer", "devops")
CHUNK = 5000
SUBJECT = "uc-00000"  # the use case `show` and `dora <slug>` are measured on

DRY = ExecutorSpec(ExecutorKind.DRY_RUN)
HOOK = ExecutorSpec(ExecutorKind.WEBHOOK, url="https://ci.example.com/hooks/deploy")
WAVES = Pipeline("production", (
    StageSpec("build", HOOK),
    StageSpec("verify", HOOK),
    StageSpec("stage", HOOK),
    StageSpec("verify-staging", HOOK, approval=ApprovalSpec()),
    StageSpec("deploy", HOOK, approval=ApprovalSpec(required=2), waves=("1", "10%", "50%", "100%"),
              targets=40, health=HOOK, bake=timedelta(minutes=5), on_failure=OnFailure.ROLLBACK),
))
ROLLBACK = Pipeline("rollback", (WAVES.stages[-1],))


# ── the data ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Size:
    label: str
    use_cases: int
    points: int
    deployments: int


def chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def use_case_rows(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    created = NOW - SPAN - timedelta(days=30)
    cases, team, history = [], [], []
    for i in range(n):
        uc_id = i + 1
        cases.append({
            "id": uc_id, "slug": f"uc-{i:05d}", "title": f"Use case number {i}",
            "domain": ("sales", "risk", "operations")[i % 3], "owner_id": f"U{i % 97:05d}",
            "channel_id": f"C{i % 40:05d}", "phase": ("biz", "dev", "ops", "continuous")[i % 4],
            "phase_since": created + timedelta(days=10), "created_at": created,
            "created_by": f"U{i % 97:05d}", "archived_reason": "", "version": 2,
        })
        for k, role in enumerate(ROLES[:3]):
            team.append({"use_case_id": uc_id, "user_id": f"U{(i + 7 * k + 1) % 311:05d}",
                         "role": role})
        history.append({"use_case_id": uc_id, "from_phase": None, "to_phase": "biz",
                        "actor_id": f"U{i % 97:05d}", "at": created, "note": "created"})
        history.append({"use_case_id": uc_id, "from_phase": "biz", "to_phase": "dev",
                        "actor_id": f"U{i % 97:05d}", "at": created + timedelta(days=10),
                        "note": "business case signed"})
    return cases, team, history


def point_rows(n_points: int, n_use_cases: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(n_points):
        name = KPIS[(i // n_use_cases) % len(KPIS)]
        value = {"latency_ms": 80 + rng.random() * 60, "throughput": 900 + rng.random() * 300}.get(
            name, 0.6 + rng.random() * 0.35)
        rows.append({"use_case_id": i % n_use_cases + 1, "name": name, "value": value,
                     "unit": UNITS.get(name, ""), "at": NOW - SPAN * rng.random(),
                     "recorded_by": "token:ci" if i % 3 else f"U{i % 97:05d}"})
    return rows


def _finished(stage: StageRun, start: datetime, minutes: float, state: StageState,
              approver: str | None) -> tuple[StageRun, datetime]:
    end = start + timedelta(minutes=minutes)
    votes = (Vote(approver, True, start),) if approver and stage.spec.approval else ()
    waves = tuple(replace(w, state=state, health=state if stage.spec.health else None)
                  for w in stage.waves)
    done = replace(stage, state=state, started_at=start, finished_at=end, waves=waves,
                   gate_opened_at=start - timedelta(minutes=30) if stage.spec.approval else None,
                   votes=votes, step=None, detail="" if state is StageState.PASSED else "exit 1")
    return done, end


def deployment_rows(n: int, n_use_cases: int, rng: random.Random) -> list[dict[str, Any]]:
    """Finished deployments: most succeed, some fail in production or are cancelled earlier,
    a few are rollbacks of the one before; stage JSON made by the real codec."""
    rows: list[dict[str, Any]] = []
    last_of: dict[int, int] = {}
    for i in range(n):
        uc_id = i % n_use_cases + 1
        slug = f"uc-{uc_id - 1:05d}"
        requested = NOW - SPAN * rng.random()
        roll = rng.random()
        rollback_of = last_of.get(uc_id) if roll < 0.05 else None
        pipeline = ROLLBACK if rollback_of else (WAVES if uc_id % 3 == 0 else BUILT_IN.pipelines["default"])
        d = machine.request(use_case=slug, version=f"1.{i // n_use_cases}.{i % 7}", pipeline=pipeline,
                            requested_by=f"U{i % 311:05d}", channel_id=f"C{uc_id % 40:05d}",
                            now=requested, kind="rollback" if rollback_of else "deploy",
                            rollback_of=rollback_of).deployment
        outcome = ("cancelled" if 0.05 <= roll < 0.12 else "failed" if 0.12 <= roll < 0.22
                   else "succeeded")
        stages, at = list(d.stages), requested
        for index, stage in enumerate(stages):
            last = index == len(stages) - 1
            if outcome == "cancelled" and index == 2:
                stages[index], at = _finished(stage, at, rng.uniform(1, 20), StageState.CANCELLED, None)
                stages[index + 1:] = [replace(s, state=StageState.SKIPPED) for s in stages[index + 1:]]
                break
            state = StageState.FAILED if outcome == "failed" and last else StageState.PASSED
            wait = rng.uniform(10, 600) if stage.spec.approval else 0
            stages[index], at = _finished(stage, at + timedelta(minutes=wait), rng.uniform(1, 45),
                                          state, "U00001")
        state = {"cancelled": DeploymentState.CANCELLED, "failed": DeploymentState.FAILED,
                 "succeeded": DeploymentState.SUCCEEDED}[outcome]
        rows.append({
            "id": i + 1, "use_case_id": uc_id, "slug": slug, "version": d.version,
            "pipeline": d.pipeline, "kind": d.kind, "rollback_of": rollback_of,
            "dry_run": d.dry_run, "requested_by": d.requested_by, "requested_at": requested,
            "channel_id": d.channel_id, "state": state.value, "finished_at": at,
            "detail": "" if outcome == "succeeded" else f"{outcome} at {stages[-1].name}",
            "stages": [stage_to_json(s) for s in stages], "revision": len(stages) * 3,
            "next_at": None, "launch_pending": False, "lease_owner": None, "lease_until": None,
            "active_slot": None,
            # As storage writes them beside the JSON (DORA reads these columns only).
            "production_started_at": stages[-1].started_at,
            "production_finished_at": stages[-1].finished_at,
        })
        last_of[uc_id] = i + 1
    return rows


async def load(db: Database, size: Size, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    cases, team, history = use_case_rows(size.use_cases)
    points = point_rows(size.points, size.use_cases, rng)
    deployments = deployment_rows(size.deployments, size.use_cases, rng)
    targets = [{"use_case_id": 1 + i, "name": name, "op": ">=", "value": 0.8, "set_by": "U00001",
                "set_at": NOW - SPAN, "state": "met"}
               for i in range(0, size.use_cases, 10) for name in KPIS[:3]]
    async with db.engine.begin() as conn:
        for table, rows in ((UseCaseRow, cases), (TeamMemberRow, team), (PhaseChangeRow, history),
                            (MetricPointRow, points), (DeploymentRow, deployments),
                            (MetricTargetRow, targets)):
            for part in chunks(rows):
                await conn.execute(insert(table.__table__), part)
        if db.dialect == "postgresql":  # ids were given explicitly: move the sequences on
            for table in ("use_cases", "deployments"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
    async with db.engine.connect() as conn:  # fresh statistics for the planner
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return {"use cases": len(cases), "points": len(points), "deployments": len(deployments),
            "targets": len(targets)}


# ── measuring ──────────────────────────────────────────────────────────────────────────────


@dataclass
class Measured:
    statements: int
    median_ms: float
    note: str


class StatementCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

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


async def run_size(url: str, size: Size, runs: int, seed: int) -> tuple[dict[str, int], float,
                                                                        dict[str, Measured]]:
    db = Database(url, ManualClock(NOW))
    try:
        started = time.perf_counter()
        await upgrade(db.engine)
        loaded = await load(db, size, seed)
        load_seconds = time.perf_counter() - started
        service = MetricService(db.uow, db.clock, admins_configured=True)
        counter = StatementCounter(db)

        async def show() -> str:
            message, chart = await service.show(ShowMetrics(SUBJECT, None, 30))
            series = chart.series if chart else []
            return f"{len(series)} KPIs, {sum(len(s[2]) for s in series)} points charted"

        async def dora_one() -> str:
            return (await service.dora(ShowDora(SUBJECT, 30))).text.split(": ", 1)[1][:60]

        async def dora_all() -> str:
            return (await service.dora(ShowDora(None, 30))).text.split(": ", 1)[1][:60]

        # Where the overall DORA time goes: loading the records (plain columns), or the maths.
        history: list[DoraRecord] = []

        async def since() -> str:
            async with db.uow() as uow:
                history[:] = await uow.deployments.dora_records(NOW - timedelta(days=2 * 30 + 30))
            return f"{len(history):,} deployment records read"

        async def maths() -> str:
            dora_periods(history, now=NOW, days=30)
            return f"{len(dora_by_use_case(history, now=NOW, days=30)):,} use cases"

        # The overall report takes seconds at full size: fewer runs, already warm.
        heavy = min(runs, 3)
        results = {
            f"show {SUBJECT}": await measure(counter, runs, show),
            f"dora {SUBJECT}": await measure(counter, runs, dora_one),
            "dora (all use cases)": await measure(counter, heavy, dora_all, warm_up=False),
            "  of which: load records": await measure(counter, heavy, since, warm_up=False),
            "  of which: DORA maths (pure)": await measure(counter, heavy, maths, warm_up=False),
        }
        return loaded, load_seconds, results
    finally:
        await db.dispose()


# ── databases ──────────────────────────────────────────────────────────────────────────────


async def on_fresh_database(url: str | None, work: Callable[[str], Awaitable[Any]]) -> Any:
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bizdevops-bench-") as folder:
            return await work(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: give a postgresql+asyncpg:// URL, or none for SQLite")
    name = f"bizdevops_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            return await work(parsed.set(database=name).render_as_string(hide_password=False))
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def server_version(url: str | None) -> str:
    if url is None:
        import sqlite3
        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return "PostgreSQL " + str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


# ── the report ─────────────────────────────────────────────────────────────────────────────


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


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
            args.database_url, lambda url, size=size: run_size(url, size, args.runs, args.seed))

    print()
    print(table(["data set", "use cases", "points", "deployments", "targets", "create+load"],
                [[label, *(f"{n:,}" for n in loaded.values()), f"{seconds:.1f} s"]
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
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
