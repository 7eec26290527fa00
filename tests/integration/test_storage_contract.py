"""The storage contract, part 1: use cases and units of work (the Slack delivery a commit
claims included), on the in-memory twin, SQLite and PostgreSQL alike (the ``store`` fixture,
tests/integration/conftest.py).

What the service unit tests (tests/unit/services) rely on: optimistic version guards, unique
slugs, what a save writes, ordering and filters, and transactions — invisible to others until
committed, dropped without a commit, events handed on only after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import PendingRollbackError

from bot.domain import usecases
from bot.domain.usecases import Phase, PhaseChange, Role, TeamMember, UseCase
from bot.services.events import DeploymentChanged, MessageQueued
from bot.services.ports import ConcurrentUpdate, DuplicateDelivery, OutgoingMessage
from tests.fakes.tables import RolledBack
from tests.integration.conftest import START, Store
from tests.integration.test_delivery_log import as_delivery

ALICE, BOB, CAROL, DAVE = "U_ALICE", "U_BOB", "U_CAROL", "U_DAVE"


def new_use_case(slug: str = "churn", **changes: object) -> UseCase:
    created = usecases.create(slug, "Predict churn", creator_id=ALICE, channel_id="C_CHURN",
                              now=START)
    return replace(created, **changes)  # type: ignore[arg-type]


async def add(store: Store, *use_cases: UseCase) -> None:
    async with store.uow() as uow:
        for uc in use_cases:
            await uow.use_cases.add(uc)
        await uow.commit()


async def load(store: Store, slug: str = "churn") -> UseCase | None:
    async with store.uow() as uow:
        return await uow.use_cases.get(slug)


async def save(store: Store, uc: UseCase) -> None:
    async with store.uow() as uow:
        await uow.use_cases.save(uc)
        await uow.commit()


def note(text: str) -> OutgoingMessage:
    return OutgoingMessage("chat.postMessage", "C_CHURN", {"channel": "C_CHURN", "text": text})


# ── use cases ────────────────────────────────────────────────────────────────────────────────


async def test_a_use_case_round_trips_with_its_history_and_version_zero(store: Store) -> None:
    team = (TeamMember(BOB, Role.DATA_SCIENTIST), TeamMember(CAROL, Role.DEVOPS))
    original = new_use_case(team=team, version=7)
    await add(store, original)
    loaded = await load(store)
    assert loaded == replace(original, version=0)
    assert loaded is not None and loaded.history == original.history
    assert await load(store, "nope") is None


async def test_a_second_use_case_with_the_same_slug_is_a_concurrent_update(store: Store) -> None:
    await add(store, new_use_case())
    with pytest.raises(ConcurrentUpdate):
        await add(store, new_use_case(title="Another", owner_id=BOB))
    loaded = await load(store)
    assert loaded is not None and (loaded.title, loaded.owner_id) == ("Predict churn", ALICE)
    async with store.uow() as uow:
        assert await uow.use_cases.slugs() == ["churn"]


async def test_a_refused_insert_ends_the_transaction(store: Store) -> None:
    """SQL's failed flush rolls the transaction back: a caller cannot carry on and commit."""
    await add(store, new_use_case())
    async with store.uow() as uow:
        await uow.use_cases.add(new_use_case("fraud"))
        with pytest.raises(ConcurrentUpdate):
            await uow.use_cases.add(new_use_case())
        with pytest.raises((RolledBack, PendingRollbackError)):
            await uow.commit()
    assert await load(store, "fraud") is None


async def test_saving_a_stale_version_raises_and_writes_nothing(store: Store) -> None:
    await add(store, new_use_case())
    stale = await load(store)
    assert stale is not None
    await save(store, usecases.hand_over(stale, ALICE, BOB, is_admin=False))
    async with store.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.use_cases.save(replace(stale, title="Overwritten", phase=Phase.OPS,
                                             team=(TeamMember(DAVE, Role.DEVOPS),)))
        await uow.commit()  # even committing afterwards must not write the stale state
    assert await load(store) == replace(stale, owner_id=BOB, version=1)


