from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock) -> AsyncIterator[Simulator]:
    """The whole bot behind real HTTP with a fake Slack; @alice is the admin."""
    async with Simulator(settings, clock=clock) as simulator:
        yield simulator
