"""Web API calls made by listeners ride out a short 429, a 503 or a dropped connection through
slack_sdk's retry handlers; the outbox worker's 429s and 5xx are retried by the worker alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.simulator.fake_slack import Fault
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press, said
from tests.scenario.helpers import post_text, posts, reply_text


def statuses(sim: Simulator, method: str) -> list[int]:
    return [c.status for c in sim.fake.calls_to(method, ok_only=False)]


async def at_gate(sim: Simulator) -> dict[str, Any]:
    """churn, owned by alice (an admin); erin's deployment waits for approval."""
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    message = latest(sim)
    assert "awaiting approval" in post_text(message)
    return message


async def test_the_reject_dialog_opens_after_a_short_429(sim: Simulator) -> None:
    message = await at_gate(sim)
    sim.fake.inject("views.open", Fault(429, retry_after=0))
    await press(sim, message, "deploy_reject")

    assert statuses(sim, "views.open") == [429, 200]
    [dialog] = sim.fake.opened_views
    assert dialog["title"]["text"] == "Reject deployment"


async def test_a_long_429_is_not_waited_out_while_the_trigger_expires(sim: Simulator) -> None:
    message = await at_gate(sim)
    sim.fake.inject("views.open", Fault(429, retry_after=30))
    loop = asyncio.get_running_loop()
    started = loop.time()
    step = await press(sim, message, "deploy_reject")

    assert loop.time() - started < 10, "the listener waited for Retry-After: 30"
    assert statuses(sim, "views.open") == [429]
    assert "Something went wrong" in said(step)


async def test_the_home_tab_is_published_after_a_503(sim: Simulator) -> None:
    sim.fake.inject("views.publish", Fault(503))
    _step, view = await sim.open_home()

    assert statuses(sim, "views.publish") == [503, 200]
    assert view is not None and view["type"] == "home"


async def test_a_name_is_looked_up_through_a_dropped_connection_and_a_429(sim: Simulator) -> None:
    sim.fake.inject("users.list", Fault(drop_connection=True), Fault(429, retry_after=0))
    step = await sim.command('/usecase new churn "Churn" owner=@dave', escape=False)

    assert "Created *churn*" in reply_text(step)
    assert statuses(sim, "users.list") == [0, 429, 200]
    assert "Owner <@UDAVE>" in post_text(posts(sim)[0])


async def test_the_outbox_worker_is_not_retried_twice(sim: Simulator, clock: ManualClock) -> None:
    """A 429 the listeners would wait out is left to the worker, which plans its own retry."""
    sim.fake.inject("chat.postMessage", Fault(429, retry_after=0), Fault(503))
    await sim.command('/usecase new churn "Churn"')
    assert statuses(sim, "chat.postMessage") == [429]

    clock.advance(timedelta(seconds=1))  # the worker waits a second at least
    await sim.app.outbox.deliver_due()
    assert statuses(sim, "chat.postMessage") == [429, 503]
    assert posts(sim) == []
    assert await sim.app.db.outbox.backlog() == 1