async def test_a_save_writes_the_changes_not_the_identity_and_keeps_team_order(store: Store) -> None:
    await add(store, new_use_case(team=(TeamMember(BOB, Role.BUSINESS), TeamMember(CAROL, Role.DEVOPS))))
    uc = await load(store)
    assert uc is not None
    changed = replace(uc, title="Churn v2", created_by=DAVE, created_at=START + timedelta(days=9),
                      team=(TeamMember(DAVE, Role.DEVOPS), TeamMember(CAROL, Role.DATA_ENGINEER)))
    await save(store, changed)
    loaded = await load(store)
    assert loaded is not None
    assert (loaded.title, loaded.created_by, loaded.created_at, loaded.version) == (
        "Churn v2", ALICE, START, 1)
    # Carol's row is updated where it was; Dave's is new, so it comes after.
    assert loaded.team == (TeamMember(CAROL, Role.DATA_ENGINEER), TeamMember(DAVE, Role.DEVOPS))


async def test_phase_changes_come_back_in_order_and_need_a_known_slug(store: Store) -> None:
    await add(store, new_use_case())
    later = PhaseChange(Phase.BIZ, Phase.DEV, ALICE, START + timedelta(days=2), "go")
    earlier = PhaseChange(Phase.DEV, Phase.BIZ, ALICE, START + timedelta(days=1), "back")
    async with store.uow() as uow:
        await uow.use_cases.record_change("churn", later)
        await uow.use_cases.record_change("churn", earlier)
        with pytest.raises(LookupError):
            await uow.use_cases.record_change("nope", later)
        await uow.commit()
    loaded = await load(store)
    assert loaded is not None and loaded.history[1:] == (earlier, later)  # by time, not by insert


async def test_find_count_slugs_and_owners_filter_and_order_alike(store: Store) -> None:
    await add(store,
              new_use_case("gamma", phase=Phase.ARCHIVED, team=(TeamMember(CAROL, Role.DEVOPS),)),
              new_use_case("alpha", team=(TeamMember(BOB, Role.BUSINESS),)),
              new_use_case("delta", phase=Phase.DEV, owner_id=CAROL, channel_id="C_OTHER"),
              new_use_case("beta", phase=Phase.DEV, owner_id=BOB))
    async with store.uow() as uow:
        def slugs(found: list[UseCase]) -> list[str]:
            return [uc.slug for uc in found]

        assert slugs(await uow.use_cases.find()) == ["alpha", "beta", "delta"]
        assert slugs(await uow.use_cases.find(include_archived=True, limit=2)) == ["alpha", "beta"]
        assert slugs(await uow.use_cases.find(phase=Phase.ARCHIVED)) == ["gamma"]
        assert slugs(await uow.use_cases.find(member_id=BOB)) == ["alpha", "beta"]
        assert slugs(await uow.use_cases.find(member_id=CAROL, include_archived=True)) == [
            "delta", "gamma"]
        assert slugs(await uow.use_cases.find(slugs=["beta", "gamma", "zeta"])) == ["beta"]
        assert slugs(await uow.use_cases.find(entered_before=START)) == []
        assert await uow.use_cases.count(phase=Phase.DEV) == 2
        assert await uow.use_cases.count(owner_id=ALICE, include_archived=True) == 2
        assert await uow.use_cases.slugs() == ["alpha", "beta", "delta", "gamma"]
        assert await uow.use_cases.owners_in("C_CHURN") == [ALICE, BOB]  # gamma is archived
        assert all(uc.history == () for uc in await uow.use_cases.find())


# ── units of work ────────────────────────────────────────────────────────────────────────────


