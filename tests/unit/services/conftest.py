"""Service rules on the in-memory storage (tests/fakes): no database, no HTTP, no Slack."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import START


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def db(clock: ManualClock) -> InMemoryDatabase:
    return InMemoryDatabase(clock)
