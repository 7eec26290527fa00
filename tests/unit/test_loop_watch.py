"""The loop watch: lag into a histogram, and one warning naming what held the loop."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from types import FrameType

import pytest
from prometheus_client import CollectorRegistry, Histogram

from bot.runtime.loop_watch import LoopWatch, describe


def lag_histogram() -> Histogram:
    return Histogram("lag_seconds", "lag", registry=CollectorRegistry(),
                     buckets=(0.01, 0.1, 0.25, 1.0))


def hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # what a big query's rows or a render would do to every other request


def samples(histogram: Histogram) -> dict[str, float]:
    return {s.name.removeprefix("lag_seconds_") + s.labels.get("le", ""): s.value
            for metric in histogram.collect() for s in metric.samples}


async def test_a_stall_is_logged_once_naming_what_ran(caplog: pytest.LogCaptureFixture) -> None:
    lag = lag_histogram()
    watch = LoopWatch(lag, tick=0.01, threshold=0.1)
    watch.start()
    try:
        await asyncio.sleep(0.05)
        with caplog.at_level(logging.WARNING, logger="bot.runtime.loop_watch"):
            hold_the_loop(0.3)
            await asyncio.sleep(0.1)
    finally:
        await watch.stop()

    [warning] = [r.getMessage() for r in caplog.records if "loop_blocked" in r.getMessage()]
    assert "tests/unit/test_loop_watch.py" in warning and "hold_the_loop" in warning
    ms = int(warning.split("ms=")[1].split()[0])
    assert 250 <= ms < 2000
    assert watch.stalls == 1
    seen = samples(lag)
    assert seen["count"] >= 5  # every tick is observed
    assert seen["bucket0.25"] < seen["bucket1.0"]  # the stall landed in (0.25, 1] s
    assert seen["sum"] >= 0.25


async def test_a_quiet_loop_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(lag_histogram(), tick=0.01, threshold=0.1)
    watch.start()
    with caplog.at_level(logging.WARNING, logger="bot.runtime.loop_watch"):
        await asyncio.sleep(0.2)
    await watch.stop()
    assert watch.stalls == 0
    assert not [r for r in caplog.records if "loop_blocked" in r.getMessage()]


def test_describe_names_the_bots_innermost_frames_first() -> None:
    from bot.domain.metrics import sparkline

    caught: list[FrameType] = []

    class Spy(list[float]):
        def __len__(self) -> int:  # sparkline asks for the length: look at who asked
            caught.append(sys._getframe(1))
            return super().__len__()

    sparkline(Spy([1.0, 2.0]))
    where = describe(caught[0])
    assert where.startswith("bot/domain/metrics.py:") and " sparkline" in where.split(" ← ")[0]
