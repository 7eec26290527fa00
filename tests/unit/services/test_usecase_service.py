"""`/usecase` rules (bot/services/usecases.py): who may do what, the phase moves, what is
stored and announced — on the in-memory storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.usecase_results import (
    MemberJoined,
    MemberLeft,
    ModelLinked,
    OwnerHandedOver,
    UseCaseCreated,
    UseCaseListing,
    UseCaseMoved,
    UseCaseView,
)
from bot.domain.usecases import DomainError, NotAllowed, Phase, Role, TeamMember
from bot.services.commands import (
    AddTeamMember,
    AdvanceUseCase,
    ArchiveUseCase,
    HandOver,
    LinkModel,
    ListUseCases,
    MoveBack,
    NewUseCase,
    RemoveTeamMember,
    ShowUseCase,
    UseCaseCommand,
    UserRef,
)
from bot.services.events import MessageQueued
from bot.services.usecases import UnknownUseCase, UseCaseService
from tests.fakes.directory import FakeConversations, FakeDirectory
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import (
    ADMIN,
    CHANNEL,
    ENGINEER,
    OUTSIDER,
    OWNER,
    START,
    actor,
    raced,
    seed,
    stored,
    texts,
)


def service(db: InMemoryDatabase, *,
            conversations: FakeConversations | None = None) -> UseCaseService:
    return UseCaseService(db.uow, db.clock, FakeDirectory(users={"eng": ENGINEER}),
                          dev_timebox=timedelta(weeks=6), timezone="UTC",
                          conversations=conversations or FakeConversations(), cards=db.cards)


async def test_create_stores_the_use_case_in_biz_and_announces_it(db: InMemoryDatabase) -> None:
    reply = await service(db).execute(NewUseCase("churn", "Predict churn", owner=UserRef(None, "eng")),
                                      actor(OWNER))
    uc = await stored(db)
    assert (uc.phase, uc.owner_id, uc.created_by, uc.channel_id) == (Phase.BIZ, ENGINEER, OWNER, "C_HOME")
    assert [(h.from_phase, h.to_phase) for h in uc.history] == [(None, Phase.BIZ)]
    assert [m.channel for m in db.messages()] == ["C_HOME"]
    assert db.published == [MessageQueued()]
    assert reply == UseCaseCreated("churn", "C_HOME")


async def test_create_refuses_a_taken_slug_and_an_unknown_owner(db: InMemoryDatabase) -> None:
    await seed(db)
    with pytest.raises(DomainError) as taken:
        await service(db).execute(NewUseCase("churn", "Again"), actor(OUTSIDER))
    assert (taken.value.key, taken.value.facts) == ("slug_taken", {"slug": "churn"})
    with pytest.raises(DomainError) as nobody:
        await service(db).execute(NewUseCase("fraud", "Fraud", owner=UserRef(None, "nobody")),
                                  actor(OWNER))
    assert (nobody.value.key, nobody.value.facts) == ("unknown_slack_user", {"name": "nobody"})
    assert (await stored(db)).title == "Churn"
    assert texts(db) == []


async def test_the_owner_advances_biz_to_dev_and_it_is_recorded(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    await seed(db)
    clock.advance(timedelta(days=3))
    moved = await service(db).execute(AdvanceUseCase("churn", note="kick-off"), actor(OWNER))
    assert moved == UseCaseMoved("churn", Phase.DEV, CHANNEL)
    uc = await stored(db)
    assert (uc.phase, uc.phase_since, uc.version) == (Phase.DEV, START + timedelta(days=3), 1)
    assert (uc.history[-1].from_phase, uc.history[-1].to_phase, uc.history[-1].note) == (
        Phase.BIZ, Phase.DEV, "kick-off")
    assert [m.channel for m in db.messages()] == [CHANNEL]


@pytest.mark.parametrize("command", [
    AdvanceUseCase("churn"), MoveBack("churn", "drift"), ArchiveUseCase("churn", "done"),
    HandOver("churn", UserRef(ENGINEER)), AddTeamMember("churn", UserRef(ENGINEER), Role.DEVOPS),
])
async def test_only_the_owner_or_an_admin_may_change_a_use_case(
        db: InMemoryDatabase, command: UseCaseCommand) -> None:
    await seed(db, phase=Phase.DEV)
    with pytest.raises(NotAllowed) as refused:
        await service(db).execute(command, actor(OUTSIDER))
    assert (refused.value.key, refused.value.facts["owner"]) == ("not_owner", OWNER)
    assert refused.value.admins_may, "an admin could: where none is configured, say how to"
    assert (await stored(db)).version == 0
    assert texts(db) == [] and db.published == []


async def test_an_admin_may_advance_a_use_case_they_do_not_own(db: InMemoryDatabase) -> None:
    await seed(db)
    await service(db).execute(AdvanceUseCase("churn"), actor(ADMIN))
    assert (await stored(db)).phase is Phase.DEV


async def test_going_back_needs_a_reason_and_a_phase_to_go_back_to(db: InMemoryDatabase) -> None:
    await seed(db)
    with pytest.raises(DomainError) as no_loop:
        await service(db).execute(MoveBack("churn", "drift"), actor(OWNER))
    assert no_loop.value.key == "cannot_go_back"
    await service(db).execute(AdvanceUseCase("churn"), actor(OWNER))
    with pytest.raises(DomainError) as no_reason:
        await service(db).execute(MoveBack("churn", "  "), actor(OWNER))
    assert no_reason.value.key == "back_needs_reason"
    await service(db).execute(MoveBack("churn", "data drift"), actor(OWNER))
    uc = await stored(db)
    assert (uc.phase, uc.history[-1].note) == (Phase.BIZ, "data drift")


async def test_an_archived_use_case_neither_advances_nor_changes_hands(db: InMemoryDatabase) -> None:
    await seed(db)
    with pytest.raises(DomainError) as no_reason:
        await service(db).execute(ArchiveUseCase("churn", ""), actor(OWNER))
    assert no_reason.value.key == "archive_needs_reason"
    await service(db).execute(ArchiveUseCase("churn", "no data"), actor(OWNER))
    assert ((await stored(db)).phase, (await stored(db)).archived_reason) == (Phase.ARCHIVED, "no data")
    with pytest.raises(DomainError) as advanced:
        await service(db).execute(AdvanceUseCase("churn"), actor(OWNER))
    assert advanced.value.facts == {"slug": "churn", "phase": Phase.ARCHIVED}
    with pytest.raises(DomainError) as handed:
        await service(db).execute(HandOver("churn", UserRef(ENGINEER)), actor(OWNER))
    assert handed.value.key == "archived_unchangeable"


async def test_hand_over_and_team_changes_are_stored(db: InMemoryDatabase) -> None:
    await seed(db)
    svc = service(db)
    joined = await svc.execute(AddTeamMember("churn", UserRef(None, "eng"), Role.DATA_ENGINEER),
                               actor(OWNER))
    assert joined == MemberJoined("churn", ENGINEER, Role.DATA_ENGINEER)
    assert (await stored(db)).team == (TeamMember(ENGINEER, Role.DATA_ENGINEER),)
    left = await svc.execute(RemoveTeamMember("churn", UserRef(ENGINEER)), actor(OWNER))
    assert left == MemberLeft("churn", ENGINEER)
    assert (await stored(db)).team == ()
    assert texts(db) == []  # team changes are not announced
    with pytest.raises(DomainError) as owns:
        await svc.execute(HandOver("churn", UserRef(OWNER)), actor(OWNER))
    assert owns.value.key == "already_owner"
    handed = await svc.execute(HandOver("churn", UserRef(ENGINEER)), actor(OWNER))
    assert handed == OwnerHandedOver("churn", ENGINEER)
    assert (await stored(db)).owner_id == ENGINEER
    assert texts(db) == [f"churn is now owned by <@{ENGINEER}>"]
    with pytest.raises(NotAllowed):  # the previous owner is an outsider now
        await svc.execute(AdvanceUseCase("churn"), actor(OWNER))


async def test_an_unknown_slug_is_refused_with_the_closest_one(db: InMemoryDatabase) -> None:
    await seed(db)
    with pytest.raises(UnknownUseCase) as unknown:
        await service(db).execute(ShowUseCase("chrun"), actor(OWNER))
    assert unknown.value.facts == {"slug": "chrun", "closest": "churn"}


async def test_a_change_committed_meanwhile_is_a_refusal_not_a_lost_update(
        db: InMemoryDatabase) -> None:
    await seed(db)

    async def rename() -> None:  # someone else's edit of the same use case commits first
        async with db.uow() as uow:
            uc = await uow.use_cases.get("churn")
            assert uc is not None
            await uow.use_cases.save(replace(uc, title="Renamed"))
            await uow.commit()

    svc = service(db)
    svc.uow = raced(db, rename, times=1)
    with pytest.raises(DomainError) as refused:
        await svc.execute(AdvanceUseCase("churn"), actor(OWNER))
    assert refused.value.key == "usecase_changed_meanwhile"
    uc = await stored(db)
    assert (uc.title, uc.phase, uc.version) == ("Renamed", Phase.BIZ, 1)
    assert texts(db) == []


async def test_a_linked_model_is_stored_and_answered(db: InMemoryDatabase) -> None:
    await seed(db)
    linked = await service(db).execute(LinkModel("churn", "churn-clf"), actor(OWNER))
    assert linked == ModelLinked("churn", "churn-clf", CHANNEL)
    assert (await stored(db)).model == "churn-clf"
    assert texts(db) == []  # the registry's events are announced, not the link


async def test_list_and_show_return_what_the_answer_is_made_of(
        db: InMemoryDatabase, clock: ManualClock) -> None:
    await seed(db)
    await seed(db, "fraud", phase=Phase.DEV)
    found = await service(db).execute(ListUseCases(phase=Phase.DEV, mine=True), actor(OWNER))
    assert isinstance(found, UseCaseListing)
    assert ([uc.slug for uc in found.use_cases], found.total, found.phase, found.mine) == (
        ["fraud"], 1, Phase.DEV, True)
    everything = await service(db).execute(ListUseCases(), actor(OWNER))
    assert isinstance(everything, UseCaseListing)
    assert ([uc.slug for uc in everything.use_cases], everything.total) == (["churn", "fraud"], 2)
    assert (everything.now, everything.timebox, everything.production) == (
        clock.now(), timedelta(weeks=6), {})
    shown = await service(db).execute(ShowUseCase("fraud"), actor(OWNER))
    assert isinstance(shown, UseCaseView)
    assert (shown.use_case.slug, shown.tz, shown.kpi_target, shown.production) == (
        "fraud", "UTC", None, None)
    assert (shown.buttons.advance, shown.buttons.back) == (True, True)
    outsider = await service(db).show(ShowUseCase("fraud"), actor(OUTSIDER))
    assert (outsider.buttons.advance, outsider.buttons.back) == (False, False)
