"""The in-memory ``notify_preferences`` (who wants direct messages about their deployments) and
``freezes`` (ad hoc freeze windows)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.services.freeze_ports import StoredFreeze
from tests.fakes.tables import Ids, Tables


class MemoryNotifyPreferences:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def enabled(self, user_id: str) -> bool:
        row = self._tables.notify_prefs.get(user_id)
        return True if row is None else row[0]

    async def set(self, user_id: str, enabled: bool, now: datetime) -> None:
        self._tables.notify_prefs.put(user_id, (enabled, now))


class MemoryFreezeRepository:
    """Ad hoc freeze windows, as ``storage/freezes.py`` keeps them."""

    def __init__(self, tables: Tables, ids: Ids) -> None:
        self._tables, self._ids = tables, ids

    async def add(self, freeze: StoredFreeze) -> None:
        self._tables.freezes.put(self._ids.new("freezes"), freeze)

    async def current(self, scopes: list[str] | None, now: datetime) -> list[StoredFreeze]:
        rows = sorted(self._tables.freezes.rows.items(), key=lambda kv: (kv[1].starts_at, kv[0]))
        return [replace(f, id=i) for i, f in rows
                if (scopes is None or f.scope in scopes) and f.ends_at > now]

    async def ended(self, since: datetime, now: datetime) -> list[StoredFreeze]:
        rows = sorted(self._tables.freezes.rows.items(), key=lambda kv: (kv[1].ends_at, kv[0]))
        return [replace(f, id=i) for i, f in rows if since < f.ends_at <= now]

    async def end(self, scope: str, now: datetime) -> list[int]:
        ended = [(i, f) for i, f in self._tables.freezes.rows.items()
                 if f.scope == scope and f.starts_at <= now < f.ends_at]
        for i, f in ended:
            self._tables.freezes.put(i, replace(f, ends_at=now))
        return sorted(i for i, _f in ended)
