"""The audit trail as an export reads it: one row per deployment event, with the use case and
the deployment it belongs to (SPEC "Audit export": at, actor, use_case, deployment_id, action,
detail). The detail is kept as stored (facts or an older version's words); bot/render words it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None    # events after this moment
    until: datetime | None = None    # up to and including this moment
    use_case: str | None = None      # one use case's slug


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str | None            # a Slack user ID; None: the bot itself
    use_case: str
    deployment_id: int
    action: str                  # the event's kind: requested, approved, failed, …
    stage: str | None
    wave: int | None
    detail: str                  # as stored
    version: str                 # the deployment's, for the words of requested/succeeded
    pipeline: str
    dry_run: bool
    rollback: bool

    @property
    def key(self) -> tuple[datetime, int]:
        """Where a page ends: the next starts after it."""
        return self.at, self.id
