"""What the App Home tab shows a viewer, as facts (bot/render/home_blocks.py lays it out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.deployment_model import Deployment
from bot.domain.freezes import FreezeWindow
from bot.domain.locks import DeployLock
from bot.domain.production import Production
from bot.domain.usecases import UseCase


@dataclass(frozen=True)
class GateWaiting:
    """A gate the viewer may decide now, with the tokens of its two buttons."""

    deployment_id: int | None
    use_case: str
    version: str
    stage: str
    requested_by: str
    waiting: timedelta     # since the gate opened
    missing: int           # approvals still needed
    approve_token: str
    reject_token: str


@dataclass(frozen=True)
class HomeFacts:
    viewer: str
    use_cases: tuple[UseCase, ...]              # theirs
    now: datetime
    timebox: timedelta                          # Dev's, after which a use case is overdue
    approvals: tuple[GateWaiting, ...]
    running: tuple[Deployment, ...]             # running now, of use cases they may see
    announcements: tuple[tuple[str, str], ...]  # (channel, text as posted), newest first
    frozen: tuple[FreezeWindow, ...]            # open now for their use cases
    production: Mapping[str, Production]        # what runs, by use case
    locks: Mapping[str, DeployLock]
    attention: tuple[str, ...]                  # their use cases someone must look at
    tz: str
