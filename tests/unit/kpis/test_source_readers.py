"""Whatever goes wrong in a KPI source comes out of the one reader as a SourceFailure in words:
the service stores and says those words, and never sees a bare exception or waits for ever."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.kpis import Every, KpiSpec, SourceFailure, SourceKind, SqlSource
from bot.sources.registry import SourceReaders

KPI = KpiSpec("churn", "auc", SqlSource("warehouse", "SELECT 1"), Every(timedelta(hours=1)),
              timeout=timedelta(milliseconds=10))


class Reader:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.timeouts: list[float] = []

    async def read(self, source: Any, timeout: float) -> float:  # noqa: ASYNC109
        self.timeouts.append(timeout)
        if self.answer == "hang":  # a reader that ignores its timeout
            await asyncio.sleep(3600)
        if isinstance(self.answer, Exception):
            raise self.answer
        return float(self.answer)

    async def close(self) -> None:
        pass


def readers(answer: Any) -> tuple[SourceReaders, Reader]:
    reader = Reader(answer)
    return SourceReaders({SourceKind.SQL: reader}, backstop=timedelta(seconds=1)), reader


async def test_a_value_comes_through_and_the_reader_is_given_the_kpis_timeout() -> None:
    one, reader = readers(0.91)
    assert await one.read(KPI) == 0.91
    assert reader.timeouts == [0.01]


async def test_a_reader_that_ignores_its_timeout_is_stopped_by_the_backstop() -> None:
    one, _ = readers("hang")
    with pytest.raises(SourceFailure, match="^no answer within 1 second$"):
        await one.read(KPI)


async def test_a_readers_bug_is_the_source_failing_with_the_error_named() -> None:
    one, _ = readers(KeyError("rows"))
    with pytest.raises(SourceFailure, match=r"^unexpected error \(KeyError\)$"):
        await one.read(KPI)


async def test_a_readers_own_failure_keeps_its_words() -> None:
    one, _ = readers(SourceFailure("the query on `warehouse` took longer than 30s"))
    with pytest.raises(SourceFailure, match="took longer than 30s"):
        await one.read(KPI)


async def test_a_kind_without_a_reader_is_said() -> None:
    with pytest.raises(SourceFailure, match="^no sql source is configured$"):
        await SourceReaders({}).read(KPI)
