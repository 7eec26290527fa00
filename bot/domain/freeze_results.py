"""What the freeze commands did, as facts; bot/render/freeze_blocks.py says them.

The service (bot/services/freezes.py) returns one of these, never words: the handler that ran
the command names the renderer (handlers/slash_commands.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.freezes import FreezeWindow, RecurringFreeze


@dataclass(frozen=True)
class Frozen:
    """`/deploy freeze`: an ad hoc window made, and announced in ``channels``."""

    slug: str | None           # None: all use cases
    until: datetime
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Unfrozen:
    """`/deploy unfreeze`: the ad hoc freeze lifted; ``still``: the windows that keep the use
    case frozen (for all use cases: every window still open)."""

    slug: str | None
    still: tuple[FreezeWindow, ...]


@dataclass(frozen=True)
class FreezeListing:
    """`/deploy freezes`: the windows open now or starting within ``days``, and the frequent
    freezes listed only in part (each with how far)."""

    slug: str | None
    days: int
    now: datetime
    windows: tuple[FreezeWindow, ...]
    partial: tuple[tuple[RecurringFreeze, datetime], ...]
