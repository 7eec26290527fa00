"""The freeze commands on the in-memory storage, checked on the facts they return (their words:
tests/unit/test_freeze_words.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.freeze_results import Frozen, Unfrozen
from bot.render import refusals
from bot.services.commands import Actor, FreezeDeployments, ListFreezes, UnfreezeDeployments
from bot.services.freezes import FreezeService, chain_for, passage
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


async def test_refusals_are_keys_and_facts(db: InMemoryDatabase, clock: ManualClock) -> None:
    await seed(db)
    freezes = FreezeService(db.uow, clock, (), "UTC")
    with pytest.raises(NotAllowed) as refused:
        await freezes.freeze(FreezeDeployments("churn", timedelta(hours=2), "audit"),
                             Actor("U_DEV", "C_HERE"))
    assert (refused.value.key, refused.value.facts, refused.value.admins_may) == (
        "freeze_admins_only", {"act": "freeze"}, True)
    with pytest.raises(DomainError) as nothing:
        await freezes.unfreeze(UnfreezeDeployments("churn"), Actor("U_ADMIN", "C_HERE", is_admin=True))
    assert (nothing.value.key, nothing.value.facts) == ("no_freeze_to_lift", {"slug": "churn"})
    assert refusals.said(nothing.value) == ("No freeze of *churn* to lift (from the pipeline file, "
                                            'a window can only be passed with `override="<reason>"`).')


async def test_an_admin_s_override_passes_the_windows_and_no_one_else_s(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    await seed(db)
    freezes, admin = FreezeService(db.uow, clock, (), "UTC"), Actor("U_ADMIN", "C_HERE", is_admin=True)
    made = await freezes.freeze(FreezeDeployments("churn", timedelta(hours=2), "audit"), admin)
    async with db.uow() as uow:
        with pytest.raises(Conflict) as frozen:
            await passage(uow, (), "churn", admin, "", clock.now(), "UTC")
        assert frozen.value.key == "deploys_frozen"
        assert frozen.value.facts["slug"] == "churn"
        assert frozen.value.facts["chain"] == tuple(await chain_for(uow, (), "churn", clock.now()))
        with pytest.raises(NotAllowed) as denied:
            await passage(uow, (), "churn", Actor("U_DEV", "C_HERE"), "hotfix", clock.now(), "UTC")
        assert denied.value.facts == {"act": "override"}
        [passed] = await passage(uow, (), "churn", admin, "hotfix", clock.now(), "UTC")
        assert (passed.reason, passed.end) == ("audit", made.until)
