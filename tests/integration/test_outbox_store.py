"""OutboxStore (the delivering side) against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Update

from bot.clock import ManualClock
from bot.services.ports import OutboxItem, OutgoingMessage
from storage.database import Database
from storage.outbox import OutboxStore

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
LEASE = timedelta(minutes=1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(START))
    yield database
    await database.dispose()


@pytest.fixture
async def second_process(database_url: str) -> AsyncIterator[Database]:
    """Another Database on the same URL: its own engine and pool, like another process."""
    database = Database(database_url, ManualClock(START))
    yield database
    await database.dispose()


# ── helpers ────────────────────────────────────────────────────────────────────────────────


async def enqueue(db: Database, *messages: tuple[str, str]) -> None:
    """Write ``(channel, text)`` messages in one committed unit of work, in this order."""
    async with db.uow() as uow:
        for channel, text in messages:
            uow.outbox.add(
                OutgoingMessage("chat.postMessage", channel, {"channel": channel, "text": text})
            )
        await uow.commit()


def texts(items: list[OutboxItem]) -> list[str]:
    return [item.args["text"] for item in items]


def by_text(items: list[OutboxItem]) -> dict[str, OutboxItem]:
    return {item.args["text"]: item for item in items}


async def claim(store: OutboxStore, now: datetime = START, limit: int = 50) -> list[OutboxItem]:
    return await store.claim(now, lease=LEASE, limit=limit)


# ── claiming and leases ────────────────────────────────────────────────────────────────────


async def test_claim_returns_due_messages_in_id_order(db: Database) -> None:
    await enqueue(db, ("C1", "first"), ("C2", "second"), ("C3", "third"))
    db.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    await enqueue(db, ("C4", "not due yet"))

    items = await claim(db.outbox)

    assert texts(items) == ["first", "second", "third"]
    assert [i.id for i in items] == sorted(i.id for i in items)
    assert all(i.attempts == 1 for i in items)
    first = items[0]
    assert (first.method, first.channel, first.args) == (
        "chat.postMessage", "C1", {"channel": "C1", "text": "first"},
    )
    assert first.created_at == START
    assert first.created_at.utcoffset() == timedelta(0)


async def test_claim_respects_the_limit(db: Database) -> None:
    await enqueue(db, *[(f"C{n}", f"m{n}") for n in range(5)])

    assert texts(await claim(db.outbox, limit=2)) == ["m0", "m1"]
    assert texts(await claim(db.outbox, limit=2)) == ["m2", "m3"]
    assert texts(await claim(db.outbox, limit=2)) == ["m4"]
    assert await claim(db.outbox) == []


async def test_a_claimed_message_is_leased_until_the_lease_expires(db: Database) -> None:
    await enqueue(db, ("C1", "first"), ("C2", "second"))
    claimed = await claim(db.outbox)

    assert await claim(db.outbox, START + LEASE / 2) == []
    assert await claim(db.outbox, START + LEASE) == []  # the lease runs up to and including its end

    again = await claim(db.outbox, START + LEASE + timedelta(seconds=1))
    assert [i.id for i in again] == [i.id for i in claimed]
    assert [i.attempts for i in again] == [2, 2]


async def test_a_lease_taken_by_another_process_is_respected(
    db: Database, second_process: Database
) -> None:
    await enqueue(db, ("C1", "first"))
    [item] = await claim(db.outbox)

    assert await claim(second_process.outbox, START + LEASE / 2) == []
    [taken_over] = await claim(second_process.outbox, START + 2 * LEASE)
    assert (taken_over.id, taken_over.attempts) == (item.id, 2)


async def test_sent_and_dead_messages_are_never_claimed_again(db: Database) -> None:
    await enqueue(db, ("C1", "sent"), ("C2", "dead"))
    items = by_text(await claim(db.outbox))
    await db.outbox.mark_sent(items["sent"].id, START, "1700000000.000100")
    await db.outbox.give_up(items["dead"].id, "slack error: channel_not_found")

    assert await claim(db.outbox, START + timedelta(days=1)) == []
    assert await db.outbox.backlog() == 0


# ── per-channel order ──────────────────────────────────────────────────────────────────────


async def test_only_the_oldest_pending_message_of_a_channel_is_claimable(db: Database) -> None:
    await enqueue(db, ("A", "A1"), ("A", "A2"), ("B", "B1"))

    first = by_text(await claim(db.outbox))
    assert list(first) == ["A1", "B1"]
    assert await claim(db.outbox) == []  # A2 waits for A1 even though it is due

    await db.outbox.mark_sent(first["A1"].id, START, "1.1")
    assert texts(await claim(db.outbox)) == ["A2"]


async def test_a_retried_message_keeps_the_channel_blocked(db: Database) -> None:
    await enqueue(db, ("A", "A1"), ("A", "A2"), ("B", "B1"))
    first = by_text(await claim(db.outbox))
    retry_at = START + timedelta(minutes=5)
    await db.outbox.retry_later(first["A1"].id, retry_at, "HTTP 503")
    await db.outbox.mark_sent(first["B1"].id, START, "1.1")

    assert await claim(db.outbox, START + timedelta(minutes=4)) == []  # A1 not due, A2 behind it

    [a1] = await claim(db.outbox, retry_at)
    assert (a1.args["text"], a1.attempts) == ("A1", 2)
    assert await claim(db.outbox, retry_at) == []  # still only A1 in flight

    await db.outbox.mark_sent(a1.id, retry_at, "1.2")
    assert texts(await claim(db.outbox, retry_at)) == ["A2"]


async def test_giving_up_marks_the_message_dead_and_unblocks_its_channel(db: Database) -> None:
    await enqueue(db, ("A", "A1"), ("A", "A2"))
    [a1] = await claim(db.outbox)

    await db.outbox.give_up(a1.id, "slack error: channel_not_found")

    assert texts(await claim(db.outbox)) == ["A2"]
    assert await db.outbox.backlog() == 1
    assert "A1" not in texts(await claim(db.outbox, START + timedelta(days=1)))


# ── backlog and next_due ───────────────────────────────────────────────────────────────────


async def test_backlog_counts_pending_messages_whether_leased_or_waiting(db: Database) -> None:
    assert await db.outbox.backlog() == 0
    await enqueue(db, ("A", "A1"), ("A", "A2"), ("B", "B1"), ("C", "C1"))
    assert await db.outbox.backlog() == 4

    items = by_text(await claim(db.outbox))
    assert await db.outbox.backlog() == 4  # leased is still pending
    await db.outbox.retry_later(items["A1"].id, START + timedelta(minutes=1), "HTTP 500")
    await db.outbox.mark_sent(items["B1"].id, START, "1.1")
    await db.outbox.give_up(items["C1"].id, "slack error: not_in_channel")
    assert await db.outbox.backlog() == 2  # A1 (retrying) and A2


async def test_next_due_is_the_earliest_pending_attempt(db: Database) -> None:
    assert await db.outbox.next_due() is None

    await enqueue(db, ("A", "early"))
    db.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    await enqueue(db, ("B", "later"))
    due = await db.outbox.next_due()
    assert due == START
    assert due is not None and due.utcoffset() == timedelta(0)

    items = by_text(await claim(db.outbox, START + timedelta(minutes=10)))
    await db.outbox.retry_later(items["early"].id, START + timedelta(minutes=30), "HTTP 502")
    assert await db.outbox.next_due() == START + timedelta(minutes=10)

    await db.outbox.mark_sent(items["later"].id, START, "1.1")
    assert await db.outbox.next_due() == START + timedelta(minutes=30)

    await db.outbox.give_up(items["early"].id, "too many tries")
    assert await db.outbox.next_due() is None


# ── several processes ──────────────────────────────────────────────────────────────────────


async def test_two_processes_claiming_concurrently_never_share_a_message(
    db: Database, second_process: Database
) -> None:
    """Runs on both backends: SQLite serialises the writes, PostgreSQL uses SKIP LOCKED."""
    await enqueue(db, *[(f"C{n % 20:02d}", f"m{n:03d}") for n in range(200)])
    stores = [db.outbox, second_process.outbox]
    received: list[list[OutboxItem]] = [[], []]

    async def deliver(store: OutboxStore, batch: list[OutboxItem]) -> None:
        for item in batch:
            await store.mark_sent(item.id, START, None)

    for _round in range(200):
        batches = await asyncio.gather(*(claim(store, limit=7) for store in stores))
        if not any(batches):
            break
        in_flight = [item.channel for batch in batches for item in batch]
        assert len(in_flight) == len(set(in_flight)), "two messages of one channel at once"
        for seen, batch in zip(received, batches, strict=True):
            seen.extend(batch)
        await asyncio.gather(*(deliver(s, b) for s, b in zip(stores, batches, strict=True)))
    else:
        pytest.fail("the outbox never drained")

    ids = [[item.id for item in seen] for seen in received]
    all_ids = ids[0] + ids[1]
    assert len(all_ids) == len(set(all_ids)) == 200
    assert set(ids[0]).isdisjoint(ids[1])
    assert all(item.attempts == 1 for seen in received for item in seen)
    assert await db.outbox.backlog() == 0
    per_channel: dict[str, list[str]] = {}
    for item in sorted(received[0] + received[1], key=lambda i: i.id):
        per_channel.setdefault(item.channel, []).append(item.args["text"])
    assert all(len(sent) == 10 for sent in per_channel.values())


def pausing_before_update(
    hook: Callable[[], Awaitable[None]],
) -> type[AsyncSession]:
    """A session class that runs ``hook`` once, right before its first UPDATE statement."""

    class PausingSession(AsyncSession):
        paused = False

        async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(statement, Update) and not PausingSession.paused:
                PausingSession.paused = True
                await hook()
            return await super().execute(statement, *args, **kwargs)

    return PausingSession


async def test_a_claim_racing_a_delivery_does_not_take_the_delivered_message(
    db: Database, second_process: Database
) -> None:
    """Process B has picked its candidates; before B leases them, process A claims the same
    message, delivers it and marks it sent. B must not lease (and deliver) it a second time."""
    await enqueue(db, ("A", "A1"))
    delivered_by_a: list[int] = []

    async def a_claims_and_delivers() -> None:
        for item in await claim(db.outbox):
            await db.outbox.mark_sent(item.id, START, "1.1")
            delivered_by_a.append(item.id)

    store_b = OutboxStore(async_sessionmaker(
        second_process.engine, class_=pausing_before_update(a_claims_and_delivers),
        expire_on_commit=False,
    ))
    claimed_by_b = [item.id for item in await claim(store_b)]

    deliveries = delivered_by_a + claimed_by_b
    assert len(deliveries) == 1, f"A delivered {delivered_by_a}, then B claimed {claimed_by_b}"
