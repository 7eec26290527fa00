"""The in-memory ``notify_preferences``: who wants direct messages about their deployments."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.tables import Tables


class MemoryNotifyPreferences:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def enabled(self, user_id: str) -> bool:
        row = self._tables.notify_prefs.get(user_id)
        return True if row is None else row[0]

    async def set(self, user_id: str, enabled: bool, now: datetime) -> None:
        self._tables.notify_prefs.put(user_id, (enabled, now))
