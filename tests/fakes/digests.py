"""Digest schedules, runs, run-once claims and the outbox's writing side in memory, as
``storage/digests.py`` and ``storage/outbox.py`` keep them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from bot.services.outbox_port import CardOutbox, CardWords
from bot.services.ports import DigestSchedule, OutgoingMessage
from tests.fakes.tables import Ids, OutboxRow, Table, Tables

K = TypeVar("K")
KEY_LENGTH = 120  # the claims' key column: longer keys are cut, as storage cuts them


class MemoryDigestRepository:
    def __init__(self, tables: Tables) -> None:
        self._schedules = tables.schedules
        self._runs = tables.digest_runs

    async def schedule(self, channel_id: str) -> DigestSchedule | None:
        return self._schedules.get(channel_id)

    async def schedules(self) -> list[DigestSchedule]:
        return [self._schedules.rows[c] for c in sorted(self._schedules.rows)]

    async def set_schedule(self, s: DigestSchedule) -> None:
        self._schedules.put(s.channel_id, s)

    async def remove_schedule(self, channel_id: str) -> bool:
        found = channel_id in self._schedules
        self._schedules.delete(channel_id)
        return found

    async def claim_run(self, channel_id: str, fire_time: datetime, now: datetime) -> bool:
        return _insert_once(self._runs, (channel_id, fire_time), now)

    async def has_run(self, channel_id: str, fire_time: datetime) -> bool:
        return (channel_id, fire_time) in self._runs

    async def last_run(self, channel_id: str) -> datetime | None:
        return max((posted for (channel, _fire), posted in self._runs.rows.items()
                    if channel == channel_id), default=None)


class MemoryClaimRepository:
    def __init__(self, tables: Tables) -> None:
        self._claims = tables.reminders

    async def claim(self, kind: str, key: str, now: datetime) -> bool:
        return _insert_once(self._claims, (kind, key[:KEY_LENGTH]), now)

    async def claimed(self, kind: str, keys: list[str]) -> set[str]:
        return {k[:KEY_LENGTH] for k in keys if (kind, k[:KEY_LENGTH]) in self._claims}


def _insert_once(table: Table[K, datetime], key: K, at: datetime) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True for the one writer whose row went in."""
    if key in table:
        return False
    table.put(key, at)
    return True


class MemoryOutbox(CardOutbox):
    """The writing side of the outbox; ``added`` tells the commit to announce MessageQueued."""

    def __init__(self, tables: Tables, ids: Ids, words: CardWords | None) -> None:
        super().__init__(words)
        self._rows = tables.outbox
        self._ids = ids
        self.added = 0

    def add(self, message: OutgoingMessage) -> None:
        self.added += 1
        self._rows.put(self._ids.new("outbox"), OutboxRow(message))

    async def supersede_updates(self, ref: str) -> None:
        """Drop queued edits of a message that a newer edit replaces (nothing is in flight here:
        the in-memory outbox is never claimed)."""
        for row_id, row in list(self._rows.rows.items()):
            if row.message.update_of == ref and row.status == "pending":
                self._rows.put(row_id, replace(row, status="superseded"))