async def test_changes_are_invisible_to_others_until_committed(store: Store) -> None:
    async with store.uow() as uow:
        await uow.use_cases.add(new_use_case())
        uow.outbox.add(note("created"))
        assert await uow.use_cases.get("churn") is not None  # visible inside
        async with store.other() as other:
            assert await other.use_cases.get("churn") is None
        assert await store.backlog() == 0
        await uow.commit()
    async with store.other() as other:
        assert await other.use_cases.get("churn") is not None
    assert await store.backlog() == 1


async def test_leaving_without_commit_or_by_an_exception_keeps_nothing(store: Store) -> None:
    async with store.uow() as uow:
        await uow.use_cases.add(new_use_case())
        uow.outbox.add(note("created"))
    assert await load(store) is None
    await add(store, new_use_case())
    before = await load(store)
    assert before is not None
    with pytest.raises(RuntimeError, match="slack is down"):
        async with store.uow() as uow:
            await uow.use_cases.save(replace(before, title="Changed"))
            await uow.use_cases.add(new_use_case("fraud"))
            uow.outbox.add(note("changed"))
            raise RuntimeError("slack is down")
    assert await load(store) == before
    assert await load(store, "fraud") is None
    assert await store.backlog() == 0


async def test_of_two_overlapping_writers_of_one_row_the_second_loses(store: Store) -> None:
    """PostgreSQL refuses the second at its guarded UPDATE, the twin at its commit; SQLite lets
    one writer in at a time (storage.database), so writers never overlap there."""
    if store.kind == "sqlite":
        pytest.skip("SQLite writers do not overlap")
    await add(store, new_use_case())
    async with store.uow() as first, store.other() as second:
        mine, theirs = await first.use_cases.get("churn"), await second.use_cases.get("churn")
        assert mine is not None and theirs is not None
        await first.use_cases.add(new_use_case("fraud"))  # an unrelated row is not lost
        await first.use_cases.save(replace(mine, title="First"))
        await first.commit()
        with pytest.raises(ConcurrentUpdate):
            await second.use_cases.save(replace(theirs, title="Second"))
            await second.commit()
    loaded = await load(store)
    assert loaded is not None and (loaded.title, loaded.version) == ("First", 1)
    assert await load(store, "fraud") is not None


async def test_overlapping_writers_of_different_rows_both_commit(store: Store) -> None:
    if store.kind == "sqlite":
        pytest.skip("SQLite writers do not overlap")
    async with store.uow() as first, store.other() as second:
        await first.use_cases.add(new_use_case("churn"))
        await second.use_cases.add(new_use_case("fraud"))
        await second.commit()
        await first.commit()
    async with store.uow() as uow:
        assert await uow.use_cases.slugs() == ["churn", "fraud"]


async def test_events_are_published_after_the_commit_and_never_without_it(store: Store) -> None:
    async with store.uow() as uow:
        uow.emit(DeploymentChanged(7))
        uow.outbox.add(note("created"))
    assert store.published == []
    async with store.uow() as uow:
        uow.emit(DeploymentChanged(7))
        assert store.published == []
        await uow.commit()
        assert store.published == [DeploymentChanged(7)]  # no outbox message: no MessageQueued
    async with store.uow() as uow:
        uow.outbox.add(note("created"))
        await uow.commit()
    assert store.published == [DeploymentChanged(7), MessageQueued()]


# ── the Slack delivery a task handles ───────────────────────────────────────────────────────


async def test_the_first_commit_of_a_delivery_claims_it_and_another_handling_commits_nothing(
    store: Store,
) -> None:
    def create(slug: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            async with store.uow() as uow:
                await uow.use_cases.add(new_use_case(slug))
                await uow.commit()
        return work

    async def both() -> None:  # a later commit of the same handling goes through
        await create("one")()
        await create("two")()

    await as_delivery("trigger:1", both)
    with pytest.raises(DuplicateDelivery):  # Slack's retry of it, here or in another process
        await as_delivery("trigger:1", create("three"))
    assert [await load(store, slug) is not None for slug in ("one", "two", "three")] == [
        True, True, False]
    await create("no-delivery")()  # work for no delivery (a job) claims nothing
    assert await load(store, "no-delivery") is not None
