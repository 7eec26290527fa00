"""What freeze windows need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ALL = "*"  # the scope of a freeze of every use case


@dataclass(frozen=True)
class StoredFreeze:
    scope: str            # a use case's slug, or ALL
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    id: int = 0


class FreezeRepository(Protocol):
    async def add(self, freeze: StoredFreeze) -> None: ...

    async def current(self, scopes: list[str] | None, now: datetime) -> list[StoredFreeze]:
        """The windows of these scopes (None: all) that are not over at ``now``, earliest first."""
        ...

    async def ended(self, since: datetime, now: datetime) -> list[StoredFreeze]:
        """The windows (lifted early or not) that ended in ``(since, now]``."""
        ...

    async def end(self, scope: str, now: datetime) -> list[int]:
        """Unfreeze: the scope's open windows end now; their ids."""
        ...
