"""One reader for every KPI source: the KPI service depends on this only (``KpiReader``)."""

from __future__ import annotations

from typing import Any, Protocol

from bot.domain.kpis import KpiSpec, SourceFailure, SourceKind


class SourceReader(Protocol):
    async def read(self, source: Any, timeout: float) -> float: ...  # noqa: ASYNC109
    async def close(self) -> None: ...


class SourceReaders:
    def __init__(self, readers: dict[SourceKind, SourceReader]) -> None:
        self._readers = readers

    async def read(self, kpi: KpiSpec) -> float:
        reader = self._readers.get(kpi.source.kind)
        if reader is None:  # the file's check refuses this at start-up; kept for a clear word
            raise SourceFailure(f"no {kpi.source.kind.value} source is configured")
        return await reader.read(kpi.source, kpi.timeout.total_seconds())

    async def close(self) -> None:
        for reader in self._readers.values():
            await reader.close()
