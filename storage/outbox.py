"""The persisted outbox: messages are written with the state change, claimed and delivered later.

Claiming uses a lease (owner token + expiry) set by a guarded UPDATE, so it works the same on
SQLite and PostgreSQL and several processes never deliver one message twice; on PostgreSQL the
candidate rows are also read ``FOR UPDATE SKIP LOCKED`` so claimers don't queue behind each other.
A message is only claimable when no earlier pending message waits for the same channel, which
keeps each channel's messages in order even when one of them is being retried.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.outbox_port import CardOutbox, CardWords
from bot.services.ports import OutboxItem, OutgoingMessage
from storage.models import OutboxRow

PENDING, SENT, DEAD, SUPERSEDED = "pending", "sent", "dead", "superseded"


class SqlOutbox(CardOutbox):
    """The writing side, used inside a unit of work."""

    def __init__(self, session: AsyncSession, now: datetime, words: CardWords | None) -> None:
        super().__init__(words)
        self._session = session
        self._now = now
        self.added = 0

    def add(self, message: OutgoingMessage) -> None:
        self.added += 1
        self._session.add(
            OutboxRow(
                created_at=self._now, method=message.method, channel=message.channel,
                args=message.args, status=PENDING, attempts=0, next_attempt_at=self._now,
                ref=message.ref, update_of=message.update_of, thread_of=message.thread_of,
                link_of=message.link_of,
            )
        )

    async def supersede_updates(self, ref: str) -> None:
        """Drop queued edits of a message that a newer edit replaces (not those in flight)."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.update_of == ref, OutboxRow.status == PENDING,
                   OutboxRow.lease_until.is_(None))
            .values(status=SUPERSEDED)
        )


# Only the oldest pending message of a channel may go (order within a channel). The "anything
# earlier?" probe is one step down ix_outbox_channel_pending per candidate; a GROUP BY of the
# heads instead let PostgreSQL, on fresh statistics, re-run it per row. Built once: every
# claim uses it. In Core terms: an ORM alias would configure every mapper at import (~80 ms of
# start-up), before anything reads.
_outbox = OutboxRow.__table__
_earlier = _outbox.alias("earlier")
_EARLIER_PENDING = (
    select(_earlier.c.id)
    .where(_earlier.c.status == PENDING, _earlier.c.channel == _outbox.c.channel,
           _earlier.c.id < _outbox.c.id)
    .exists()
)


class OutboxStore:
    """The delivering side, used by the worker; each call is its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.owner = uuid.uuid4().hex

    @staticmethod
    def _claimable(now: datetime):  # type: ignore[no-untyped-def]
        return and_(
            OutboxRow.status == PENDING,
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
            ~_EARLIER_PENDING,
        )

    async def claim(self, now: datetime, *, lease: timedelta, limit: int = 50,
                    exclude_channels: set[str] | frozenset[str] = frozenset()) -> list[OutboxItem]:
        async with self._sessions.begin() as session:
            candidates = select(OutboxRow.id).where(self._claimable(now))
            if exclude_channels:  # channels at Slack's pace wait, in order, for the next pass
                candidates = candidates.where(OutboxRow.channel.not_in(exclude_channels))
            ids = list(
                await session.scalars(
                    candidates.order_by(OutboxRow.id)
                    .limit(limit).with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            token = f"{self.owner}:{uuid.uuid4().hex[:8]}"
            await session.execute(
                update(OutboxRow)
                # The full condition again: on SQLite nothing locked the rows we just read.
                .where(OutboxRow.id.in_(ids), self._claimable(now))
                .values(lease_owner=token, lease_until=now + lease,
                        attempts=OutboxRow.attempts + 1)
            )
            rows = await session.scalars(
                select(OutboxRow).where(OutboxRow.lease_owner == token).order_by(OutboxRow.id)
            )
            return [
                OutboxItem(r.id, r.method, r.channel, dict(r.args), r.attempts, r.created_at,
                           r.update_of, r.thread_of, r.last_error, r.link_of)
                for r in rows
            ]

    async def posted_ts(self, ref: str) -> tuple[str | None, str, str | None]:
        """The ``ts`` of the message posted under ``ref``, that post's status, and its channel."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(OutboxRow.result_ts, OutboxRow.status, OutboxRow.channel)
                .where(OutboxRow.ref == ref, OutboxRow.method == "chat.postMessage")
                .order_by(OutboxRow.id).limit(1)
            )).first()
            return (row[0], row[1], row[2]) if row else (None, "missing", None)

    async def mark_sent(self, item_id: int, now: datetime, ts: str | None) -> None:
        await self._finish(item_id, status=SENT, sent_at=now, result_ts=ts, lease_until=None)

    async def retry_later(self, item_id: int, at: datetime, error: str) -> None:
        await self._finish(item_id, next_attempt_at=at, last_error=error, lease_until=None)

    async def release(self, item_ids: list[int]) -> None:
        """Hand claimed messages back unsent (shutdown): the attempt does not count."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(item_ids), OutboxRow.status == PENDING)
                .values(lease_until=None, lease_owner=None, attempts=OutboxRow.attempts - 1))

    async def give_up(self, item_id: int, error: str) -> None:
        await self._finish(item_id, status=DEAD, last_error=error, lease_until=None)

    async def _finish(self, item_id: int, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))

    async def backlog(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.status == PENDING)
            )
            return int(count or 0)

    async def next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == PENDING)
            )

    async def recent_posts(self, *, limit: int = 5) -> list[tuple[str, str]]:
        """(channel, fallback text) of the latest top-level messages Slack accepted in channels:
        never a direct message (to a user ``U…``/``W…`` or a DM ``D…``), which is one person's."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxRow.channel, OutboxRow.args)
                .where(OutboxRow.status == SENT, OutboxRow.method == "chat.postMessage",
                       OutboxRow.thread_of.is_(None), OutboxRow.ref.is_(None),
                       or_(OutboxRow.channel.startswith("C"), OutboxRow.channel.startswith("G")))
                .order_by(OutboxRow.id.desc()).limit(limit)
            )
            return [(channel, str(args.get("text", ""))) for channel, args in rows]
