"""The storage contract, part 5: use cases homed in private channels, seen only through a
``Sight`` that names their channel — on the in-memory twin, SQLite and PostgreSQL alike.

The world: churn (public #ops, in Dev), deals and bids (the private #deals: bids archived),
memo (the group DM G_TEAM), and fraud (public #ops); bob works on deals and fraud.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain import usecases
from bot.domain.usecases import Phase, PhaseChange, Role, TeamMember
from bot.services.ports import Scope
from bot.services.use_case_ports import PUBLIC, Sight
from tests.integration.conftest import START, Store
from tests.unit.test_dora import deployment

ALICE, BOB = "U_ALICE", "U_BOB"
DAY = timedelta(days=1)
HOMES = {"churn": ("C_OPS", False), "deals": ("C_DEALS", True), "bids": ("C_DEALS", True),
         "memo": ("G_TEAM", True), "fraud": ("C_OPS", False)}
DEALS = Sight(frozenset({"C_DEALS"}))


@pytest.fixture
async def world(store: Store) -> Store:
    async with store.uow() as uow:
        for slug, (channel, private) in HOMES.items():
            uc = usecases.create(slug, slug.title(), creator_id=ALICE, channel_id=channel,
                                 now=START - 30 * DAY, private=private)
            if slug in ("deals", "fraud"):
                uc = replace(uc, team=(TeamMember(BOB, Role.DEVOPS),))
            if slug in ("churn", "deals"):  # both in Dev, overdue by any time box
                uc = replace(uc, phase=Phase.DEV, phase_since=START - 20 * DAY, history=(
                    *uc.history, PhaseChange(Phase.BIZ, Phase.DEV, ALICE, START - 20 * DAY)))
            if slug == "bids":
                uc = replace(uc, phase=Phase.ARCHIVED)
            await uow.use_cases.add(uc)
        await uow.commit()
    return store


async def test_a_use_case_keeps_its_privacy_and_a_save_does_not_change_it(world: Store) -> None:
    async with world.uow() as uow:
        deals = await uow.use_cases.get("deals")
        assert deals is not None and deals.private
        await uow.use_cases.save(replace(deals, title="Deals", private=False))
        await uow.commit()
    async with world.uow() as uow:
        saved = await uow.use_cases.get("deals")
        assert saved is not None and (saved.title, saved.private) == ("Deals", True)
        [churn] = await uow.use_cases.find(slugs=["churn"])
        assert not churn.private


async def test_a_sight_sees_public_use_cases_and_those_of_its_private_channels(world: Store) -> None:
    async with world.uow() as uow:
        found = uow.use_cases
        assert [uc.slug for uc in await found.find()] == ["churn", "deals", "fraud", "memo"]
        assert [uc.slug for uc in await found.find(sight=PUBLIC)] == ["churn", "fraud"]
        assert [uc.slug for uc in await found.find(sight=DEALS)] == ["churn", "deals", "fraud"]
        assert [uc.slug for uc in await found.find(sight=DEALS, include_archived=True,
                                                   member_id=ALICE)] == [
            "bids", "churn", "deals", "fraud"]
        assert [uc.slug for uc in await found.find(member_id=BOB, sight=PUBLIC)] == ["fraud"]
        assert [uc.slug for uc in await found.find(phase=Phase.DEV, sight=PUBLIC, limit=5)] == [
            "churn"]
        assert await found.count(sight=PUBLIC) == 2
        assert await found.count(sight=DEALS) == 3
        assert await found.count(phase=Phase.ARCHIVED, sight=DEALS) == 1
        assert await found.count(phase=Phase.ARCHIVED, sight=PUBLIC) == 0
        assert await found.count() == 4
        assert await found.slugs() == ["bids", "churn", "deals", "fraud", "memo"]
        assert await found.slugs(PUBLIC) == ["churn", "fraud"]
        assert await found.slugs(Sight(frozenset({"G_TEAM"}))) == ["churn", "fraud", "memo"]


async def test_private_homes_are_those_the_same_filters_read(world: Store) -> None:
    async with world.uow() as uow:
        homes = uow.use_cases.private_homes
        assert await homes() == ["C_DEALS", "G_TEAM"]
        assert await homes(member_id=BOB) == ["C_DEALS"]
        assert await homes(phase=Phase.BIZ) == ["G_TEAM"]
        assert await homes(phase=Phase.ARCHIVED) == ["C_DEALS"]
        assert await homes(owner_id=BOB) == []


async def test_privacy_is_set_per_channel(world: Store) -> None:
    async with world.uow() as uow:
        assert await uow.use_cases.channel_privacy() == [
            ("C_DEALS", True), ("C_OPS", False), ("G_TEAM", True)]
        await uow.use_cases.set_private("C_OPS", True)  # an admin made #ops private
        await uow.commit()
    async with world.uow() as uow:
        assert await uow.use_cases.channel_privacy() == [
            ("C_DEALS", True), ("C_OPS", True), ("G_TEAM", True)]
        assert await uow.use_cases.find(sight=PUBLIC) == []
        fraud = await uow.use_cases.get("fraud")
        assert fraud is not None and fraud.private and fraud.version == 0


async def test_the_public_workspace_of_a_digest_leaves_private_use_cases_out(world: Store) -> None:
    now = START
    async with world.uow() as uow:
        for d in (deployment(1, now - 2 * DAY, use_case="churn"),
                  deployment(2, now - DAY, use_case="deals"),
                  deployment(3, now - DAY, use_case="memo")):
            await uow.deployments.save(await uow.deployments.add(replace(d, id=None)))
        await uow.commit()
    public, everything = Scope(public_only=True), Scope()
    async with world.uow() as uow:
        reads = uow.digest_reads
        assert await reads.phase_counts(public) == {"dev": 1, "biz": 1}
        assert await reads.phase_counts(everything) == {"dev": 2, "biz": 2, "archived": 1}
        moves = await reads.moves(public, now - 30 * DAY, 10)
        assert ([m.slug for m in moves.rows], moves.total) == (["churn"], 1)
        overdue = await reads.overdue(public, now - DAY, 10)
        assert [o.slug for o in overdue.rows] == ["churn"]
        page, states = await reads.deployments(public, now - 7 * DAY, 10)
        assert ([d.slug for d in page.rows], states) == (["churn"], {"succeeded": 1})
        [counted] = await uow.dora.counts(public, [(now - 7 * DAY, now)], now)
        [all_of_them] = await uow.dora.counts(everything, [(now - 7 * DAY, now)], now)
        assert (counted.deployments, all_of_them.deployments) == (1, 3)
        week = (now - 7 * DAY, now)
        assert await uow.dora.busiest(week, 5) == ["churn", "deals", "memo"]
        assert await uow.dora.busiest(week, 5, public_only=True) == ["churn"]
        [ops] = await uow.dora.counts(Scope(channel_id="C_OPS", public_only=True),
                                      [(now - 7 * DAY, now)], now)
        assert ops.deployments == 1


async def test_a_use_cases_home_is_one_small_read(world: Store) -> None:
    async with world.uow() as uow:
        assert await uow.use_cases.home("deals") == ("C_DEALS", True)
        assert await uow.use_cases.home("fraud") == ("C_OPS", False)
        assert await uow.use_cases.home("nothing") is None
