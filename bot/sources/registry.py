"""One reader for every KPI source: the KPI service depends on this only (``KpiReader``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.domain.kpis import KpiSpec, SourceFailure, SourceKind
from bot.sources.mlflow import MlflowReader
from bot.sources.prometheus import PrometheusReader
from bot.sources.sql import SqlReader


class SourceReader(Protocol):
    async def read(self, source: Any, timeout: float) -> float: ...  # noqa: ASYNC109
    async def close(self) -> None: ...


class SourceReaders:
    def __init__(self, readers: dict[SourceKind, SourceReader]) -> None:
        self._readers = readers

    @classmethod
    def every(cls, connection_urls: Mapping[str, str], mlflow_url: str,
              mlflow_token: str) -> SourceReaders:
        """A reader for each kind of source, each opening its connections on first use."""
        return cls({
            SourceKind.SQL: SqlReader(connection_urls),
            SourceKind.PROMETHEUS: PrometheusReader(),
            SourceKind.MLFLOW: MlflowReader(mlflow_url, mlflow_token),
        })

    async def read(self, kpi: KpiSpec) -> float:
        reader = self._readers.get(kpi.source.kind)
        if reader is None:  # the file's check refuses this at start-up; kept for a clear word
            raise SourceFailure(f"no {kpi.source.kind.value} source is configured")
        return await reader.read(kpi.source, kpi.timeout.total_seconds())

    async def close(self) -> None:
        for reader in self._readers.values():
            await reader.close()
