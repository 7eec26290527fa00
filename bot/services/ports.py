"""What the services need from storage, declared here and implemented in ``storage/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from bot.domain.usecases import Phase, PhaseChange, UseCase


@dataclass(frozen=True)
class OutgoingMessage:
    """One Web API call the bot owes Slack (``chat.postMessage`` ...), delivered by the outbox."""

    method: str
    channel: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    method: str
    channel: str
    args: dict[str, Any]
    attempts: int
    created_at: datetime


class ConcurrentUpdate(Exception):
    """Somebody else changed the same record between our read and our write."""


class UseCaseRepository(Protocol):
    async def get(self, slug: str) -> UseCase | None: ...
    async def add(self, use_case: UseCase) -> None: ...
    async def save(self, use_case: UseCase) -> None: ...
    async def record_change(self, slug: str, change: PhaseChange) -> None: ...
    async def find(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False,
    ) -> list[UseCase]: ...
    async def slugs(self) -> list[str]: ...


class Outbox(Protocol):
    def add(self, message: OutgoingMessage) -> None: ...


class UnitOfWork(Protocol):
    @property
    def use_cases(self) -> UseCaseRepository: ...
    @property
    def outbox(self) -> Outbox: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class Directory(Protocol):
    """Who and where: resolves plain ``@name`` / ``#name`` through the Slack Web API."""

    async def user_id(self, name: str) -> str | None: ...
    async def channel_id(self, name: str) -> str | None: ...
