"""Use cases of private channels (bot/services/visibility.py, and `/usecase` and the digest
using it): seen by the channel's members only; Slack asked only about the private channels a
read involves; privacy learned when a use case is homed and refreshed later — on the
in-memory storage, with Slack's channels as plain dicts (tests/fakes/directory.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import usecases
from bot.domain.usecase_results import UseCaseListing
from bot.domain.usecases import DomainError, NotAllowed, Phase
from bot.services.commands import ChannelRef, ListUseCases, NewUseCase, ShowUseCase
from bot.services.digests import DigestService
from bot.services.usecases import UnknownUseCase
from bot.services.visibility import readable, refresh_privacy, visible
from tests.fakes.directory import FakeConversations
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, OUTSIDER, OWNER, actor, stored
from tests.unit.services.test_usecase_service import service

DEALS, TEAM, OPS = "C_DEALS", "G_TEAM", "C_OPS"


def slack() -> FakeConversations:
    return FakeConversations(private={DEALS: frozenset({OWNER, ADMIN}), TEAM: frozenset({OWNER})},
                             unseen={"C_HUSH"})


async def homed(db: InMemoryDatabase, *homes: tuple[str, str, bool]) -> None:
    async with db.uow() as uow:
        for slug, channel, private in homes:
            await uow.use_cases.add(usecases.create(slug, slug.title(), creator_id=OWNER,
                                                    channel_id=channel, now=db.clock.now(),
                                                    private=private))
        await uow.commit()


async def listed(db: InMemoryDatabase, channels: FakeConversations, user: str,
                 command: ListUseCases | None = None) -> list[str]:
    found = await service(db, conversations=channels).execute(command or ListUseCases(), actor(user))
    assert isinstance(found, UseCaseListing)
    return [uc.slug for uc in found.use_cases]


async def test_list_shows_private_use_cases_to_members_and_asks_only_of_their_channels(
    db: InMemoryDatabase,
) -> None:
    await homed(db, ("churn", OPS, False), ("deals", DEALS, True), ("memo", TEAM, True))
    channels = slack()
    assert await listed(db, channels, OUTSIDER) == ["churn"]
    assert await listed(db, channels, ADMIN) == ["churn", "deals"]  # admins: members only
    assert await listed(db, channels, OWNER) == ["churn", "deals", "memo"]
    assert sorted(set(channels.asked)) == [("members", DEALS), ("members", TEAM)]
    channels.asked.clear()
    await listed(db, channels, OWNER, ListUseCases(phase=Phase.DEV))  # none of them is in Dev
    await listed(db, channels, OUTSIDER, ListUseCases(mine=True))  # works on none
    assert channels.asked == []


async def test_show_to_a_non_member_is_the_refusal_of_an_unknown_slug(db: InMemoryDatabase) -> None:
    await homed(db, ("churn", OPS, False), ("deals", DEALS, True))
    svc = service(db, conversations=slack())
    with pytest.raises(UnknownUseCase) as hidden:
        await svc.execute(ShowUseCase("deals"), actor(OUTSIDER))
    with pytest.raises(UnknownUseCase) as missing:
        await svc.execute(ShowUseCase("meals"), actor(OUTSIDER))
    assert (hidden.value.key, hidden.value.facts) == (
        "unknown_use_case", {"slug": "deals", "closest": None})
    assert (missing.value.key, missing.value.facts) == (
        "unknown_use_case", {"slug": "meals", "closest": None})
    assert (await svc.show(ShowUseCase("deals"), actor(ADMIN))).use_case.slug == "deals"
    with pytest.raises(UnknownUseCase) as typo:  # public: suggested
        await svc.execute(ShowUseCase("chrun"), actor(OUTSIDER))
    assert typo.value.facts["closest"] == "churn"


async def test_a_new_use_case_learns_whether_its_channel_is_private(db: InMemoryDatabase) -> None:
    channels = slack()
    svc = service(db, conversations=channels)
    await svc.execute(NewUseCase("deals", "Deals", channel=ChannelRef(DEALS)), actor(OWNER))
    await svc.execute(NewUseCase("churn", "Churn", channel=ChannelRef(OPS)), actor(OUTSIDER))
    assert (await stored(db, "deals")).private and not (await stored(db, "churn")).private
    with pytest.raises(NotAllowed) as outsider:
        await svc.execute(NewUseCase("snoop", "Snoop", channel=ChannelRef(DEALS)), actor(OUTSIDER))
    assert (outsider.value.key, outsider.value.facts) == ("private_channel_not_member",
                                                          {"channel": DEALS})
    with pytest.raises(DomainError) as unseen:
        await svc.execute(NewUseCase("hush", "Hush", channel=ChannelRef("C_HUSH")), actor(OWNER))
    assert (unseen.value.key, unseen.value.facts) == ("channel_unseen", {"channel": "C_HUSH"})
    async with db.uow() as uow:
        assert await uow.use_cases.slugs() == ["churn", "deals"]


async def test_refreshing_privacy_records_what_slack_says_now(db: InMemoryDatabase) -> None:
    await homed(db, ("churn", OPS, False), ("deals", DEALS, False), ("memo", "G_OLD", True),
                ("hush", "C_HUSH", False), ("note", TEAM, True))
    channels = slack()  # #deals was made private; G_OLD is public now; the bot left C_HUSH
    assert await refresh_privacy(db.uow, channels) == 3
    async with db.uow() as uow:
        assert await uow.use_cases.channel_privacy() == [
            (DEALS, True), ("C_HUSH", True), (OPS, False), ("G_OLD", False), (TEAM, True)]
    assert await refresh_privacy(db.uow, channels) == 0


async def test_a_channel_slack_fails_on_is_left_as_recorded(db: InMemoryDatabase) -> None:
    await homed(db, ("deals", DEALS, False), ("churn", OPS, True))

    class Flaky(FakeConversations):
        async def is_private(self, channel_id: str) -> bool | None:
            if channel_id == DEALS:
                raise ConnectionError("Slack is down")
            return await super().is_private(channel_id)

    assert await refresh_privacy(db.uow, Flaky()) == 1
    assert not (await stored(db, "deals")).private and not (await stored(db, "churn")).private


async def test_what_a_viewer_may_see_and_read(db: InMemoryDatabase) -> None:
    await homed(db, ("churn", OPS, False), ("deals", DEALS, True), ("memo", TEAM, True))
    async with db.uow() as uow:
        everything = await uow.use_cases.find()
    channels = slack()
    assert await visible(channels, ADMIN, everything) == {"churn", "deals"}
    assert await visible(channels, OUTSIDER, everything) == {"churn"}
    assert await readable(channels, ADMIN, [OPS, DEALS, TEAM, "C_HUSH", OPS]) == {OPS, DEALS}


async def test_a_workspace_digest_names_no_private_use_case(db: InMemoryDatabase) -> None:
    await homed(db, ("churn", OPS, False), ("deals", DEALS, True))
    digests = DigestService(db.uow, db.clock, dev_timebox=timedelta(weeks=6), timezone="UTC",
                            admins=frozenset({ADMIN}))
    async with db.uow() as uow:
        elsewhere = await digests.collect(uow, "C_EMPTY", db.clock.now() - timedelta(days=7),
                                          db.clock.now())
        own = await digests.collect(uow, DEALS, db.clock.now() - timedelta(days=7), db.clock.now())
    assert [(p.phase, p.count) for p in elsewhere.phases if p.count] == [("biz", 1)]
    assert [(p.phase, p.count) for p in own.phases if p.count] == [("biz", 1)]
