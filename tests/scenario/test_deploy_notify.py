"""`/deploy notify on|off` and the requester's direct messages, through the simulator: signed
slash commands and button presses, the outbox worker, the fake Slack Web API."""

from __future__ import annotations

import json
import re

from bot.simulator.fake_slack import Fault, RecordedCall
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.helpers import reply_text

PERMALINK = re.compile(r"<https://[a-z0-9]+\.slack\.com/archives/(C[A-Z0-9]+)/p(\d+)\|open>$")


async def _use_case(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')  # alice (admin) owns it
    await sim.command("/usecase team churn add @erin devops")


def dms_to(sim: Simulator, user_id: str) -> list[RecordedCall]:
    return [c for c in sim.fake.calls_to("chat.postMessage") if c.args.get("channel") == user_id]


async def test_the_requester_gets_a_dm_with_a_permalink_at_the_gate_and_at_the_end(
        sim: Simulator) -> None:
    await _use_case(sim)
    sim.switch_user("erin")
    erin = sim.user
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)
    [waiting] = dms_to(sim, erin)
    text = waiting.args["text"]
    assert text.startswith("✋ Your deployment 1 of churn `1.0.0` (dry run) waits for approval "
                           "at `deploy` from the owner <@UALICE> (the only admin) — <https://")
    found = PERMALINK.search(text)
    assert found is not None, text
    assert found.group(1) == message["channel"]
    assert sim.fake.calls_to("chat.getPermalink")
    posted_ts = [c.response["ts"] for c in sim.fake.calls_to("chat.postMessage")
                 if c.args.get("channel") == message["channel"]
                 and c.args.get("text", "").startswith("Deployment 1: churn 1.0.0")]
    assert found.group(2) == posted_ts[0].replace(".", "")

    sim.switch_user("alice")
    await press(sim, message, "deploy_approve")
    dms = [c.args["text"] for c in dms_to(sim, erin)]
    assert len(dms) == 2, dms
    assert dms[1].startswith("✅ Your deployment 1 of churn `1.0.0` (dry run) succeeded — <https://")
    # The approver had one direct message, the request; once decided it says so, buttons gone.
    [asked] = dms_to(sim, sim.user)
    assert asked.args["text"].startswith("✋ <@UERIN> asks for your approval: deployment 1")
    [decided] = [c for c in sim.fake.calls_to("chat.update") if c.args["channel"].startswith("D")]
    assert decided.args["text"].startswith("✅ Approved (<@UALICE> at ")
    assert not [b for b in decided.args["blocks"] if b["type"] == "actions"]
    _step, home = await sim.open_home()  # alice's Home lists announcements, never erin's DMs
    shown = json.dumps(home)
    assert "Recent announcements" in shown and "Your deployment" not in shown


async def test_notify_off_stops_the_dms_and_bad_input_is_refused(sim: Simulator) -> None:
    await _use_case(sim)
    sim.switch_user("erin")
    erin = sim.user
    assert "are *on*" in reply_text(await sim.command("/deploy notify"))
    assert "now *off*" in reply_text(await sim.command("/deploy notify off"))
    refused = reply_text(await sim.command("/deploy notify maybe"))
    assert "Say `on` or `off`" in refused and "/deploy notify [on|off]" in refused
    assert "are *off*" in reply_text(await sim.command("/deploy notify"))
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)
    sim.switch_user("alice")
    await press(sim, message, "deploy_approve")
    assert dms_to(sim, erin) == []
    help_text = reply_text(await sim.command("/deploy help"))
    assert "/deploy notify [on|off]" in help_text


async def test_without_a_permalink_the_dm_names_the_channel(sim: Simulator) -> None:
    await _use_case(sim)
    sim.switch_user("erin")
    sim.fake.inject("chat.getPermalink", Fault(status=200, error="message_not_found"))
    await sim.command("/deploy churn 1.0.0")
    channel = latest(sim)["channel"]
    [waiting] = dms_to(sim, sim.user)
    assert waiting.args["text"].endswith(f"waits for approval at `deploy` from the owner <@UALICE> "
                                         f"(the only admin) in <#{channel}>")
