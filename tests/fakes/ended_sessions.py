"""The in-memory ``ended_sessions``: dashboard sessions signed out before their time."""

from __future__ import annotations

from datetime import datetime


class MemoryEndedSessions:
    def __init__(self) -> None:
        self.rows: dict[str, datetime] = {}

    async def end(self, session_id: str, expires_at: datetime, now: datetime) -> None:
        self.rows = {k: at for k, at in self.rows.items() if at >= now}
        self.rows.setdefault(session_id, expires_at)

    async def ended(self, session_id: str) -> bool:
        return session_id in self.rows
