"""Deployment stages to JSON and back. Durations are seconds, times ISO 8601 in UTC.

The stage *specs* are stored with each deployment: what a deployment was approved and run
under does not change when the pipeline file changes later.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from bot.domain.deployment_model import StageRun, StageState, Step, StepKind, Vote, WaveRun
from bot.domain.kpis import MaxDrop
from bot.domain.pipeline import ApprovalSpec, ExecutorKind, ExecutorSpec, OnFailure, StageSpec

Json = dict[str, Any]
# Executor settings stored only when set: older rows and other kinds read back as they were.
_TEXTS = ("model", "alias", "repo", "workflow", "ref")
_PAIRS = ("require_tags", "inputs")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _executor(spec: ExecutorSpec | None) -> Json | None:
    if spec is None:
        return None
    out: Json = {"kind": spec.kind.value, "url": spec.url, "argv": list(spec.argv),
                 "delay": spec.delay.total_seconds()}
    if spec.kind is ExecutorKind.KPI:  # only then: older rows and other kinds stay as they were
        drop = spec.max_drop
        out["kpi"] = {"name": spec.kpi, "max_drop": None if drop is None else [drop.amount, drop.percent]}
    for name in _TEXTS:
        if value := getattr(spec, name):
            out[name] = value
    for name in _PAIRS:
        if value := getattr(spec, name):
            out[name] = [list(pair) for pair in value]
    return out


def _parse_executor(data: Json | None) -> ExecutorSpec | None:
    if data is None:
        return None
    kpi = data.get("kpi") or {"name": "", "max_drop": None}
    drop = kpi["max_drop"]
    extra: dict[str, Any] = {name: data[name] for name in _TEXTS if name in data}
    extra |= {name: tuple((k, v) for k, v in data[name]) for name in _PAIRS if name in data}
    return ExecutorSpec(ExecutorKind(data["kind"]), data["url"], tuple(data["argv"]),
                        timedelta(seconds=data["delay"]), kpi=kpi["name"],
                        max_drop=None if drop is None else MaxDrop(drop[0], drop[1]), **extra)


def spec_to_json(spec: StageSpec) -> Json:
    approval = spec.approval
    return {
        "name": spec.name, "run": _executor(spec.run), "timeout": spec.timeout.total_seconds(),
        "approval": None if approval is None else {
            "required": approval.required, "approvers": list(approval.approvers),
            "allow_self": approval.allow_self, "expires": approval.expires.total_seconds(),
        },
        "waves": list(spec.waves),
        "targets": spec.targets if isinstance(spec.targets, int) else list(spec.targets),
        "health": _executor(spec.health), "bake": spec.bake.total_seconds(),
        "on_failure": spec.on_failure.value,
    }


def spec_from_json(data: Json) -> StageSpec:
    approval = data["approval"]
    run = _parse_executor(data["run"])
    assert run is not None
    return StageSpec(
        name=data["name"], run=run, timeout=timedelta(seconds=data["timeout"]),
        approval=None if approval is None else ApprovalSpec(
            approval["required"], tuple(approval["approvers"]), approval["allow_self"],
            timedelta(seconds=approval["expires"]),
        ),
        waves=tuple(data["waves"]),
        targets=data["targets"] if isinstance(data["targets"], int) else tuple(data["targets"]),
        health=_parse_executor(data["health"]), bake=timedelta(seconds=data["bake"]),
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
        undo=data.get("undo"),
    )
