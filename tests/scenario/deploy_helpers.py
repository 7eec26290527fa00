"""Reading deployment messages and pressing their buttons the way Slack would."""

from __future__ import annotations

import itertools
import json
from typing import Any

from bot.domain.deployment_model import Deployment
from bot.simulator.signer import block_actions_body
from bot.simulator.simulator import Simulator, Step

_TRIGGERS = itertools.count(1)


def deployment_messages(sim: Simulator) -> list[dict[str, Any]]:
    """Every post and edit of deployment messages (those with a deployment header), in order."""
    return [
        c.args for c in sim.fake.calls
        if c.method in ("chat.postMessage", "chat.update") and c.status == 200
        and c.response.get("ok") and _headed(c.args.get("blocks"), "Deployment ")
        and not c.args.get("thread_ts")
    ]


def _headed(blocks: Any, title: str) -> bool:
    first = blocks[0] if isinstance(blocks, list) and blocks else {}
    return first.get("type") == "header" and json.dumps(first).find(title) >= 0


def latest(sim: Simulator) -> dict[str, Any]:
    return deployment_messages(sim)[-1]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "")}
    return None


async def press(sim: Simulator, message: dict[str, Any], action_id: str) -> Step:
    """Click a button of ``message`` as the simulator's current user."""
    found = button(message, action_id)
    assert found is not None, f"no {action_id} button on the message"
    body = block_actions_body(
        user_id=sim.user, user_name=sim.name_of(sim.user), channel_id=message["channel"],
        team_id=sim.fake.team_id, action=found, message=message, container=None,
        response_url=sim.fake.new_response_url(channel=message["channel"], user_id=sim.user),
        trigger_id=f"{next(_TRIGGERS)}.press.trigger",  # each click is a new interaction
    )
    return await sim.send_signed(body, settle=sim.answered())


def said(step: Step) -> str:
    """What the clicker was told privately."""
    return " ".join(json.dumps(body, ensure_ascii=False) for _token, body in step.responses)


async def deployment(sim: Simulator, deployment_id: int) -> Deployment:
    async with sim.app.db.uow() as uow:
        found = await uow.deployments.get(deployment_id)
    assert found is not None
    return found
