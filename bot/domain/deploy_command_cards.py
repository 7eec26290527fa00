"""What the `/deploy` commands tell a use case's channel, as facts (bot/render/deploy_replies.py
words them): a deployment started despite a freeze, deployments locked or unlocked."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.freeze_passage import Passage


@dataclass(frozen=True)
class StartedDespiteFreeze:
    actor: str
    deployment_id: int
    slug: str
    version: str
    passage: Passage  # the admin's reason and the windows it passes
    tz: str


@dataclass(frozen=True)
class LockAnnounced:
    actor: str
    slug: str
    reason: str  # as typed ("": none given)


@dataclass(frozen=True)
class UnlockAnnounced:
    actor: str
    slug: str
