"""What the channels hear of freezes, as facts (cards); bot/render/freeze_blocks.py words them.

``tz`` is the time zone the times are told in. Posted through the outbox port
(bot/services/outbox_port.py) by bot/services/freezes.py and bot/services/freeze_notices.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.freezes import FreezeWindow


@dataclass(frozen=True)
class FreezeSet:
    """`/deploy freeze`: ``actor`` froze deployments of ``slug`` (None: all use cases)."""

    actor: str
    slug: str | None
    duration: timedelta
    until: datetime
    reason: str
    tz: str


@dataclass(frozen=True)
class FreezeLifted:
    """`/deploy unfreeze`: ``actor`` lifted the ad hoc freeze; ``still``: the windows left open."""

    actor: str
    slug: str | None
    still: tuple[FreezeWindow, ...]
    tz: str


@dataclass(frozen=True)
class FreezeBegun:
    """A window began: deployments of ``slugs`` (those homed in the channel) are refused."""

    window: FreezeWindow
    slugs: tuple[str, ...]
    tz: str


@dataclass(frozen=True)
class FreezeOver:
    """A window ended: each use case homed in the channel, with the windows that keep it frozen
    from then on (empty: it may deploy again)."""

    window: FreezeWindow
    chains: tuple[tuple[str, tuple[FreezeWindow, ...]], ...]
    tz: str
