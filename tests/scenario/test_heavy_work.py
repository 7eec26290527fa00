"""Heavy work never blocks an answer: digests, DORA and KPI tables are acked at once, wait
their turn among a few slots, and answer through the response_url; the rest answers meanwhile.

The slots are held by the test, as two long digests would hold them, so the queue can be
looked at while it waits; nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

from bot.clock import ManualClock
from bot.simulator.simulator import Simulator
from tests.scenario.helpers import post_text, posts, reply_text
from tests.scenario.test_metrics_endpoint import _scrape

HEAVY = ("/metric dora", "/metric show churn", "/digest preview")


async def hold_every_slot(sim: Simulator, stack: AsyncExitStack) -> None:
    from bot.app import HEAVY_JOBS

    for _ in range(HEAVY_JOBS):
        await stack.enter_async_context(sim.app.background.heavy_turn())


async def until(condition, limit: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_heavy_commands_are_acked_at_once_and_answered_through_the_response_url(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric record churn auc 0.8")
    for line in HEAVY:
        step = await sim.command(line)
        assert step.status == 200 and step.reply is None, line  # an empty ack: nothing to say yet
        [(_token, answer)] = step.responses
        assert answer["response_type"] == "ephemeral"
    assert "DORA" in reply_text(await sim.command("/metric dora"))


async def test_bad_input_to_a_heavy_command_is_answered_in_the_ack(sim: Simulator) -> None:
    step = await sim.command("/metric show")
    assert step.reply is not None and "Usage: /metric show" in reply_text(step)
    assert step.responses == []


async def test_an_unknown_use_case_is_refused_in_the_acknowledgement(sim: Simulator) -> None:
    # Whether the slug names a use case this person may see is one light read, made before
    # the ack like every command that names one; the heavy work never starts.
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command("/metric dora chrun")
    assert step.reply is not None and step.responses == []
    assert step.reply["response_type"] == "ephemeral"
    assert "chrun" in reply_text(step) and "churn" in reply_text(step)  # did you mean
    assert sim.app.background.heavy_waiting == 0


async def test_while_heavy_work_waits_its_turn_other_commands_are_answered(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    async with AsyncExitStack() as stack:
        await hold_every_slot(sim, stack)  # two long digests, say

        dora = await sim.command("/metric dora", wait=False)
        assert dora.status == 200 and dora.reply is None
        show = await sim.command("/usecase show churn", wait=False)
        assert show.reply is not None and "Predict churn" in reply_text(show)

        await until(lambda: sim.app.background.heavy_waiting == 1)
        scraped, _types = await _scrape(sim)
        assert scraped["bizdevops_heavy_jobs_waiting"][()] == 1
        assert "bizdevops_event_loop_lag_seconds_count" in scraped
        assert sim.fake.response_posts == []  # DORA has not run yet
    await sim.app.settle()
    assert sim.app.background.heavy_waiting == 0
    [(_token, answer)] = sim.fake.response_posts
    assert "DORA" in answer["text"]


async def test_digests_of_many_channels_queue_for_the_slots_and_each_is_posted_once(
    sim: Simulator,
) -> None:
    channels = [f"team-{i}" for i in range(6)]
    async with AsyncExitStack() as stack:
        await hold_every_slot(sim, stack)
        for name in channels:
            sim.switch_channel(name)
            step = await sim.command("/digest now", wait=False)
            assert "Putting the digest together" in reply_text(step)
        await until(lambda: sim.app.background.heavy_waiting == len(channels))
        assert not [p for p in posts(sim) if "BizDevOps digest" in post_text(p)]
    await sim.app.settle()
    digests = [p["channel"] for p in posts(sim) if "BizDevOps digest" in post_text(p)]
    assert sorted(digests) == sorted(sim.fake.channel(n).id for n in channels)  # type: ignore[union-attr]


async def test_a_scheduled_digest_waits_for_a_slot(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/digest schedule "0 9 * * *" tz=UTC')
    clock.advance(timedelta(days=1, seconds=1))  # just after Tuesday 09:00
    async with AsyncExitStack() as stack:
        await hold_every_slot(sim, stack)
        fired = asyncio.create_task(sim.app.scheduler.fire(sim.channel))
        await until(lambda: sim.app.background.heavy_waiting == 1)
        assert not fired.done()
    assert await fired is True
    await sim.app.settle()
    assert [p for p in posts(sim, sim.channel) if "BizDevOps digest" in post_text(p)]
