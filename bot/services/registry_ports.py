"""What the MLflow registry side of the bot needs: the aliases it knows, and the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.registry import ModelVersion


class ModelAliasRepository(Protocol):
    async def known(self, model: str, alias: str) -> str | None:
        """The version the bot last knew ``model@alias`` to point at; None: nowhere/unknown."""
        ...

    async def remember(self, model: str, alias: str, version: str | None, at: datetime) -> None: ...


class ModelRegistry(Protocol):
    async def recent_versions(self, model: str, limit: int = 10) -> list[ModelVersion]: ...
    async def run_metrics(self, run_id: str) -> dict[str, float]: ...

    async def alias_now(self, model: str, alias: str) -> str | None:
        """Where ``model@alias`` points now (None: nowhere); :class:`SourceFailure` if MLflow
        cannot say."""
        ...
