"""What a digest reports, from what storage returned: pure functions of rows and ``now``.

``DigestService.collect`` gathers the rows in a fixed number of statements; these turn them into
the facts ``bot.digest_blocks`` renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import digest_data as data
from bot.domain import dora as dora_maths
from bot.domain import metrics as kpi
from bot.domain.deployment_model import Deployment, DeploymentState, StageState
from bot.domain.dora import DoraRecord
from bot.domain.usecases import Phase, UseCase
from bot.metric_blocks import dora_line
from bot.services.ports import StoredPoint, StoredTarget


def approvals_waiting(deployments: Sequence[Deployment], now: datetime) -> list[data.WaitingApproval]:
    waiting = sorted(
        (d for d in deployments if d.state is DeploymentState.AWAITING_APPROVAL),
        key=lambda d: _gate_since(d) or now,
    )
    out = []
    for d in waiting:
        stage = d.current_stage
        assert stage is not None and d.id is not None
        out.append(data.WaitingApproval(d.id, d.use_case, d.version, stage.name,
                                          _gate_since(d) or now, None, stage.approvals_missing))
    return out


def phase_counts(scope: Sequence[UseCase]) -> list[data.PhaseCount]:
    return [
        data.PhaseCount(p.value, sum(1 for uc in scope if uc.phase is p))
        for p in Phase
        if any(uc.phase is p for uc in scope)
    ]


def _gate_since(d: Deployment) -> datetime | None:
    stage = d.current_stage
    return stage.gate_opened_at if stage and stage.state is StageState.AWAITING_APPROVAL else None


def deployment_line(d: Deployment) -> data.DeploymentLine:
    took = d.finished_at - d.requested_at if d.finished_at else None
    assert d.id is not None
    return data.DeploymentLine(d.id, d.use_case, d.version, d.state.value, d.requested_by, took, d.dry_run)


def kpi_movements(
    series: dict[str, dict[str, list[StoredPoint]]],
    targets: dict[str, dict[str, StoredTarget]],
    since: datetime,
    now: datetime,
) -> list[data.KpiMovement]:
    """KPIs with a new value since the last digest, each against its value back then."""
    out = []
    for slug in sorted(series):
        for name, stored in sorted(series[slug].items()):
            if any(p.at > since for p in stored):
                t = targets.get(slug, {}).get(name)
                out.append(
                    _movement(slug, name, stored, kpi.Target(t.op, t.value) if t else None, since, now)
                )
    return out


def _movement(
    slug: str, name: str, stored: list[StoredPoint], target: kpi.Target | None, since: datetime, now: datetime
) -> data.KpiMovement:
    unit = next((p.unit for p in reversed(stored) if p.unit), "")
    points = [kpi.Point(p.at, p.value) for p in stored]
    latest = points[-1].value
    before = [p for p in points if p.at <= since]
    change = kpi.format_delta(kpi.delta(latest, before[-1].value), unit) if before else "new"
    recent = [p.value for p in points if p.at > now - timedelta(days=30)]
    return data.KpiMovement(
        slug,
        name,
        kpi.with_unit(kpi.format_number(latest), unit),
        change,
        kpi.sparkline(recent),
        kpi.target_status(target, latest, unit) if target else "",
    )


def target_crossings(
    series: dict[str, dict[str, list[StoredPoint]]],
    targets: dict[str, dict[str, StoredTarget]],
    since: datetime,
) -> list[str]:
    """Each flip of a target's state after ``since``, replayed from the values."""
    out = []
    for slug in sorted(targets):
        for name, t in sorted(targets[slug].items()):
            target, state = kpi.Target(t.op, t.value), None
            for p in series.get(slug, {}).get(name, []):
                state, flipped = kpi.crossing(state, target, p.value)
                if flipped and p.at > since:
                    verb = "reached" if state == "met" else "fell short of"
                    out.append(
                        f"{slug} · {name} {verb} its target {target.describe()} "
                        f"({kpi.with_unit(kpi.format_number(p.value), p.unit)})"
                    )
    return out


def dora_summary(records: Sequence[DoraRecord], now: datetime, since: datetime) -> data.DoraLine | None:
    days = max(1, min(30, round((now - since).total_seconds() / 86400)))
    report = dora_maths.dora(records, now=now, days=days)
    return data.DoraLine(dora_line(report)) if report.deployments else None
