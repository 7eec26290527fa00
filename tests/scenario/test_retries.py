"""Slack retries: a delivery handled once is never applied twice, yet a retry whose first
delivery never arrived is still handled."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.simulator.signer import event_body, slash_command_body
from bot.simulator.simulator import Simulator
from tests.scenario.helpers import posts, row_counts


def _command(sim: Simulator, text: str, trigger: str) -> str:
    return slash_command_body(
        command="/usecase", text=text, user_id="UALICE", user_name="alice", channel_id="CGENERAL",
        channel_name="general", team_id="T0SIM", response_url=sim.fake.new_response_url(),
        trigger_id=trigger)


async def _post(sim: Simulator, body: str, retry: int | None = None) -> tuple[int, str]:
    async with sim.http.post(sim.url, data=body.encode(),
                             headers=sim.signer.headers(body, retry_num=retry)) as response:
        return response.status, await response.text()


async def test_a_retried_command_is_applied_once(sim: Simulator) -> None:
    body = _command(sim, 'new churn "Churn"', "111.222.aaa")
    first = await _post(sim, body)
    again = await _post(sim, body, retry=1)
    await sim.app.settle()

    assert first[0] == 200 and "Created" in first[1]
    assert again == (200, "")
    assert (await row_counts(sim))["use_cases"] == 1
    assert len(posts(sim)) == 1


async def test_a_retry_whose_first_delivery_never_arrived_is_handled(sim: Simulator) -> None:
    status, text = await _post(sim, _command(sim, 'new churn "Churn"', "333.444.bbb"), retry=2)
    assert status == 200 and "Created" in text
    assert (await row_counts(sim))["use_cases"] == 1


async def test_a_retried_event_is_handled_once(sim: Simulator) -> None:
    event = {"type": "app_home_opened", "user": "UALICE", "channel": "DALICE", "tab": "home",
             "event_ts": "1.0"}
    body = event_body(event=event, team_id="T0SIM", api_app_id="A0SIM", event_id="Ev0RETRY1",
                      event_time=1)
    await _post(sim, body)
    await sim.app.settle()
    await _post(sim, body, retry=1)
    await _post(sim, body, retry=2)
    await sim.app.settle()
    assert len(sim.fake.calls_to("views.publish")) == 1


async def test_delivery_keys_are_forgotten_after_an_hour(sim: Simulator, clock: ManualClock) -> None:
    assert await sim.app.db.requests.first("trigger:x", clock.now())
    clock.advance(timedelta(hours=2))
    await sim.app.scheduler.sync()
    assert await sim.app.db.requests.first("trigger:x", clock.now())
