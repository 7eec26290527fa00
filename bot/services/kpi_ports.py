"""What continuous KPIs need from storage and from the places the numbers live."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from bot.domain.kpis import KpiSpec, SourceStatus


class KpiRepository(Protocol):
    async def claim_pull(self, slug: str, name: str, fire_time: datetime, now: datetime) -> bool:
        """True for the one process that records this (KPI, fire time) first."""
        ...

    async def statuses(self, slugs: Collection[str]) -> dict[tuple[str, str], SourceStatus]:
        """The status of every KPI source of these use cases, by (slug, name)."""
        ...

    async def save_status(self, slug: str, name: str, status: SourceStatus, *,
                          was_failing: bool | None) -> bool:
        """Write ``status`` if the stored one still has ``was_failing`` (None: no row yet);
        False if another pull changed it first (then that one announces, not this one)."""
        ...

    async def forget_pulls_before(self, moment: datetime) -> None: ...


class KpiReader(Protocol):
    async def read(self, kpi: KpiSpec) -> float:
        """One finite number from the KPI's source, or :class:`SourceFailure` saying why."""
        ...

    async def close(self) -> None: ...
