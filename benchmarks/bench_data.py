"""A large, realistic data set, bulk-loaded into a migrated database: use cases with teams and
phase history, KPI points over 90 days, targets, and finished deployments with the stage JSON
storage writes. Shared by ``metrics_queries.py`` and ``digest_build.py``.
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

from bot.domain import deployments as machine  # noqa: E402
from bot.domain.deployment_model import (  # noqa: E402
    DeploymentState,
    StageRun,
    StageState,
    Vote,
)
from bot.domain.pipeline import (  # noqa: E402
    BUILT_IN,
    ApprovalSpec,
    ExecutorKind,
    ExecutorSpec,
    OnFailure,
    Pipeline,
    StageSpec,
)
from storage.database import Database  # noqa: E402
from storage.deployment_codec import stage_to_json  # noqa: E402
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
