"""SqlDigestRepository against real databases: schedules, run claims, reminders, last run.

The claims are what make a scheduled digest (and a reminder) go out once when several bot
processes share one database, so the concurrent cases use two independent ``Database`` objects
(two engines, two connection pools) — on PostgreSQL that is the real thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.services.ports import DigestSchedule
from storage.database import Database
from storage.models import DigestRunRow, DigestScheduleRow, ReminderRow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPS, GENERAL = "COPS", "CGENERAL"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(NOW))
    yield database
    await database.dispose()


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[Database]:
    """A second process on the same database."""
    database = Database(database_url, ManualClock(NOW))
    yield database
    await database.dispose()


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def claim(db: Database, channel: str, fire_time: datetime, now: datetime = NOW,
                *, hold: float = 0.0) -> bool:
    """Claim a run in its own unit of work and commit; ``hold`` keeps the transaction open a while
    (the claimer is still rendering and posting) so the other claim meets it in flight."""
    async with db.uow() as uow:
        won = await uow.digests.claim_run(channel, fire_time, now)
        if hold:
            await asyncio.sleep(hold)
        await uow.commit()
        return won


async def remind(db: Database, kind: str, key: str, *, hold: float = 0.0) -> bool:
    async with db.uow() as uow:
        won = await uow.claims.claim(kind, key, NOW)
        if hold:
            await asyncio.sleep(hold)
        await uow.commit()
        return won


# ── schedules ──────────────────────────────────────────────────────────────────────────────


async def test_a_schedule_is_set_read_back_replaced_and_removed(db: Database) -> None:
    async with db.uow() as uow:
        assert await uow.digests.schedule(OPS) is None
        assert await uow.digests.schedules() == []
        await uow.digests.set_schedule(DigestSchedule(OPS, "0 9 * * mon-fri", "Europe/Berlin", "UALICE", NOW))
        await uow.digests.set_schedule(DigestSchedule(GENERAL, "30 8 * * mon", "UTC", "UBOB", NOW))
        await uow.commit()

    async with db.uow() as uow:
        assert await uow.digests.schedule(OPS) == DigestSchedule(
            OPS, "0 9 * * mon-fri", "Europe/Berlin", "UALICE", NOW)
        assert [s.channel_id for s in await uow.digests.schedules()] == [GENERAL, OPS]

    later = NOW + timedelta(days=1)
    async with db.uow() as uow:  # a channel has one schedule: setting it again replaces it
        await uow.digests.set_schedule(DigestSchedule(OPS, "0 7 * * *", "America/New_York", "UCAROL", later))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.digests.schedule(OPS) == DigestSchedule(
            OPS, "0 7 * * *", "America/New_York", "UCAROL", later)
    assert await count(db, DigestScheduleRow) == 2

    async with db.uow() as uow:
        assert await uow.digests.remove_schedule(OPS) is True
        assert await uow.digests.remove_schedule(OPS) is False  # already gone
        assert await uow.digests.remove_schedule("CNOWHERE") is False
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.digests.schedule(OPS) is None
        assert [s.channel_id for s in await uow.digests.schedules()] == [GENERAL]


async def test_an_uncommitted_schedule_is_not_stored(db: Database) -> None:
    async with db.uow() as uow:
        await uow.digests.set_schedule(DigestSchedule(OPS, "0 9 * * *", "UTC", "UALICE", NOW))
        # no commit: the unit of work rolls back
    async with db.uow() as uow:
        assert await uow.digests.schedule(OPS) is None


async def test_schedules_written_by_one_process_are_seen_by_another(db: Database, other: Database) -> None:
    async with db.uow() as uow:
        await uow.digests.set_schedule(DigestSchedule(OPS, "0 9 * * *", "UTC", "UALICE", NOW))
        await uow.commit()
    async with other.uow() as uow:
        assert [s.cron for s in await uow.digests.schedules()] == ["0 9 * * *"]
        assert await uow.digests.remove_schedule(OPS)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.digests.schedules() == []


# ── run claims ─────────────────────────────────────────────────────────────────────────────


async def test_a_fire_time_is_claimed_once_per_channel(db: Database) -> None:
    assert await claim(db, OPS, FIRE) is True
    assert await claim(db, OPS, FIRE) is False  # the same (channel, fire time) again
    assert await claim(db, GENERAL, FIRE) is True  # another channel, same time
    assert await claim(db, OPS, FIRE + timedelta(days=1)) is True  # the next fire time
    assert await count(db, DigestRunRow) == 3


async def test_a_lost_claim_leaves_the_rest_of_the_unit_of_work_usable(db: Database) -> None:
    await claim(db, OPS, FIRE)
    async with db.uow() as uow:
        assert await uow.digests.claim_run(OPS, FIRE, NOW) is False  # rolled back to its savepoint
        assert await uow.digests.claim_run(OPS, FIRE + timedelta(hours=1), NOW) is True
        await uow.commit()
    assert await count(db, DigestRunRow) == 2


async def test_an_uncommitted_claim_does_not_hold_the_fire_time(
    db: Database, database_url: str, request: pytest.FixtureRequest,
) -> None:
    async with db.uow() as uow:  # a process that claimed and then crashed before committing
        assert await uow.digests.claim_run(OPS, FIRE, NOW) is True
    assert await claim(db, OPS, FIRE) is True


async def test_two_processes_claiming_the_same_fire_time_at_once_get_one_win(
    db: Database, other: Database,
) -> None:
    results = await asyncio.gather(claim(db, OPS, FIRE, hold=0.2), claim(other, OPS, FIRE, hold=0.2))
    assert sorted(results) == [False, True]
    assert await count(db, DigestRunRow) == 1


async def test_many_concurrent_claims_for_one_fire_time_give_exactly_one_win(
    db: Database, other: Database,
) -> None:
    attempts = [claim(db if i % 2 else other, OPS, FIRE, hold=0.05) for i in range(6)]
    results = await asyncio.gather(*attempts)
    assert results.count(True) == 1
    assert await count(db, DigestRunRow) == 1


async def test_concurrent_claims_for_different_fire_times_all_win(db: Database, other: Database) -> None:
    results = await asyncio.gather(
        claim(db, OPS, FIRE, hold=0.1), claim(other, OPS, FIRE + timedelta(days=1), hold=0.1),
        claim(other, GENERAL, FIRE, hold=0.1),
    )
    assert results == [True, True, True]


# ── reminders ──────────────────────────────────────────────────────────────────────────────


async def test_a_reminder_is_claimed_once_per_kind_and_key(db: Database) -> None:
    assert await remind(db, "approval", "12:4") is True
    assert await remind(db, "approval", "12:4") is False
    assert await remind(db, "overdue", "12:4") is True  # another kind, same key
    assert await remind(db, "approval", "12:5") is True
    assert await count(db, ReminderRow) == 3


async def test_two_processes_sending_one_reminder_at_once_send_it_once(
    db: Database, other: Database,
) -> None:
    results = await asyncio.gather(remind(db, "overdue", "churn:2026-W10", hold=0.2),
                                   remind(other, "overdue", "churn:2026-W10", hold=0.2))
    assert sorted(results) == [False, True]
    assert await count(db, ReminderRow) == 1


async def test_an_uncommitted_reminder_can_be_sent_again(
    db: Database, database_url: str, request: pytest.FixtureRequest,
) -> None:
    async with db.uow() as uow:
        assert await uow.claims.claim("approval", "1:4", NOW) is True
    assert await remind(db, "approval", "1:4") is True


async def test_a_long_reminder_key_is_cut_to_fit_and_still_claimed_once(db: Database) -> None:
    key = "uc-" + "x" * 200
    assert await remind(db, "overdue", key) is True
    assert await remind(db, "overdue", key) is False


# ── last run ───────────────────────────────────────────────────────────────────────────────


async def test_last_run_is_the_latest_posting_time_of_that_channel(db: Database) -> None:
    async with db.uow() as uow:
        assert await uow.digests.last_run(OPS) is None
    await claim(db, OPS, FIRE, now=FIRE + timedelta(seconds=2))
    await claim(db, OPS, FIRE - timedelta(days=1), now=FIRE + timedelta(minutes=30))  # late, missed one
    await claim(db, GENERAL, FIRE, now=FIRE + timedelta(hours=5))
    async with db.uow() as uow:
        last = await uow.digests.last_run(OPS)
        assert last is not None
        assert last.astimezone(UTC) == FIRE + timedelta(minutes=30)
        general = await uow.digests.last_run(GENERAL)
        assert general is not None and general.astimezone(UTC) == FIRE + timedelta(hours=5)
        assert await uow.digests.last_run("CNOWHERE") is None


async def test_removing_a_schedule_keeps_the_history_of_runs(db: Database) -> None:
    async with db.uow() as uow:
        await uow.digests.set_schedule(DigestSchedule(OPS, "0 8 * * *", "UTC", "UALICE", NOW))
        await uow.commit()
    await claim(db, OPS, FIRE)
    async with db.uow() as uow:
        await uow.digests.remove_schedule(OPS)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.digests.last_run(OPS) is not None
    assert await claim(db, OPS, FIRE) is False, "turning a schedule off and on does not repost"
