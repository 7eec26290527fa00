"""The people who may approve are told, and nobody waits at a gate no one could pass.

A gate's message names who may pass it (never the requester); each of them gets a direct
message with the buttons (unless they turned DMs off), and those messages follow the gate to its
end without their buttons. A deployment that would wait at a gate nobody but its requester could
pass is refused before it starts, by every way in: the command, the dialog (when it would open,
and when submitted with another pipeline), a Deploy button, `/deploy rollback`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.simulator.simulator import Simulator
from bot.slack import ids
from tests.scenario.deploy_helpers import latest, press, said
from tests.scenario.deploy_support import deploy, load, write_pipeline
from tests.scenario.helpers import post_text, reply_text

PIPELINES = """
default = "standard"
[pipelines.standard]
[[pipelines.standard.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { required = 1 }

[pipelines.named]
[[pipelines.named.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { approvers = ["UDAVE", "@release-managers"] }

[pipelines.only-erin]
[[pipelines.only-erin.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { approvers = ["@on-call"] }

[pipelines.solo]
[[pipelines.solo.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { approvers = ["UERIN"] }
"""


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, PIPELINES)
    admins = frozenset({"UALICE", "UBOB"})
    async with Simulator(replace(settings, pipelines_path=str(path), admins=admins),
                         clock=clock) as simulator:
        simulator.fake.add_usergroup("release-managers", ["UFRANK", "UERIN"])
        simulator.fake.add_usergroup("on-call", ["UERIN"])
        await simulator.command('/usecase new churn "Predict churn" owner=@carol')
        await simulator.command("/usecase team churn add @erin devops")
        yield simulator


def requests_to(sim: Simulator) -> dict[str, list[dict[str, Any]]]:
    """Approval requests by direct message, by person."""
    out: dict[str, list[dict[str, Any]]] = {}
    for call in sim.fake.calls_to("chat.postMessage"):
        text = call.args.get("text", "")
        if call.args["channel"].startswith("U") and ("asks for your approval" in text
                                                     or "Still waiting for your approval" in text):
            out.setdefault(call.args["channel"], []).append(call.args)
    return out


def edits_of_requests(sim: Simulator) -> list[dict[str, Any]]:
    return [c.args for c in sim.fake.calls_to("chat.update") if c.args["channel"].startswith("D")]


def actions(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]]


async def as_user(sim: Simulator, user: str, line: str) -> str:
    sim.switch_user(user)
    return reply_text(await sim.command(line))


async def test_every_approver_but_the_requester_is_asked_by_dm_and_named_on_the_message(
        sim: Simulator) -> None:
    sim.switch_user("erin")
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    asked = requests_to(sim)
    assert sorted(asked) == ["UALICE", "UBOB", "UCAROL"]  # the owner and the admins, not erin
    for [request] in asked.values():
        assert request["text"].startswith(f"✋ <@UERIN> asks for your approval: deployment {d_id}")
        assert actions(request) == [ids.DEPLOY_APPROVE, ids.DEPLOY_REJECT]
    assert ("1 more approval needed from the owner <@UCAROL> or an admin (<@UALICE>, <@UBOB>)"
            in post_text(latest(sim)))

    # alice deploys: she is left out of who may approve, and is not asked.
    sim.switch_user("alice")
    await sim.command(f"/deploy cancel {d_id}")
    before = {user: len(found) for user, found in requests_to(sim).items()}
    await deploy(sim, "/deploy churn 1.0.1")
    after = {user: len(found) for user, found in requests_to(sim).items()}
    assert {u: after[u] - before.get(u, 0) for u in after} == {"UALICE": 0, "UBOB": 1, "UCAROL": 1}
    assert "from the owner <@UCAROL> or an admin (<@UBOB>)" in post_text(latest(sim))


async def test_named_approvers_and_the_members_of_a_named_group_are_asked(sim: Simulator) -> None:
    sim.switch_user("erin")  # erin is in @release-managers too: she is not asked
    await deploy(sim, "/deploy churn 1.0.0 pipeline=named")
    assert sorted(requests_to(sim)) == ["UDAVE", "UFRANK"]
    group_id, _handle = sim.fake.usergroup("release-managers")  # type: ignore[misc]
    assert f"from <@UDAVE> or <!subteam^{group_id}>" in post_text(latest(sim))


async def test_direct_messages_off_means_not_asked_either(sim: Simulator) -> None:
    assert "now *off*" in await as_user(sim, "bob", "/deploy notify off")
    sim.switch_user("erin")
    await deploy(sim, "/deploy churn 1.0.0")
    assert sorted(requests_to(sim)) == ["UALICE", "UCAROL"]
    assert "<@UBOB>" in post_text(latest(sim))  # still named: he may approve in the channel


@pytest.mark.parametrize(("end", "said_after"), [
    ("approve", "✅ Approved (<@UCAROL> at "),
    ("reject", "⛔ Rejected by <@UCAROL>: deployment 1"),
    ("cancel", "⏹️ Deployment 1 of *churn* `1.0.0` at *deploy* (dry run) was cancelled"),
    ("expire", "⌛ The approval of deployment 1 of *churn* `1.0.0` at *deploy* (dry run) expired"),
])
async def test_the_direct_messages_follow_the_gate_to_its_end_without_buttons(
        sim: Simulator, clock: ManualClock, end: str, said_after: str) -> None:
    sim.switch_user("erin")
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    clock.advance(timedelta(hours=4, minutes=1))  # a reminder too: it is edited as well
    await sim.app.settle()
    assert all(len(found) == 2 for found in requests_to(sim).values())
    if end == "expire":
        clock.advance(timedelta(hours=20))
        await sim.app.settle()
    elif end == "cancel":
        await sim.command(f"/deploy cancel {d_id}")
    else:
        sim.switch_user("carol")
        await press(sim, latest(sim), f"deploy_{end}")
        if end == "reject":
            await sim.submit("the data is not ready")
    edits = edits_of_requests(sim)
    assert len(edits) == 3 * 2  # each approver's request and reminder
    assert all(e["text"].startswith(said_after) and not actions(e) for e in edits), edits


async def test_a_gate_nobody_else_could_pass_is_refused_before_anything_starts(
        sim: Simulator) -> None:
    # erin is the only member of @on-call, the only approver of `only-erin`.
    refused = await as_user(sim, "erin", "/deploy churn 1.0.0 pipeline=only-erin")
    assert refused.startswith("Not started: *deploy* needs 1 approval from @on-call; you are "
                              "the only one who could give it")
    assert "add people to its `approvers` in the pipeline file (`only-erin`, stage `deploy`)" \
        in refused
    async with sim.app.db.uow() as uow:
        assert await uow.deployments.history("churn") == []
    assert requests_to(sim) == {}


async def test_no_dead_end_by_dialog_button_or_rollback(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    """alice owns churn and is the only admin: nobody else could pass the built-in gate."""
    async with Simulator(settings, clock=clock) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        dead_end = "Not started: *deploy* needs 1 approval from the owner <@UALICE> (the only admin)"

        assert dead_end in reply_text(await sim.command("/deploy churn 1.0.0"))
        await sim.command("/deploy churn")  # the dialog never opens
        assert sim.fake.opened_views == []
        button = {"channel": sim.channel, "ts": "1700000000.999999", "text": "v1", "blocks": [
            {"type": "actions", "block_id": "v", "elements": [
                {"type": "button", "action_id": ids.DEPLOY_VERSION, "value": "churn:1.0.0",
                 "text": {"type": "plain_text", "text": "Deploy 1.0.0"}}]}]}
        assert dead_end in said(await press(sim, button, ids.DEPLOY_VERSION))

        sim.switch_user("erin")  # erin deploys twice; alice approves
        for version in ("1.0.0", "1.1.0"):
            sim.switch_user("erin")
            await sim.command(f"/deploy churn {version}")
            sim.switch_user("alice")
            await press(sim, latest(sim), "deploy_approve")
        assert dead_end in reply_text(await sim.command("/deploy rollback churn"))
        async with sim.app.db.uow() as uow:
            assert [d.version for d in await uow.deployments.history("churn")] == ["1.1.0", "1.0.0"]


async def test_the_dialog_refuses_a_dead_end_pipeline_in_place(sim: Simulator) -> None:
    sim.switch_user("erin")
    await sim.command("/deploy churn")  # the use case's own pipeline is fine: the dialog opens
    step = await sim.submit("version=1.0.0 pipeline=solo")  # only erin could approve it
    assert step.reply is not None and step.reply["response_action"] == "update"
    assert "Not started: *deploy* needs 1 approval from <@UERIN>" in str(step.reply)
    await sim.command("/deploy churn")  # with a group, Slack is asked after the dialog closed
    await sim.submit("version=1.0.0 pipeline=only-erin")
    told = " ".join(c.args.get("text", "") for c in sim.fake.calls_to("chat.postEphemeral"))
    assert "Not started: *deploy* needs 1 approval from @on-call" in told
    async with sim.app.db.uow() as uow:
        assert await uow.deployments.active_for("churn") is None


async def test_a_requester_is_pointed_to_the_others_never_to_themselves(sim: Simulator) -> None:
    sim.switch_user("alice")  # an admin deploys; the owner and the other admin may approve
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    told = said(await press(sim, latest(sim), "deploy_approve"))
    assert "You requested deployment 1, so you cannot approve it; ask the owner <@UCAROL> or " \
           "an admin (<@UBOB>)." in told
    assert (await load(sim, d_id)).state is DeploymentState.AWAITING_APPROVAL
