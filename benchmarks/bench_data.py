"""A large, realistic data set, bulk-loaded into a migrated database: use cases with teams and
phase history, KPI points over 90 days, targets and the crossings they saw, and finished
deployments with the stage JSON and DORA columns storage writes; ``add_digest_activity`` adds
what makes a digest busy. Shared by ``metrics_queries.py``, ``digest_build.py`` and
``busy_workspace.py``. Everything is dated back from ``now`` (a fixed moment by default; the
moment the benchmark runs when a real ``bizdevops serve`` reads it).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from sqlalchemy import insert, text  # noqa: E402

from bot.domain import deployment_machine as machine  # noqa: E402
from bot.domain import metrics as kpi  # noqa: E402
from bot.domain.deployment_model import (  # noqa: E402
    DeploymentState,
    StageRun,
    StageState,
    Vote,
)
from bot.domain.dora import DoraRecord, production_finished  # noqa: E402
from bot.domain.executor_specs import DryRunSpec, WebhookSpec
from bot.domain.pipeline import (  # noqa: E402
    ApprovalSpec,
    OnFailure,
    Pipeline,
    StageSpec,
)
from bot.pipelines.loading import BUILT_IN  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.deployment_codec import stage_to_json  # noqa: E402
from storage.kpi_models import MetricCrossingRow, MetricPointRow, MetricTargetRow  # noqa: E402
from storage.models import (  # noqa: E402
    DeploymentRow,
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

DRY = DryRunSpec()
HOOK = WebhookSpec(url="https://ci.example.com/hooks/deploy")
WAVES = Pipeline("production", (
    StageSpec("build", HOOK),
    StageSpec("verify", HOOK),
    StageSpec("stage", HOOK),
    StageSpec("verify-staging", HOOK, approval=ApprovalSpec()),
    StageSpec("deploy", HOOK, approval=ApprovalSpec(required=2), waves=("1", "10%", "50%", "100%"),
              targets=40, health=HOOK, bake=timedelta(minutes=5), on_failure=OnFailure.ROLLBACK),
))
ROLLBACK = Pipeline("rollback", (WAVES.stages[-1],))


@dataclass(frozen=True)
class Size:
    label: str
    use_cases: int
    points: int
    deployments: int


SIZES = {2000: (40_000, 400), 10_000: (100_000, 20_000)}  # use cases: (points, deployments)


def chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def use_case_rows(n: int, now: datetime = NOW) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                        list[dict[str, Any]]]:
    created = now - SPAN - timedelta(days=30)
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


def point_rows(n_points: int, n_use_cases: int, rng: random.Random,
               now: datetime = NOW) -> list[dict[str, Any]]:
    rows = []
    for i in range(n_points):
        name = KPIS[(i // n_use_cases) % len(KPIS)]
        value = {"latency_ms": 80 + rng.random() * 60, "throughput": 900 + rng.random() * 300}.get(
            name, 0.6 + rng.random() * 0.35)
        at = now - SPAN * rng.random()  # received when it was measured (migration 0016)
        rows.append({"use_case_id": i % n_use_cases + 1, "name": name, "value": value,
                     "unit": UNITS.get(name, ""), "at": at, "received_at": at,
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


def deployment_rows(n: int, n_use_cases: int, rng: random.Random,
                    now: datetime = NOW) -> list[dict[str, Any]]:
    """Finished deployments: most succeed, some fail in production or are cancelled earlier,
    a few are rollbacks of the one before; stage JSON made by the real codec, and the DORA
    columns as storage writes them."""
    rows: list[dict[str, Any]] = []
    last_of: dict[int, int] = {}
    for i in range(n):
        uc_id = i % n_use_cases + 1
        slug = f"uc-{uc_id - 1:05d}"
        requested = now - SPAN * rng.random()
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
            **_dora_columns(d.id, slug, state, requested, at, stages[-1].started_at,
                            stages[-1].finished_at),
        })
        last_of[uc_id] = i + 1
    rolled_back = {r["rollback_of"] for r in rows if r["rollback_of"] and r["production_started_at"]}
    for r in rows:
        r["rolled_back"] = r["id"] in rolled_back
    return rows


def _dora_columns(ident: int | None, slug: str, state: DeploymentState, requested: datetime,
                  finished: datetime, started: datetime | None,
                  prod_finished: datetime | None) -> dict[str, Any]:
    record = DoraRecord(ident, slug, "deploy", None, state, requested, finished, False, started,
                        prod_finished)
    done = production_finished(record)
    return {"prod_finished_at": done,
            "lead_seconds": (done - requested).total_seconds() if done else None}


def crossing_rows(points: list[dict[str, Any]], targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The crossings those points made of those targets, as the bot records them when announced."""
    wanted = {(t["use_case_id"], t["name"]): kpi.Target(t["op"], t["value"]) for t in targets}
    series: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for p in points:
        if (p["use_case_id"], p["name"]) in wanted:
            series.setdefault((p["use_case_id"], p["name"]), []).append(p)
    rows = []
    for key, values in series.items():
        target, state = wanted[key], None
        for p in sorted(values, key=lambda p: p["at"]):
            state, flipped = kpi.crossing(state, target, p["value"])
            if flipped:
                rows.append({"use_case_id": key[0], "name": key[1], "at": p["at"],
                             "met": state == "met", "value": p["value"], "unit": p["unit"],
                             "op": target.op, "target": target.value})
    return rows


