"""Deployments to rows and back: stages to JSON (durations in seconds, times ISO 8601 in UTC),
what runs where as JSON, and the plain columns the engine, DORA and the reads query.

The stage *specs* are stored with each deployment: what a deployment was approved and run
under does not change when the pipeline file changes later.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import (
    Deployment,
    DeploymentState,
    StageRun,
    StageState,
    Step,
    StepKind,
    Vote,
    WaveRun,
)
from bot.domain.dora import as_record, lead_time, production_finished
from bot.domain.pipeline import ApprovalSpec, OnFailure, StageSpec
from bot.domain.production import Placement, Running, unsettled
from storage.executor_codec import executor_from_json, executor_to_json
from storage.models import DeploymentRow

Json = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _remind(approval: Json) -> timedelta | None:
    """Rows from before reminders were per gate had the 4-hour nudge."""
    seconds = approval.get("remind", 4 * 3600)
    return None if seconds is None else timedelta(seconds=seconds)


def spec_to_json(spec: StageSpec) -> Json:
    approval = spec.approval
    return {
        "name": spec.name, "run": executor_to_json(spec.run), "timeout": spec.timeout.total_seconds(),
        "approval": None if approval is None else {
            "required": approval.required, "approvers": list(approval.approvers),
            "allow_self": approval.allow_self, "expires": approval.expires.total_seconds(),
            "remind": None if approval.remind is None else approval.remind.total_seconds(),
        },
        "waves": list(spec.waves),
        "targets": spec.targets if isinstance(spec.targets, int) else list(spec.targets),
        "health": executor_to_json(spec.health), "bake": spec.bake.total_seconds(),
        "on_failure": spec.on_failure.value,
    }


def spec_from_json(data: Json) -> StageSpec:
    approval = data["approval"]
    run = executor_from_json(data["run"])
    assert run is not None
    return StageSpec(
        name=data["name"], run=run, timeout=timedelta(seconds=data["timeout"]),
        approval=None if approval is None else ApprovalSpec(
            approval["required"], tuple(approval["approvers"]), approval["allow_self"],
            timedelta(seconds=approval["expires"]), _remind(approval),
        ),
        waves=tuple(data["waves"]),
        targets=data["targets"] if isinstance(data["targets"], int) else tuple(data["targets"]),
        health=executor_from_json(data["health"]), bake=timedelta(seconds=data["bake"]),
        on_failure=OnFailure(data["on_failure"]),
    )


def stage_to_json(stage: StageRun) -> Json:
    step = stage.step
    return {
        "spec": spec_to_json(stage.spec), "state": stage.state.value,
        "started_at": _time(stage.started_at), "finished_at": _time(stage.finished_at),
        "detail": stage.detail, "url": stage.url,
        "waves": [{"targets": list(w.targets), "state": w.state.value,
                   "health": w.health.value if w.health else None} for w in stage.waves],
        "gate_opened_at": _time(stage.gate_opened_at),
        "votes": [{**asdict(v), "at": _time(v.at)} for v in stage.votes],
        "step": None if step is None else {
            "kind": step.kind.value, "wave": step.wave, "due_at": _time(step.due_at),
            "deadline": _time(step.deadline), "launched": step.launched,
            "accepted": step.accepted, **({"follow": step.follow} if step.follow else {}),
        },
        **({"undo": stage.undo} if stage.undo is not None else {}),
        **({"undo_until": _time(stage.undo_until)} if stage.undo_until else {}),
        **({"told": list(stage.told)} if stage.told is not None else {}),
        **({"reminded": stage.reminded, "reminded_at": _time(stage.reminded_at)}
           if stage.reminded else {}),
        **({"group_ids": [list(pair) for pair in stage.group_ids]} if stage.group_ids else {}),
    }


def stage_from_json(data: Json) -> StageRun:
    step = data["step"]
    return StageRun(
        spec=spec_from_json(data["spec"]), state=StageState(data["state"]),
        started_at=_parse_time(data["started_at"]), finished_at=_parse_time(data["finished_at"]),
        detail=data["detail"], url=data["url"],
        waves=tuple(
            WaveRun(tuple(w["targets"]), StageState(w["state"]),
                    StageState(w["health"]) if w["health"] else None)
            for w in data["waves"]
        ),
        gate_opened_at=_parse_time(data["gate_opened_at"]),
        votes=tuple(Vote(v["user_id"], v["approve"], _parse_time(v["at"]), v["comment"])  # type: ignore[arg-type]
                    for v in data["votes"]),
        step=None if step is None else Step(
            StepKind(step["kind"]), step["wave"], _parse_time(step["due_at"]),  # type: ignore[arg-type]
            _parse_time(step["deadline"]), step["launched"], step["accepted"],  # type: ignore[arg-type]
            step.get("follow", ""),
        ),
        undo=data.get("undo"), undo_until=_parse_time(data.get("undo_until")),
        told=tuple(data["told"]) if "told" in data else None,
        reminded=data.get("reminded", 0),
        reminded_at=_parse_time(data.get("reminded_at")),
        group_ids=tuple((named, found) for named, found in data.get("group_ids", ())),
    )


def placement_to_json(placement: Placement) -> list[Json]:
    return [{"version": g.version, "targets": list(g.targets), "since": _time(g.since),
             "deployment": g.deployment_id} for g in placement]


def placement_from_json(data: list[Json] | None) -> Placement:
    return tuple(Running(g["version"], tuple(g["targets"]), _parse_time(g["since"]),
                         g["deployment"]) for g in data or ())


# ── rows ───────────────────────────────────────────────────────────────────────────────────

def to_deployment(row: DeploymentRow) -> Deployment:
    """A row, stages decoded from their JSON, as the domain's deployment."""
    return Deployment(
        id=row.id, use_case=row.slug, version=row.version, pipeline=row.pipeline,
        requested_by=row.requested_by, requested_at=row.requested_at, channel_id=row.channel_id,
        stages=tuple(stage_from_json(s) for s in row.stages), state=DeploymentState(row.state),
        kind=row.kind, rollback_of=row.rollback_of, dry_run=row.dry_run,
        finished_at=row.finished_at, detail=row.detail, revision=row.revision,
        override=row.override, production=placement_from_json(row.production),
        change=_change(row), api_token=row.api_token,
    )


