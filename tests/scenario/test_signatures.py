"""Requests Slack did not sign, or signed too long ago, get 401 and change nothing."""

from __future__ import annotations

import time

from bot.simulator.signer import slash_command_body
from bot.simulator.simulator import Simulator
from tests.scenario.helpers import row_counts


def _body(sim: Simulator) -> str:
    return slash_command_body(
        command="/usecase", text='new churn "Churn"', user_id="UALICE", user_name="alice",
        channel_id="CGENERAL", channel_name="general", team_id="T0SIM",
        response_url=sim.fake.new_response_url(), trigger_id="1.2.3",
    )


async def _post(sim: Simulator, body: str, headers: dict[str, str]) -> int:
    async with sim.http.post(sim.url, data=body.encode(), headers=headers) as response:
        return response.status


async def test_wrong_missing_and_stale_signatures_are_refused(sim: Simulator) -> None:
    body = _body(sim)
    good = sim.signer.headers(body)
    wrong = {**good, "X-Slack-Signature": "v0=" + "0" * 64}
    missing = {k: v for k, v in good.items() if k != "X-Slack-Signature"}
    stale = sim.signer.headers(body, timestamp=int(time.time()) - 600)
    tampered_body = body.replace("churn", "fraud")

    assert await _post(sim, body, wrong) == 401
    assert await _post(sim, body, missing) == 401
    assert await _post(sim, body, stale) == 401
    assert await _post(sim, tampered_body, good) == 401
    assert (await row_counts(sim))["use_cases"] == 0
    assert not sim.fake.calls_to("chat.postMessage")

    assert await _post(sim, body, sim.signer.headers(body)) == 200
    assert (await row_counts(sim))["use_cases"] == 1
