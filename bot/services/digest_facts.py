"""What a digest reports, from what storage returned: pure functions of rows and ``now``.

``DigestService.collect`` gathers the rows, narrowed and cut in SQL, in a fixed number of
statements; these turn them into the facts of ``bot.domain.digest_data``, the digest's card.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain import digest_data as data
from bot.domain import dora as dora_maths
from bot.domain import metrics as kpi
from bot.domain.deployment_model import Deployment, DeploymentState, StageState
from bot.domain.dora import DoraCounts, DoraReport
from bot.domain.durations import weeks
from bot.domain.usecases import Phase
from bot.services.ports import CrossingRow, StoredTarget
from bot.services.read_ports import DeploymentSummary, OverdueRow, PhaseMoveRow, SeriesTail


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


def phase_counts(counts: dict[str, int]) -> list[data.PhaseCount]:
    return [data.PhaseCount(p.value, counts[p.value]) for p in Phase if counts.get(p.value)]


def move(row: PhaseMoveRow) -> data.PhaseMove:
    c = row.change
    return data.PhaseMove(row.slug, row.title, c.from_phase.value if c.from_phase else "",
                          c.to_phase.value, c.actor_id, c.at, c.note)


def overdue(row: OverdueRow, now: datetime) -> data.OverdueWork:
    return data.OverdueWork(row.slug, row.title, row.owner_id, weeks(now - row.phase_since))


def _gate_since(d: Deployment) -> datetime | None:
    stage = d.current_stage
    return stage.gate_opened_at if stage and stage.state is StageState.AWAITING_APPROVAL else None


def deployment_line(d: DeploymentSummary) -> data.DeploymentLine:
    took = d.finished_at - d.requested_at if d.finished_at else None
    return data.DeploymentLine(d.id, d.slug, d.version, d.state, d.requested_by, took, d.dry_run)


def kpi_movement(tail: SeriesTail, target: StoredTarget | None, now: datetime) -> data.KpiMovement:
    """A KPI that moved since the last digest, against its value back then."""
    unit = next((p.unit for p in reversed(tail.newest) if p.unit), "")
    latest = tail.newest[-1].value
    change = (kpi.format_delta(kpi.delta(latest, tail.before.value), unit) if tail.before
              else "new")
    recent = [p.value for p in tail.newest if p.at > now - timedelta(days=30)]
    return data.KpiMovement(
        tail.slug,
        tail.name,
        latest,
        unit,
        change,
        kpi.sparkline(recent),
        kpi.Target(target.op, target.value) if target else None,
    )


def crossed(c: CrossingRow) -> data.CrossedTarget:
    return data.CrossedTarget(c.slug, c.name, c.met, c.value, c.unit, kpi.Target(c.op, c.target))


def dora_summary(counts: DoraCounts, now: datetime, days: int) -> DoraReport | None:
    """The digest's DORA line; with only dry runs, that there is nothing to measure yet; None
    when nothing reached production at all."""
    report = dora_maths.report(counts, since=now - timedelta(days=days), until=now, days=days,
                               use_case=None)
    return report if report.deployments or report.dry_runs else None


def dora_days(since: datetime, now: datetime) -> int:
    """The digest's DORA window: its period in days, from 1 to 30."""
    return max(1, min(30, round((now - since).total_seconds() / 86400)))
