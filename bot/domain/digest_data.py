"""What a digest says, as plain data: filled by ``bot.services.digest_facts``, rendered by
``bot.render.digest_blocks`` (it is the card a digest posts). Strings are plain text (the renderer
escapes them); ids are Slack ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.dora import DoraReport
from bot.domain.freezes import FreezeWindow
from bot.domain.locks import DeployLock
from bot.domain.metrics import Target
from bot.domain.production import Production

MAX_LINES = 15  # per section: a digest is a summary, the rest is one command away

@dataclass(frozen=True)
class PhaseCount:
    phase: str
    count: int


@dataclass(frozen=True)
class PhaseMove:
    slug: str
    title: str
    from_phase: str
    to_phase: str
    actor_id: str
    at: datetime
    note: str


@dataclass(frozen=True)
class OverdueWork:
    slug: str
    title: str
    owner_id: str
    weeks_in_dev: float


@dataclass(frozen=True)
class WaitingApproval:
    deployment_id: int
    slug: str
    version: str
    stage: str
    waiting_since: datetime
    permalink: str | None
    approvals_missing: int


@dataclass(frozen=True)
class DeploymentLine:
    deployment_id: int
    slug: str
    version: str
    state: str
    requested_by: str
    duration: timedelta | None
    dry_run: bool


@dataclass(frozen=True)
class KpiMovement:
    slug: str
    name: str
    latest: float
    unit: str
    change: str                  # preformatted, like the sparkline
    sparkline: str
    target: Target | None        # the status against it is worded by the renderer


@dataclass(frozen=True)
class NeedsAttention:
    """Production left in a mix or unknown, or a lock a failed rollback left (either or both)."""

    slug: str
    production: Production | None
    lock: DeployLock | None


@dataclass(frozen=True)
class CrossedTarget:
    """A KPI that reached (``met``) or fell short of its target, at ``value``."""

    slug: str
    name: str
    met: bool
    value: float
    unit: str
    target: Target


@dataclass(frozen=True)
class DigestData:
    channel_id: str
    now: datetime
    since: datetime | None
    tz: str
    phases: list[PhaseCount]
    moves: list[PhaseMove]
    overdue: list[OverdueWork]
    approvals: list[WaitingApproval]
    deployments: list[DeploymentLine]
    kpis: list[KpiMovement]
    crossings: list[CrossedTarget]
    dora: DoraReport | None  # None: nothing reached production, not even a dry run
    # The lists above may be only the first lines of longer ones: how long each list really is
    # ("moves", "deployments", ...), and the deployments per state; a list not named is whole.
    totals: dict[str, int] = field(default_factory=dict)
    deployment_states: dict[str, int] | None = None
    freezes: list[FreezeWindow] = field(default_factory=list)  # open now, for the scope's use cases
    attention: list[NeedsAttention] = field(default_factory=list)
    production: list[tuple[str, Production]] = field(default_factory=list)  # newest deployed first
    workspace: bool = False  # the channel homes no use case: it covers the workspace's public ones

    def total(self, name: str) -> int:
        return self.totals.get(name, len(getattr(self, name)))

    def deployments_in(self, *states: str) -> int:
        if self.deployment_states is None:
            return sum(d.state in states for d in self.deployments)
        return sum(self.deployment_states.get(s, 0) for s in states)
