"""Cancel wins: `/deploy cancel` or the Cancel button, at the same moment as an approval on
another bot process sharing the PostgreSQL database, always ends the deployment cancelled, and
both people get a proper answer (never "Something went wrong", never a 500)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.simulator.signer import block_actions_body, slash_command_body
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import button, deployment, latest
from tests.scenario.deploy_support import deployment_id_of

pytestmark = pytest.mark.postgres
# The cancel leaves this many seconds after the approval, one round each: on a 2-core machine
# 2-20 ms put both in the same instant (read the same revision), which lost 5 rounds of 6.
STAGGER = (0.0, 0.002, 0.005, 0.01, 0.015, 0.02)


@pytest.fixture
async def two(pg_settings: Settings, clock: ManualClock) -> AsyncIterator[tuple[Simulator, Simulator]]:
    """Two bot processes (each its own app, HTTP server and engine) on one database."""
    async with Simulator(pg_settings, clock=clock) as one, Simulator(pg_settings, clock=clock) as other:
        await one.command('/usecase new churn "Predict churn"')  # alice (admin) owns it
        await one.command("/usecase team churn add @erin devops")
        yield one, other


async def _post(sim: Simulator, body: str, *, after: float = 0.0) -> tuple[int, str]:
    """A signed delivery to this process, without running what it sets off afterwards."""
    await asyncio.sleep(after)
    async with sim.http.post(sim.url, data=body.encode(), headers=sim.signer.headers(body)) as resp:
        return resp.status, await resp.text()


def _command(sim: Simulator, user: str, text: str) -> str:
    return slash_command_body(
        command="/deploy", text=text, user_id=sim.fake.user(user).id, user_name=user,  # type: ignore[union-attr]
        channel_id=sim.channel, channel_name="general", team_id=sim.fake.team_id,
        response_url=sim.fake.new_response_url(), trigger_id=f"{uuid.uuid4().hex}.trigger")


def _click(sim: Simulator, user: str, message: dict[str, Any], action_id: str) -> str:
    found = button(message, action_id)
    assert found is not None, f"no {action_id} button"
    return block_actions_body(
        user_id=sim.fake.user(user).id, user_name=user, channel_id=message["channel"],  # type: ignore[union-attr]
        team_id=sim.fake.team_id, action=found, message=message, container=None,
        response_url=sim.fake.new_response_url(), trigger_id=f"{uuid.uuid4().hex}.trigger")


async def _at_gate(one: Simulator) -> tuple[int, dict[str, Any]]:
    one.switch_user("erin")
    d_id = deployment_id_of((await one.command("/deploy churn 1.0.0")).reply)
    message = latest(one)
    assert (await deployment(one, d_id)).state is DeploymentState.AWAITING_APPROVAL
    return d_id, message


async def _settled(*sims: Simulator) -> None:
    for sim in sims:
        await sim.app.background.settle()
    for sim in sims:
        await sim.app.settle()


def _answers(*sims: Simulator) -> str:
    return json.dumps([body for sim in sims for _token, body in sim.fake.response_posts])


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_deploy_cancel_beats_an_approval_on_another_process(
    two: tuple[Simulator, Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    one, other = two
    for delay in STAGGER:
        d_id, message = await _at_gate(one)
        cancel = _command(one, "erin", f'cancel {d_id} "wrong build"')
        approve = _click(other, "alice", message, "deploy_approve")

        (code, reply), (clicked, _) = await asyncio.gather(_post(one, cancel, after=delay),
                                                           _post(other, approve))
        await _settled(one, other)

        assert (code, clicked) == (200, 200)
        assert f"Deployment {d_id} of *churn* `1.0.0` is cancelled" in reply, reply
        assert (await deployment(one, d_id)).state is DeploymentState.CANCELLED
    assert "Something went wrong" not in _answers(one, other)
    _no_tracebacks(caplog)


async def test_the_cancel_button_beats_an_approval_on_another_process(
    two: tuple[Simulator, Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    one, other = two
    for delay in STAGGER:
        d_id, message = await _at_gate(one)
        cancel = _click(one, "erin", message, "deploy_cancel")
        approve = _click(other, "alice", message, "deploy_approve")

        codes = await asyncio.gather(_post(one, cancel, after=delay), _post(other, approve))
        await _settled(one, other)

        assert [code for code, _ in codes] == [200, 200]
        assert (await deployment(one, d_id)).state is DeploymentState.CANCELLED
        assert f"Deployment {d_id} of *churn* `1.0.0` is cancelled" in _answers(one)
    assert "Something went wrong" not in _answers(one, other)
    _no_tracebacks(caplog)
