"""The freeze commands on the in-memory storage, checked on the facts they return (their words:
tests/unit/test_freeze_words.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.freeze_results import Frozen, Unfrozen
from bot.services.commands import Actor, FreezeDeployments, ListFreezes, UnfreezeDeployments
from bot.services.freezes import FreezeService
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import seed


async def test_the_service_returns_what_it_did(db: InMemoryDatabase, clock: ManualClock) -> None:
    uc = await seed(db)
    freezes, admin = FreezeService(db.uow, clock, (), "UTC"), Actor("U_ADMIN", "C_HERE", is_admin=True)
    made = await freezes.freeze(FreezeDeployments("churn", timedelta(hours=2), "audit"), admin)
    assert made == Frozen("churn", clock.now() + timedelta(hours=2), (uc.channel_id,))
    listed = await freezes.list(ListFreezes("churn"))
    assert [(w.reason, w.end) for w in listed.windows] == [("audit", made.until)]
    assert await freezes.unfreeze(UnfreezeDeployments("churn"), admin) == Unfrozen("churn", ())