async def load(db: Database, size: Size, seed: int, now: datetime = NOW) -> dict[str, int]:
    rng = random.Random(seed)
    cases, team, history = use_case_rows(size.use_cases, now)
    points = point_rows(size.points, size.use_cases, rng, now)
    deployments = deployment_rows(size.deployments, size.use_cases, rng, now)
    targets = [{"use_case_id": 1 + i, "name": name, "op": ">=", "value": 0.8, "set_by": "U00001",
                "set_at": now - SPAN, "state": "met"}
               for i in range(0, size.use_cases, 10) for name in KPIS[:3]]
    crossings = crossing_rows(points, targets)
    async with db.engine.begin() as conn:
        for table, rows in ((UseCaseRow, cases), (TeamMemberRow, team), (PhaseChangeRow, history),
                            (MetricPointRow, points), (DeploymentRow, deployments),
                            (MetricTargetRow, targets), (MetricCrossingRow, crossings)):
            for part in chunks(rows):
                await conn.execute(insert(table.__table__), part)
        if db.dialect == "postgresql":  # ids were given explicitly: move the sequences on
            for table in ("use_cases", "deployments"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
    await fresh_statistics(db)
    return {"use cases": len(cases), "points": len(points), "deployments": len(deployments),
            "targets": len(targets), "crossings": len(crossings)}


GATED = Pipeline("gated", (StageSpec("deploy", DRY, approval=ApprovalSpec()),))


async def add_digest_activity(db: Database, size: Size, seed: int, channel: str, waiting: int,
                              now: datetime = NOW) -> dict[str, int]:
    """What makes a digest busy: a phase change in the last week for every tenth use case, and
    ``waiting`` deployments at an approval gate in ``channel`` (use cases 40k live in C00000)."""
    rng = random.Random(seed + 1)
    moves = [{"use_case_id": i + 1, "from_phase": "dev", "to_phase": "ops",
              "actor_id": f"U{i % 97:05d}", "at": now - timedelta(days=6) * rng.random(),
              "note": "KPIs in production"}
             for i in range(0, size.use_cases, 10)]
    gates = []
    for k in range(waiting):
        uc_id = 40 * k + 1 + int(channel[1:]) % 40
        requested = now - timedelta(hours=2 + 5 * k)
        d = machine.request(use_case=f"uc-{uc_id - 1:05d}", version=f"9.{k}.0", pipeline=GATED,
                            requested_by=f"U{k + 200:05d}", channel_id=channel,
                            now=requested).deployment
        gates.append({
            "id": size.deployments + 1 + k, "use_case_id": uc_id, "slug": d.use_case,
            "version": d.version, "pipeline": d.pipeline, "kind": d.kind, "rollback_of": None,
            "dry_run": d.dry_run, "requested_by": d.requested_by, "requested_at": requested,
            "channel_id": channel, "state": d.state.value, "finished_at": None, "detail": "",
            "stages": [stage_to_json(s) for s in d.stages], "revision": 1,
            "next_at": requested + timedelta(hours=24), "launch_pending": False,
            "lease_owner": None, "lease_until": None, "active_slot": uc_id,
        })
    async with db.engine.begin() as conn:
        for part in chunks(moves):
            await conn.execute(insert(PhaseChangeRow.__table__), part)
        if gates:
            await conn.execute(insert(DeploymentRow.__table__), gates)
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('deployments', 'id'), "
                                    "(SELECT max(id) FROM deployments))"))
    await fresh_statistics(db)
    return {"phase changes (last week)": len(moves), "waiting at a gate": len(gates)}


async def fresh_statistics(db: Database) -> None:
    """The planner's statistics, and on PostgreSQL the indexes' pending entries flushed (a GIN
    index filled after its creation keeps a pending list the planner shuns): what a database
    that autovacuum has visited looks like."""
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
