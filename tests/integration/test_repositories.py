"""SqlUseCaseRepository and SqlUnitOfWork against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock
from bot.domain import usecases
from bot.domain.usecases import Phase, PhaseChange, Role, TeamMember, UseCase
from bot.services.events import AfterCommit, DeploymentChanged, MessageQueued
from bot.services.ports import OutgoingMessage
from storage.database import Database

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
LEASE = timedelta(minutes=1)

ALICE, BOB, CAROL, DAVE = "U_ALICE", "U_BOB", "U_CAROL", "U_DAVE"


@pytest.fixture
def woken() -> list[str]:
    """One "wake" per commit that queued outbox messages (the event the delivery worker gets)."""
    return []


@pytest.fixture
async def db(database_url: str, woken: list[str]) -> AsyncIterator[Database]:
    def published(events: Sequence[AfterCommit]) -> None:
        woken.extend("wake" for e in events if isinstance(e, MessageQueued))

    database = Database(database_url, ManualClock(START), publish=published)
    yield database
    await database.dispose()


# ── helpers ────────────────────────────────────────────────────────────────────────────────


def new_use_case(slug: str = "churn-model", **changes: object) -> UseCase:
    created = usecases.create(
        slug, "Predict customer churn", creator_id=ALICE, channel_id="C_CHURN", now=START,
        domain="sales",
    )
    return replace(created, **changes)  # type: ignore[arg-type]


async def add(db: Database, *use_cases: UseCase) -> None:
    async with db.uow() as uow:
        for use_case in use_cases:
            await uow.use_cases.add(use_case)
        await uow.commit()


async def get(db: Database, slug: str) -> UseCase | None:
    async with db.uow() as uow:
        return await uow.use_cases.get(slug)


async def load(db: Database, slug: str) -> UseCase:
    found = await get(db, slug)
    assert found is not None, f"{slug} is not stored"
    return found


async def save(db: Database, use_case: UseCase) -> None:
    async with db.uow() as uow:
        await uow.use_cases.save(use_case)
        await uow.commit()


async def listed(db: Database, **filters: object) -> list[str]:
    async with db.uow() as uow:
        return [uc.slug for uc in await uow.use_cases.find(**filters)]  # type: ignore[arg-type]


def message(text: str, channel: str = "C_CHURN") -> OutgoingMessage:
    return OutgoingMessage("chat.postMessage", channel, {"channel": channel, "text": text})


def team_of(use_case: UseCase) -> dict[str, Role]:
    return {m.user_id: m.role for m in use_case.team}


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), moment


# ── round trips ────────────────────────────────────────────────────────────────────────────


async def test_add_then_get_round_trips_every_field(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    moved_at = datetime(2026, 1, 6, 14, 30, 15, 123456, tzinfo=paris)  # not UTC on purpose
    original = new_use_case(
        team=(TeamMember(BOB, Role.DATA_SCIENTIST), TeamMember(CAROL, Role.DEVOPS)),
    )
    original = replace(
        original, phase=Phase.DEV, phase_since=moved_at, title="Churn — v2 «beta»",
        history=(*original.history, PhaseChange(Phase.BIZ, Phase.DEV, ALICE, moved_at, "go")),
    )
    await add(db, original)

    loaded = await load(db, "churn-model")

    assert loaded == original  # every compared field, team order included
    assert loaded.version == 0
    assert loaded.history == original.history
    for moment in (loaded.phase_since, loaded.created_at, *(h.at for h in loaded.history)):
        assert_utc(moment)
    assert loaded.phase_since == moved_at
    assert loaded.created_at == START


async def test_save_after_a_transition_bumps_the_version_and_persists_the_phase(
    db: Database,
) -> None:
    await add(db, new_use_case())
    later = START + timedelta(days=3)
    moved = usecases.advance(await load(db, "churn-model"), ALICE, later, is_admin=False)

    await save(db, moved.use_case)

    loaded = await load(db, "churn-model")
    assert loaded.version == 1
    assert loaded.phase is Phase.DEV
    assert loaded.phase_since == later
    assert_utc(loaded.phase_since)
    assert loaded == replace(moved.use_case, version=1)


async def test_team_changes_are_synchronised_on_save(db: Database) -> None:
    await add(db, new_use_case())

    uc = await load(db, "churn-model")
    uc = usecases.add_member(uc, ALICE, TeamMember(BOB, Role.DATA_SCIENTIST), is_admin=False)
    uc = usecases.add_member(uc, ALICE, TeamMember(CAROL, Role.DATA_ENGINEER), is_admin=False)
    await save(db, uc)
    assert team_of(await load(db, "churn-model")) == {
        BOB: Role.DATA_SCIENTIST, CAROL: Role.DATA_ENGINEER,
    }

    uc = await load(db, "churn-model")
    await save(db, usecases.add_member(uc, ALICE, TeamMember(BOB, Role.DEVOPS), is_admin=False))
    assert team_of(await load(db, "churn-model")) == {BOB: Role.DEVOPS, CAROL: Role.DATA_ENGINEER}

    uc = await load(db, "churn-model")
    await save(db, usecases.remove_member(uc, ALICE, CAROL, is_admin=False))
    assert team_of(await load(db, "churn-model")) == {BOB: Role.DEVOPS}

    uc = await load(db, "churn-model")
    await save(db, usecases.remove_member(uc, ALICE, BOB, is_admin=False))
    loaded = await load(db, "churn-model")
    assert loaded.team == ()
    assert loaded.version == 4


async def test_record_change_appends_history_in_order(db: Database) -> None:
    await add(db, new_use_case())
    uc = await load(db, "churn-model")
    steps = [
        usecases.advance, usecases.advance,
        lambda u, a, t, is_admin: usecases.back(u, a, t, is_admin=is_admin, reason="drift"),
    ]
    for day, step in enumerate(steps, start=1):
        transition = step(uc, ALICE, START + timedelta(days=day), is_admin=False)
        async with db.uow() as uow:
            await uow.use_cases.save(transition.use_case)
            await uow.use_cases.record_change(uc.slug, transition.change)
            await uow.commit()
        uc = await load(db, "churn-model")

    assert [(h.from_phase, h.to_phase) for h in uc.history] == [
        (None, Phase.BIZ), (Phase.BIZ, Phase.DEV), (Phase.DEV, Phase.OPS), (Phase.OPS, Phase.DEV),
    ]
    assert [h.at for h in uc.history] == [START + timedelta(days=d) for d in range(4)]
    assert uc.history[-1].note == "drift"
    assert (uc.phase, uc.version) == (Phase.DEV, 3)


# ── queries ────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
async def portfolio(db: Database) -> Database:
    """alpha: Biz, owner Alice, Bob on the team · beta: Dev, owner Bob ·
    delta: Dev, owner Carol, Alice on the team · gamma: archived, owner Alice, Carol on the team.
    """
    await add(
        db,
        new_use_case("gamma", phase=Phase.ARCHIVED, archived_reason="no data",
                     team=(TeamMember(CAROL, Role.DATA_ENGINEER),)),
        new_use_case("alpha", team=(TeamMember(BOB, Role.BUSINESS),)),
        new_use_case("delta", phase=Phase.DEV, owner_id=CAROL,
                     team=(TeamMember(ALICE, Role.DEVOPS),)),
        new_use_case("beta", phase=Phase.DEV, owner_id=BOB),
    )
    return db


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["alpha", "beta", "delta"]),
        ({"include_archived": True}, ["alpha", "beta", "delta", "gamma"]),
        ({"phase": Phase.DEV}, ["beta", "delta"]),
        ({"phase": Phase.ARCHIVED}, ["gamma"]),
        ({"owner_id": ALICE}, ["alpha"]),
        ({"owner_id": ALICE, "include_archived": True}, ["alpha", "gamma"]),
        ({"member_id": ALICE}, ["alpha", "delta"]),  # owner of alpha, on delta's team
        ({"member_id": CAROL}, ["delta"]),
        ({"member_id": CAROL, "include_archived": True}, ["delta", "gamma"]),
        ({"member_id": BOB, "phase": Phase.BIZ}, ["alpha"]),
        ({"member_id": DAVE}, []),
    ],
)
async def test_find_filters(
    portfolio: Database, filters: dict[str, object], expected: list[str]
) -> None:
    assert await listed(portfolio, **filters) == expected


async def test_find_returns_teams_without_history(portfolio: Database) -> None:
    async with portfolio.uow() as uow:
        found = {uc.slug: uc for uc in await uow.use_cases.find(include_archived=True)}
    assert found["delta"].team == (TeamMember(ALICE, Role.DEVOPS),)
    assert found["beta"].team == ()
    assert found["gamma"].archived_reason == "no data"
    assert all(uc.history == () for uc in found.values())
    assert found["alpha"] == await load(portfolio, "alpha")


# ── the unit of work ───────────────────────────────────────────────────────────────────────


async def test_outbox_rows_become_visible_only_on_commit(db: Database, woken: list[str]) -> None:

    other = Database(db.url, db.clock)  # another process's connection (SQLite pools only one)
    async with db.uow() as uow:
        await uow.use_cases.add(new_use_case())
        uow.outbox.add(message("created"))
        await uow.session.flush()
        assert await other.outbox.backlog() == 0  # not visible before the commit
        assert woken == []
        await uow.commit()
    await other.dispose()

    assert await db.outbox.backlog() == 1
    assert woken == ["wake"]
    [item] = await db.outbox.claim(START, lease=LEASE)
    assert (item.method, item.channel, item.args) == (
        "chat.postMessage", "C_CHURN", {"channel": "C_CHURN", "text": "created"},
    )
    assert item.created_at == START


async def test_outbox_rows_share_the_transaction_of_the_use_case_change(
    db: Database, woken: list[str],
) -> None:
    await add(db, new_use_case())
    uc = await load(db, "churn-model")
    moved = usecases.advance(uc, ALICE, START + timedelta(days=1), is_admin=False)

    async with db.uow() as uow:  # rolled back: neither the move nor its announcement
        await uow.use_cases.save(moved.use_case)
        await uow.use_cases.record_change(uc.slug, moved.change)
        uow.outbox.add(message("moved"))
    assert await load(db, "churn-model") == uc
    assert await db.outbox.backlog() == 0

    async with db.uow() as uow:  # committed: both
        await uow.use_cases.save(moved.use_case)
        await uow.use_cases.record_change(uc.slug, moved.change)
        uow.outbox.add(message("moved"))
        await uow.commit()
    loaded = await load(db, "churn-model")
    assert (loaded.phase, loaded.version, len(loaded.history)) == (Phase.DEV, 1, 2)
    assert await db.outbox.backlog() == 1
    assert woken == ["wake"]


async def test_committing_without_outbox_messages_wakes_nobody(db: Database, woken: list[str]) -> None:
    await add(db, new_use_case())
    assert woken == []


async def test_events_are_handed_on_after_the_commit_and_never_without_it(database_url: str) -> None:
    seen: list[list[str]] = []
    db = Database(database_url, ManualClock(START),
                  publish=lambda events: seen.append([type(e).__name__ for e in events]))
    try:
        async with db.uow() as uow:  # rolled back: nothing is handed on
            await uow.use_cases.add(new_use_case())
            uow.emit(DeploymentChanged(7))
        assert seen == []
        async with db.uow() as uow:
            await uow.use_cases.add(new_use_case())
            uow.emit(DeploymentChanged(7))
            uow.outbox.add(message("created"))
            await uow.commit()
            assert seen == [["DeploymentChanged", "MessageQueued"]]  # once, right after the commit
        async with db.uow() as uow:  # a new unit of work starts with nothing collected
            await uow.commit()
        assert seen == [["DeploymentChanged", "MessageQueued"], []]
        assert await get(db, "churn-model") is not None
    finally:
        await db.dispose()
