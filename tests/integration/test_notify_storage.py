"""`notify_preferences` on the in-memory twin, SQLite and PostgreSQL (the ``store`` fixture), and
an outbox message's ``link_of`` kept until the worker claims it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.services.ports import OutgoingMessage
from storage.database import Database
from tests.integration.conftest import START, Store


async def enabled(store: Store, user_id: str) -> bool:
    async with store.uow() as uow:
        return await uow.notify_prefs.enabled(user_id)


async def set_to(store: Store, user_id: str, value: bool, *, commit: bool = True) -> None:
    async with store.uow() as uow:
        await uow.notify_prefs.set(user_id, value, store.clock.now())
        if commit:
            await uow.commit()


async def test_preferences_default_on_are_set_per_person_and_overwritten(store: Store) -> None:
    assert await enabled(store, "U_ERIN")
    await set_to(store, "U_ERIN", False)
    assert not await enabled(store, "U_ERIN")
    assert await enabled(store, "U_ALICE")  # one person's choice only
    store.clock.advance(timedelta(minutes=5))
    await set_to(store, "U_ERIN", True)
    assert await enabled(store, "U_ERIN")
    await set_to(store, "U_ERIN", False)
    await set_to(store, "U_ERIN", True, commit=False)  # rolled back: still off
    assert not await enabled(store, "U_ERIN")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, ManualClock(START))
    yield database
    await database.dispose()


async def test_an_outbox_message_keeps_the_ref_it_links_to(db: Database) -> None:
    async with db.uow() as uow:
        uow.outbox.add(OutgoingMessage("chat.postMessage", "U_ERIN",
                                       {"channel": "U_ERIN", "text": "✋ waits"},
                                       link_of="deployment:7"))
        uow.outbox.add(OutgoingMessage("chat.postMessage", "C_CHURN", {"channel": "C_CHURN"}))
        await uow.commit()
    claimed = await db.outbox.claim(START, lease=timedelta(minutes=1))
    assert [(i.channel, i.link_of) for i in claimed] == [("U_ERIN", "deployment:7"),
                                                         ("C_CHURN", None)]
