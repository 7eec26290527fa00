"""The DORA page is the same for every viewer: counted at most once a minute and shared, so its
cost does not grow with the number of people looking (benchmarks/dashboard_pages.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.metric_results import ChartRequest, DoraShown
from bot.services.commands import ShowDora
from bot.services.dashboard import DORA_FRESH, DashboardService
from bot.services.metrics import MetricService
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import seed
from tests.unit.test_dora import deployment


class Nobody:
    async def is_private(self, channel_id: str) -> bool | None:
        return False

    async def members(self, channel_id: str) -> frozenset[str]:
        return frozenset()

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        return {}


async def _deployed(db: InMemoryDatabase, ident: int, clock: ManualClock) -> None:
    async with db.uow() as uow:
        await uow.deployments.add(deployment(ident, clock.now() - timedelta(minutes=5)))
        await uow.commit()


async def test_dora_is_counted_once_a_minute_and_shared(db: InMemoryDatabase,
                                                        clock: ManualClock) -> None:
    await seed(db)
    await _deployed(db, 1, clock)
    metrics, asked = MetricService(db.uow, clock), []

    async def counted(command: ShowDora) -> tuple[DoraShown, ChartRequest | None]:
        asked.append(command)
        await asyncio.sleep(0)  # others come in while it counts
        return await metrics.dora_with_trend(command)

    service = DashboardService(db.uow, clock, Nobody(), Nobody(), counted)
    first, again = await asyncio.gather(service.dora(), service.dora())
    assert asked == [ShowDora(None, 30)] and again is first
    assert first[0].report.deployments == 1

    await _deployed(db, 2, clock)
    clock.advance(DORA_FRESH - timedelta(seconds=1))
    assert (await service.dora())[0].report.deployments == 1 and len(asked) == 1  # as counted

    clock.advance(timedelta(seconds=1))
    assert (await service.dora())[0].report.deployments == 2 and len(asked) == 2
    assert (await service.dora(7))[0].report.days == 7 and asked[-1] == ShowDora(None, 7)
