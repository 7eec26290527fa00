"""The storage contract for freeze windows, on the in-memory twin, SQLite and PostgreSQL alike:
which ad hoc windows are current, which ended in a span, what an unfreeze ends (and says it
did), and where the use cases a freeze applies to live."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import usecases
from bot.domain.usecases import Phase
from bot.services.freeze_ports import ALL, StoredFreeze
from tests.integration.conftest import START, Store

H = timedelta(hours=1)


def window(scope: str, start_h: int, hours: int, reason: str = "r") -> StoredFreeze:
    return StoredFreeze(scope, START + start_h * H, START + (start_h + hours) * H, reason, "U_ALICE")


async def test_current_ended_and_end_of_ad_hoc_windows(store: Store) -> None:
    async with store.uow() as uow:
        for w in (window("churn", 0, 2, "a"), window(ALL, 0, 4, "b"), window("forecast", 0, 1, "c")):
            await uow.freezes.add(w)
        await uow.commit()
    async with store.uow() as uow:
        now = START + H
        assert [f.reason for f in await uow.freezes.current(["churn", ALL], now)] == ["a", "b"]
        assert [f.reason for f in await uow.freezes.current(None, now)] == ["a", "b"]  # c is over
        ids = {f.reason: f.id for f in await uow.freezes.current(None, START)}
        assert len(set(ids.values())) == 3 and all(ids.values())
        assert [f.reason for f in await uow.freezes.ended(START, now)] == ["c"]  # (since, now]
        assert await uow.freezes.ended(START + H, START + 90 * timedelta(minutes=1)) == []
        assert await uow.freezes.end("churn", now) == [ids["a"]]
        assert await uow.freezes.end("churn", now) == []
        await uow.commit()
    async with store.uow() as uow:
        ended = await uow.freezes.ended(START, START + H)
        assert [(f.reason, f.ends_at, f.id) for f in ended] == [("a", START + H, ids["a"]),
                                                                 ("c", START + H, ids["c"])]


async def test_homes_are_the_channels_of_live_use_cases(store: Store) -> None:
    def new(slug: str, channel: str) -> usecases.UseCase:
        return usecases.create(slug, slug.title(), creator_id="U_ALICE", channel_id=channel,
                               now=START)
    async with store.uow() as uow:
        await uow.use_cases.add(new("churn", "C_ONE"))
        await uow.use_cases.add(new("forecast", "C_TWO"))
        await uow.use_cases.add(replace(new("old", "C_THREE"), phase=Phase.ARCHIVED))
        await uow.commit()
    async with store.uow() as uow:
        assert await uow.use_cases.homes(None) == [("churn", "C_ONE"), ("forecast", "C_TWO")]
        assert await uow.use_cases.homes(["forecast", "old", "nope"]) == [("forecast", "C_TWO")]
        assert await uow.use_cases.homes([]) == []
