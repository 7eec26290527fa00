"""Announcements go through the persisted outbox: retried on 5xx/429/dropped connections,
delivered exactly once, and still delivered after a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.services.ports import OutgoingMessage
from bot.simulator.fake_slack import Fault
from bot.simulator.simulator import Simulator
from tests.scenario.conftest import START
from tests.scenario.helpers import posts


def _attempts(sim: Simulator) -> list[int]:
    return [c.status for c in sim.fake.calls_to("chat.postMessage", ok_only=False)]


async def test_500_500_then_429_with_retry_after_arrives_exactly_once(
    sim: Simulator, clock: ManualClock
) -> None:
    sim.fake.inject("chat.postMessage", Fault(500), Fault(500), Fault(429, retry_after=7))
    await sim.command('/usecase new churn "Churn"')
    assert _attempts(sim) == [500]

    for _ in range(2):  # back-off grows; a minute is past either wait
        clock.advance(timedelta(seconds=30))
        await sim.app.outbox.deliver_due()
    assert _attempts(sim) == [500, 500, 429]

    clock.advance(timedelta(seconds=5))  # Retry-After says 7: not yet
    assert await sim.app.outbox.deliver_due() == 0
    clock.advance(timedelta(seconds=3))
    assert await sim.app.outbox.deliver_due() == 1
    clock.advance(timedelta(minutes=10))
    assert await sim.app.outbox.deliver_due() == 0

    assert _attempts(sim) == [500, 500, 429, 200]
    assert len(posts(sim)) == 1
    assert await sim.app.db.outbox.backlog() == 0


async def test_dropped_connection_is_retried(sim: Simulator, clock: ManualClock) -> None:
    # The outbox's client retries nothing itself: a drop goes back to the worker's back-off.
    sim.fake.inject("chat.postMessage", Fault(drop_connection=True))
    await sim.command('/usecase new churn "Churn"')
    assert posts(sim) == []

    clock.advance(timedelta(minutes=1))
    await sim.app.outbox.deliver_due()
    assert len(posts(sim)) == 1


@pytest.mark.parametrize("to", ["channel", "direct message"])
async def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
        sim: Simulator, clock: ManualClock, to: str) -> None:
    """Slack posted it, the connection dropped before its answer: the retry looks first (in a
    DM's own conversation for a direct message, which is posted to the user's id)."""
    await sim.command('/usecase new churn "Churn"')
    target = sim.channel if to == "channel" else sim.user
    sim.fake.inject("chat.postMessage", Fault(drop_connection=True, applied=True))
    async with sim.app.db.uow() as uow:
        uow.outbox.add(OutgoingMessage("chat.postMessage", target,
                                       {"channel": target, "text": "said once"}))
        await uow.commit()
    await sim.app.outbox.deliver_due()
    clock.advance(timedelta(minutes=1))
    await sim.app.outbox.deliver_due()

    said = [m for m in sim.fake.messages() if m.text == "said once"]
    assert len(said) == 1
    assert await sim.app.db.outbox.backlog() == 0
    if to == "direct message":
        assert sim.fake.calls_to("conversations.open")[-1].args["users"] == sim.user


async def test_messages_of_one_channel_keep_their_order_through_retries(
    sim: Simulator, clock: ManualClock
) -> None:
    sim.fake.inject("chat.postMessage", Fault(500))
    await sim.command('/usecase new churn "Churn"')  # first announcement fails once
    await sim.command("/usecase advance churn")  # must wait behind it
    assert posts(sim) == []

    clock.advance(timedelta(minutes=1))
    await sim.app.outbox.deliver_due()
    texts = [p["text"] for p in posts(sim)]
    assert texts[0].startswith("New use case churn")
    assert "Biz → Dev" in texts[1]


async def test_a_restart_delivers_what_was_left_in_the_outbox(settings: Settings) -> None:
    clock = ManualClock(START)
    async with Simulator(settings, clock=clock) as before:
        before.fake.inject("chat.postMessage", *[Fault(503)] * 3)
        await before.command('/usecase new churn "Churn"')
        assert posts(before) == []
        assert await before.app.db.outbox.backlog() == 1

    clock.advance(timedelta(minutes=5))
    async with Simulator(settings, clock=clock) as after:  # same database, new process
        await after.app.start_background()
        for _ in range(1000):  # the background worker, on a busy machine: up to 20 s
            if posts(after) and await after.app.db.outbox.backlog() == 0:  # sent and recorded
                break
            await asyncio.sleep(0.02)
        assert [p["text"] for p in posts(after)] == ["New use case churn: Churn"]
        assert await after.app.db.outbox.backlog() == 0


async def test_a_permanent_slack_error_is_not_retried_forever(
    sim: Simulator, clock: ManualClock
) -> None:
    # The channel was deleted after the use case was homed there (a use case is homed only
    # where the bot can see): Slack answers channel_not_found, for good.
    sim.fake.inject("chat.postMessage", Fault(200, error="channel_not_found"))
    await sim.command('/usecase new lost "Lost"')
    [attempt] = sim.fake.calls_to("chat.postMessage", ok_only=False)
    assert attempt.response["error"] == "channel_not_found"
    clock.advance(timedelta(hours=1))
    assert await sim.app.outbox.deliver_due() == 0
    assert len(sim.fake.calls_to("chat.postMessage", ok_only=False)) == 1
    assert await sim.app.db.outbox.backlog() == 0
