from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from tests.conftest import PostgresDatabases, _pg_url
from tests.scenario.deploy_support import Receiver

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock) -> AsyncIterator[Simulator]:
    """The whole bot behind real HTTP with a fake Slack; @alice is the admin."""
    async with Simulator(settings, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def pg_settings(pg_databases: PostgresDatabases) -> Iterator[Settings]:
    """Settings on a fresh PostgreSQL database, for tests of several processes sharing it."""
    name = pg_databases.take()
    yield replace(Settings(), database_url=_pg_url(name), outbox_poll_seconds=0.05)
    pg_databases.give_back(name)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real webhook receiver (tests/scenario/deploy_support.py) answering as each test says."""
    async with Receiver().running() as running:
        yield running
