"""What the use-case commands need from storage, and whose eyes a read is for (``Sight``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.metrics import Target
from bot.domain.production import Production
from bot.domain.usecases import Phase, PhaseChange, UseCase


@dataclass(frozen=True)
class ModelLink:
    """A use case linked to an MLflow registered model: where its registry events are said."""

    slug: str
    channel_id: str
    model: str


@dataclass(frozen=True)
class Sight:
    """What one person may see: every use case homed in a public channel, and of those homed
    in private channels and group DMs (``UseCase.private``) the ones in ``channels``, the
    private channels they are in. Reads given a Sight filter by it in SQL; without one, a read
    is the bot's own and sees everything."""

    channels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UseCaseCardData:
    """What `/usecase show` draws: the use case, its KPI's target, what runs in production."""

    use_case: UseCase
    kpi_target: Target | None
    production: Production | None


class CardReads(Protocol):
    async def use_case_card(self, slug: str) -> UseCaseCardData | None:
        """One read for the card of ``slug`` (None: no such use case), without a unit of work:
        the answer every channel asks for most."""
        ...


PUBLIC = Sight()  # what anyone may see: no use case of a private channel


class UseCaseRepository(Protocol):
    async def get(self, slug: str) -> UseCase | None: ...
    async def add(self, use_case: UseCase) -> None: ...
    async def save(self, use_case: UseCase) -> None: ...
    async def record_change(self, slug: str, change: PhaseChange) -> None: ...
    async def find(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False, limit: int | None = None,
        slugs: Sequence[str] | None = None, entered_before: datetime | None = None,
        sight: Sight | None = None,
    ) -> list[UseCase]: ...
    async def count(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False, sight: Sight | None = None,
    ) -> int: ...
    async def private_homes(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False,
    ) -> list[str]:
        """The private channels (and group DMs) homing use cases that ``find`` with these
        filters would read, each once, in order: whose members a Sight needs."""
        ...
    async def channel_privacy(self) -> list[tuple[str, bool]]:
        """Each channel homing use cases, with whether they are recorded private."""
        ...
    async def set_private(self, channel_id: str, private: bool) -> None:
        """Slack says the channel is (no longer) private: so are the use cases homed there."""
        ...
    async def slugs(self, sight: Sight | None = None) -> list[str]: ...
    async def linked_to(self, model: str) -> list[ModelLink]: ...
    async def owners_in(self, channel_id: str) -> list[str]: ...
    async def homes(self, slugs: Sequence[str] | None) -> list[tuple[str, str]]: ...
    async def home(self, slug: str) -> tuple[str, bool] | None:
        """Where the use case lives and whether that channel is private (one small read; None:
        there is no such use case)."""
        ...
