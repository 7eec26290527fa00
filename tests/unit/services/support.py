"""What the service unit tests share: people, a seeded use case, and readers of what a service
left behind in the in-memory storage (state, outbox, events)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from bot.domain import usecases
from bot.domain.deployment_model import Deployment
from bot.domain.usecases import Phase, TeamMember, UseCase
from bot.services.commands import Actor
from tests.fakes.uow import InMemoryDatabase, InMemoryUnitOfWork

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
OWNER, ENGINEER, SCIENTIST, OUTSIDER, ADMIN = "U_OWNER", "U_ENG", "U_SCI", "U_OUT", "U_ADMIN"
CHANNEL = "C_CHURN"


def actor(user_id: str) -> Actor:
    return Actor(user_id, "C_HOME", is_admin=user_id == ADMIN)


async def seed(db: InMemoryDatabase, slug: str = "churn", *, phase: Phase = Phase.BIZ,
               team: tuple[TeamMember, ...] = (), channel: str = CHANNEL) -> UseCase:
    """A committed use case owned by OWNER."""
    uc = replace(usecases.create(slug, slug.title(), creator_id=OWNER, channel_id=channel,
                                 now=db.clock.now()), phase=phase, team=team)
    async with db.uow() as uow:
        await uow.use_cases.add(uc)
        await uow.commit()
    return uc


async def stored(db: InMemoryDatabase, slug: str = "churn") -> UseCase:
    async with db.uow() as uow:
        uc = await uow.use_cases.get(slug)
    assert uc is not None, f"{slug} is not stored"
    return uc


async def deployments(db: InMemoryDatabase, slug: str = "churn") -> list[Deployment]:
    """The use case's deployments, newest first."""
    async with db.uow() as uow:
        return await uow.deployments.history(slug, limit=100)


def texts(db: InMemoryDatabase) -> list[str]:
    """The fallback text of each committed outbox message, oldest first."""
    return [str(m.args.get("text", "")) for m in db.messages()]


def button(db: InMemoryDatabase, action: str) -> str:
    """The newest committed button token for ``action`` ("approve", "reject", "cancel")."""
    tokens = [t.id for t in db.committed.action_tokens if t.action == action]
    assert tokens, f"no {action} button"
    return tokens[-1]


class RacedUnitOfWork(InMemoryUnitOfWork):
    """A unit of work that another one beats to the commit: ``rival`` commits first."""

    def __init__(self, db: InMemoryDatabase, rival: Callable[[], Awaitable[None]]) -> None:
        super().__init__(db)
        self._rival = rival

    async def commit(self) -> None:
        await self._rival()
        await super().commit()


def raced(db: InMemoryDatabase, rival: Callable[[], Awaitable[None]],
          times: int) -> Callable[[], InMemoryUnitOfWork]:
    """Units of work whose first ``times`` commits lose to ``rival``'s."""
    left = [times]

    async def maybe() -> None:
        if left[0] > 0:
            left[0] -= 1
            await rival()

    return lambda: RacedUnitOfWork(db, maybe)
