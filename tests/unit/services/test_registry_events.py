"""MLflow's deliveries, handled so that none is lost or said twice (G3): what the event needs
from MLflow is read first, and the delivery's claim commits with its announcement — a handler
cut short (its process killed while MLflow's `runs/get` is slow) leaves the retry everything to do."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.domain.registry import ModelVersion, RegistryEvent
from bot.services.registry_events import RegistryEvents
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import seed

CREATED = RegistryEvent("delivery-1", "model_version", "created", "churn-xgb", "7", run_id="run-7")


class SlowRegistry:
    """MLflow whose `runs/get` waits until released."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def recent_versions(self, model: str, limit: int = 10) -> list[ModelVersion]:
        return []

    async def alias_now(self, model: str, alias: str) -> str | None:
        return None

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        self.asked.set()
        await self.release.wait()
        return {"auc": 0.91}


async def linked(db: InMemoryDatabase) -> None:
    uc = await seed(db)
    async with db.uow() as uow:
        await uow.use_cases.save(replace(uc, model="churn-xgb"))
        await uow.commit()


async def test_a_delivery_cut_short_is_done_in_full_by_its_retry(db: InMemoryDatabase) -> None:
    await linked(db)
    registry = SlowRegistry()
    events = RegistryEvents(db.uow, db.clock, registry)
    first = asyncio.create_task(events.handle(CREATED))
    await registry.asked.wait()
    first.cancel()  # the process dies while MLflow is slow: nothing after this point runs
    await asyncio.gather(first, return_exceptions=True)
    assert db.messages() == []

    registry.release.set()
    await events.handle(CREATED)  # MLflow delivers again, same delivery id
    await events.handle(CREATED)  # ...and once more: said once all the same
    [said] = db.messages()
    assert "New version v7 of the model `churn-xgb`" in str(said.args)
    assert "auc 0.91" in str(said.args)
