"""Claims of (KPI, fire time) and source statuses in memory, as ``storage/kpis.py`` keeps them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from bot.domain.kpis import SourceStatus
from tests.fakes.tables import Tables


class MemoryKpiRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def claim_pull(self, slug: str, name: str, fire_time: datetime, now: datetime) -> bool:
        if slug not in self._tables.use_cases or (slug, name, fire_time) in self._tables.kpi_pulls:
            return False
        self._tables.kpi_pulls.put((slug, name, fire_time), now)
        status = self._tables.kpi_status.get((slug, name)) or SourceStatus()
        if status.last_fire is None or status.last_fire < fire_time:
            self._tables.kpi_status.put((slug, name), replace(status, last_fire=fire_time))
        return True

    async def statuses(self, slugs: Collection[str]) -> dict[tuple[str, str], SourceStatus]:
        return {key: s for key, s in self._tables.kpi_status.rows.items() if key[0] in slugs}

    async def save_status(self, slug: str, name: str, status: SourceStatus, *,
                          was_failing: bool | None) -> bool:
        stored = self._tables.kpi_status.get((slug, name))
        if slug not in self._tables.use_cases:
            return False
        if (stored is None) != (was_failing is None) or (
                stored is not None and stored.failing != was_failing):
            return False
        last_fire = stored.last_fire if stored is not None else status.last_fire
        self._tables.kpi_status.put((slug, name), replace(status, last_fire=last_fire))
        return True

    async def forget_pulls_before(self, moment: datetime) -> None:
        for key, at in list(self._tables.kpi_pulls.rows.items()):
            if at < moment:
                self._tables.kpi_pulls.delete(key)


class MemoryModelAliasRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def known(self, model: str, alias: str) -> str | None:
        return self._tables.model_aliases.get((model, alias))

    async def remember(self, model: str, alias: str, version: str | None, at: datetime) -> None:
        if version is None:
            if (model, alias) in self._tables.model_aliases:
                self._tables.model_aliases.delete((model, alias))
        else:
            self._tables.model_aliases.put((model, alias), version)