def _change(row: DeploymentRow) -> Change | None:
    if row.change_kind is None or row.change_ref is None:
        return None
    return Change(ChangeKind(row.change_kind), row.change_ref, row.change_at, row.change_url,
                  row.change_run_id or "")


def change_columns(change: Change | None) -> dict[str, object]:
    """What a deployment's version is, in its five columns (all NULL: not known)."""
    if change is None:
        return dict.fromkeys(("change_kind", "change_ref", "change_at", "change_url",
                              "change_run_id"))
    return {"change_kind": change.kind.value, "change_ref": change.ref, "change_at": change.at,
            "change_url": change.url, "change_run_id": change.run_id or None}


def columns(d: Deployment) -> dict[str, object]:
    stage = d.current_stage
    step = stage.step if stage is not None and stage.state is StageState.RUNNING else None
    last = d.stages[-1] if d.stages else None
    record = as_record(d)
    prod_finished = production_finished(record)
    return {
        "production_started_at": last.started_at if last else None,
        "production_finished_at": last.finished_at if last else None,
        "prod_finished_at": prod_finished,
        "lead_seconds": lead_time(record, prod_finished).total_seconds() if prod_finished else None,
        "state": d.state.value, "finished_at": d.finished_at, "detail": d.detail,
        "stages": [stage_to_json(s) for s in d.stages], "next_at": d.next_deadline(),
        "launch_pending": bool(step and not step.launched),
        "production": placement_to_json(d.production),  # [] when nothing placed: SQL NULL is "unknown"
        "attention": unsettled(d.production), **change_columns(d.change),
    }
