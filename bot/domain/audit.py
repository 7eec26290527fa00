"""The audit trail as an export reads it: one row per audit event — a use case's phase change or
a deployment's event — with the use case and the deployment it belongs to (SPEC "Audit export":
at, actor, use_case, deployment_id, action, detail). The detail is kept as stored (facts or an
older version's words); bot/render words it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None    # events after this moment
    until: datetime | None = None    # up to and including this moment
    use_case: str | None = None      # one use case's slug
    # Whose eyes: None, everything; else public use cases and those homed in these private
    # channels (the ones a signed-in person is in; none for an audit:read token).
    channels: frozenset[str] | None = None


PHASE_CHANGED = "phase_changed"  # a phase change's action; deployment events keep their kind


@dataclass(frozen=True)
class AuditEvent:
    id: int                      # within its source: a phase change's or a deployment event's
    at: datetime
    actor: str | None            # a Slack user ID; None: the bot itself
    use_case: str
    deployment_id: int | None    # None: a phase change
    action: str                  # PHASE_CHANGED, or the event's kind: requested, approved, …
    stage: str | None
    wave: int | None
    detail: str                  # as stored
    version: str = ""            # the deployment's, for the words of requested/succeeded
    pipeline: str = ""
    dry_run: bool = False
    rollback: bool = False
    moved: tuple[str | None, str] | None = None  # a phase change: from (None: created), to

    @property
    def key(self) -> tuple[datetime, int, int]:
        """Where a page ends: the next starts after it (phase changes first at the same moment)."""
        return self.at, 0 if self.deployment_id is None else 1, self.id
