"""What the dashboard shows beyond ``bench_data.py``'s workspace, added to a loaded database as
the bot would have written it: each use case's problem and success KPI, one private channel
homing a fortieth of the use cases, each deployment's audit trail (``deployment_events``: who
asked, gates opened and approved, each wave run, how it ended — made from the stage JSON
``bench_data`` stored) and what runs in production after each real deployment (the
``production`` placement, as ``bot.domain.production`` builds it). Used by
``dashboard_pages.py``; ``bench_data.py`` stays as the other benchmarks measured it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench_data import fresh_statistics
from sqlalchemy import bindparam, insert, select, text, update

from bot.domain.production import EVERYWHERE, UNKNOWN, Placement, move
from storage.database import Database
from storage.deployment_codec import placement_to_json
from storage.models import DeploymentEventRow, DeploymentRow, UseCaseRow

PRIVATE_CHANNEL = "C00039"  # bench_data homes use case i in C{i % 40}: these become members-only
SUCCESS_KPI = "accuracy"
CHUNK = 5000


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def trail(d: Any) -> list[dict[str, Any]]:
    """A finished deployment's audit trail, as the deployment machine records it."""
    rows = [{"kind": "requested", "at": d.requested_at, "actor": d.requested_by, "stage": None,
             "wave": None, "detail": ""}]
    for stage in d.stages:
        name, started, finished = stage["spec"]["name"], _when(stage["started_at"]), \
            _when(stage["finished_at"])
        if started is None or finished is None:
            continue  # skipped: never ran
        if stage["gate_opened_at"]:
            rows.append({"kind": "gate_opened", "at": _when(stage["gate_opened_at"]),
                         "actor": None, "stage": name, "wave": None, "detail": ""})
            rows += [{"kind": "approved", "at": _when(v["at"]), "actor": v["user_id"],
                      "stage": name, "wave": None, "detail": ""} for v in stage["votes"]]
            rows.append({"kind": "gate_passed", "at": started, "actor": None, "stage": name,
                         "wave": None, "detail": ""})
        waves = stage["waves"] or [None]
        for number, _wave in enumerate(waves, start=1):
            kind = "run_passed" if stage["state"] == "passed" else stage["state"]
            rows.append({"kind": kind, "at": finished, "actor": None, "stage": name,
                         "wave": number if stage["waves"] else None, "detail": stage["detail"]})
    if d.state == "succeeded":
        rows.append({"kind": "succeeded", "at": d.finished_at, "actor": None, "stage": None,
                     "wave": None, "detail": ""})
    return [{**r, "deployment_id": d.id, "version": d.version} for r in rows]


def placements(deployments: list[Any]) -> dict[int, Placement]:
    """What runs in production after each real deployment (oldest first per use case): a
    production run that passed moves production to its version, one that failed leaves it
    unknown, one cancelled before production leaves it as it was."""
    out: dict[int, Placement] = {}
    running: dict[int, Placement] = {}
    for d in sorted(deployments, key=lambda d: d.id):
        if d.dry_run:
            continue
        last = d.stages[-1]
        now = running.get(d.use_case_id, ())
        if last["state"] == "passed":
            now = move(now, [EVERYWHERE], d.version, _when(last["finished_at"]), d.id)
        elif last["state"] == "failed":
            now = move(now, [EVERYWHERE], UNKNOWN, _when(last["finished_at"]), d.id)
        running[d.use_case_id] = now
        if now:
            out[d.id] = now
    return out


async def add_dashboard_story(db: Database) -> dict[str, int]:
    async with db.engine.begin() as conn:
        await conn.execute(update(UseCaseRow).values(
            kpi=SUCCESS_KPI, problem="Decide sooner with a model the business trusts."))
        await conn.execute(update(UseCaseRow).where(UseCaseRow.channel_id == PRIVATE_CHANNEL)
                           .values(private=True))
        deployments = (await conn.execute(select(
            DeploymentRow.id, DeploymentRow.use_case_id, DeploymentRow.version,
            DeploymentRow.state, DeploymentRow.requested_by, DeploymentRow.requested_at,
            DeploymentRow.finished_at, DeploymentRow.dry_run, DeploymentRow.stages)
            .where(DeploymentRow.finished_at.is_not(None)))).all()
        events = [e for d in deployments for e in trail(d)]
        for start in range(0, len(events), CHUNK):
            await conn.execute(insert(DeploymentEventRow.__table__), events[start:start + CHUNK])
        placed = [{"b_id": ident, "b_production": placement_to_json(p)}
                  for ident, p in placements(deployments).items()]
        statement = (update(DeploymentRow.__table__)
                     .where(DeploymentRow.__table__.c.id == bindparam("b_id"))
                     .values(production=bindparam("b_production")))
        for start in range(0, len(placed), CHUNK):
            await conn.execute(statement, placed[start:start + CHUNK])
        private = await conn.scalar(select(text("count(*)")).select_from(UseCaseRow)
                                    .where(UseCaseRow.private.is_(True)))
    await fresh_statistics(db)
    return {"audit events": len(events), "in production": len(placed),
            f"private (#{PRIVATE_CHANNEL})": int(private or 0)}
