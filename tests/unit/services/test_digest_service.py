"""`/digest` rules (bot/services/digests.py): who may schedule a channel's digest, and a
scheduled digest posted once per fire time — on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.usecases import NotAllowed, Phase
from bot.services.digests import DigestService
from bot.services.events import MessageQueued
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, CHANNEL, OUTSIDER, OWNER, START, seed, texts

WEEKLY = "0 9 * * mon"


def digests(db: InMemoryDatabase) -> DigestService:
    return DigestService(db.uow, db.clock, dev_timebox=timedelta(weeks=6), timezone="UTC",
                         admins=frozenset({ADMIN}))


async def schedules(db: InMemoryDatabase) -> list[tuple[str, str, str]]:
    async with db.uow() as uow:
        return [(s.channel_id, s.cron, s.created_by) for s in await uow.digests.schedules()]


async def test_owners_of_the_channels_live_use_cases_and_admins_schedule(db: InMemoryDatabase) -> None:
    await seed(db)
    await seed(db, "old", phase=Phase.ARCHIVED, channel="C_OLD")
    service = digests(db)
    with pytest.raises(NotAllowed) as refused:
        await service.set_schedule(CHANNEL, WEEKLY, None, OUTSIDER)
    assert (refused.value.key, refused.value.facts) == (
        "digest_schedule_not_allowed", {"owners": (OWNER,)})
    with pytest.raises(NotAllowed) as refused:  # an archived use case counts for nothing
        await service.set_schedule("C_OLD", WEEKLY, None, OWNER)
    assert refused.value.facts == {"owners": ()}
    await service.set_schedule(CHANNEL, WEEKLY, "Europe/Berlin", OWNER)
    await service.set_schedule("C_EMPTY", WEEKLY, None, ADMIN)
    assert await schedules(db) == [("C_CHURN", WEEKLY, OWNER), ("C_EMPTY", WEEKLY, ADMIN)]
    shown = await service.show_schedule(CHANNEL)
    assert shown.schedule is not None and (shown.schedule.cron, shown.set_by) == (WEEKLY, OWNER)
    assert shown.upcoming == shown.schedule.next_fire(db.clock.now())


async def test_turning_off_asks_the_same_permission(db: InMemoryDatabase) -> None:
    await seed(db)
    service = digests(db)
    await service.set_schedule(CHANNEL, WEEKLY, None, OWNER)
    with pytest.raises(NotAllowed):
        await service.turn_off(CHANNEL, OUTSIDER)
    assert (await service.turn_off(CHANNEL, OWNER)).removed
    assert not (await service.turn_off(CHANNEL, OWNER)).removed
    assert await schedules(db) == []


async def test_a_scheduled_digest_is_posted_once_per_fire_time(db: InMemoryDatabase) -> None:
    await seed(db)
    service = digests(db)
    fire = START + timedelta(days=7)
    assert not await service.run_scheduled(CHANNEL, fire)  # nothing scheduled: nothing owed
    await service.set_schedule(CHANNEL, WEEKLY, None, OWNER)
    db.published.clear()
    assert await service.run_scheduled(CHANNEL, fire)
    assert not await service.run_scheduled(CHANNEL, fire)
    assert [m.channel for m in db.messages()] == [CHANNEL]
    assert db.published == [MessageQueued()]
    async with db.uow() as uow:
        assert await uow.digests.last_run(CHANNEL) == START


async def test_a_digest_now_is_posted_and_remembered(db: InMemoryDatabase) -> None:
    await seed(db)
    await digests(db).post_now(CHANNEL)
    assert len(texts(db)) == 1
    shown = await digests(db).show_schedule(CHANNEL)
    assert (shown.schedule, shown.last_posted) == (None, START)
