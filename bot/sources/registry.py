"""One reader for every KPI source: the KPI service depends on this only (``KpiReader``), and
whatever goes wrong in a source comes out of it as a :class:`SourceFailure` in words."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from bot.domain.kpis import KpiSpec, SourceFailure, SourceKind
from bot.log_events import get_logger
from bot.render.durations import humanize
from bot.sources.mlflow import MlflowReader
from bot.sources.prometheus import PrometheusReader
from bot.sources.sql import SqlReader

log = get_logger(__name__)

# Readers enforce the KPI's timeout themselves and say where it ran out ("the query on
# `warehouse` took longer than 30s"); this backstop only catches a reader that does not.
BACKSTOP = timedelta(seconds=5)


class SourceReader(Protocol):
    async def read(self, source: Any, timeout: float) -> float: ...  # noqa: ASYNC109
    async def close(self) -> None: ...


class SourceReaders:
    def __init__(self, readers: dict[SourceKind, SourceReader], backstop: timedelta = BACKSTOP) -> None:
        self._readers = readers
        self._backstop = backstop

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
        waited = kpi.timeout + self._backstop
        try:
            async with asyncio.timeout(waited.total_seconds()):
                return await reader.read(kpi.source, kpi.timeout.total_seconds())
        except SourceFailure:
            raise
        except TimeoutError:
            raise SourceFailure(f"no answer within {humanize(waited)}") from None
        except Exception as error:  # a reader's bug is this source failing, visibly
            log.exception("kpi.read_error", use_case=kpi.use_case, kpi=kpi.name)
            raise SourceFailure(f"unexpected error ({type(error).__name__})") from None

    async def close(self) -> None:
        for reader in self._readers.values():
            await reader.close()
