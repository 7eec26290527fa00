"""A lock on a use case's deployments: by a person (`/deploy lock`), or by the bot when a
rollback failed and production must be looked at before anything else deploys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DeployLock:
    use_case: str
    locked_by: str                    # "" when the bot locked it
    locked_at: datetime
    reason: str                       # a person's words; the bot's: the rollback's detail (mrkdwn)
    deployment_id: int | None = None  # the rollback whose failure locked it

    @property
    def after_failed_rollback(self) -> bool:
        return self.deployment_id is not None
