"""Rollouts tell the truth, checked against what really happened: a deployer that writes each
target's version to a file (examples/scripts/fleet.py) and a health check that fails on a
chosen wave. Every message, `/deploy status`, the card, the list, Home and the digest must say
what the files say; a halt names the owner and the requester; a failed rollback names them and
the admins and locks the use case until someone has looked."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import (
    announcements,
    deploy,
    load,
    message_text,
    press,
    thread,
    write_pipeline,
)
from tests.scenario.helpers import post_text, posts, reply_text

FLEET_PY = Path(__file__).resolve().parents[2] / "examples" / "scripts" / "fleet.py"
TARGETS = ["web-1", "web-2", "web-3", "web-4"]  # waves "1", "50%", "100%": 1 | 1 | 2


def pipeline(name: str, on_failure: str) -> str:
    deployer = json.dumps([sys.executable, str(FLEET_PY), "deploy", "{version}", "{targets}"])
    health = json.dumps([sys.executable, str(FLEET_PY), "health", "{version}", "{wave}"])
    return f"""
[pipelines.{name}]
[[pipelines.{name}.stages]]
name = "deploy"
run = {{ executor = "command", argv = {deployer} }}
targets = {json.dumps(TARGETS)}
waves = ["1", "50%", "100%"]
health = {{ executor = "command", argv = {health} }}
on_failure = "{on_failure}"
approval = {{ required = 1 }}
"""


class Fleet:
    """The stand-in servers: what each runs, and the rules fleet.py follows."""

    def __init__(self, root: Path) -> None:
        self.dir, self.rules = root / "fleet", root / "fleet.toml"
        self.unhealthy: dict[str, int] = {}
        self.one_way: list[str] = []

    def rule(self, *, unhealthy: dict[str, int] | None = None, one_way: list[str] | None = None) -> None:
        self.unhealthy.update(unhealthy or {})
        self.one_way += one_way or []
        lines = ["[unhealthy]", *(f'"{v}" = {w}' for v, w in self.unhealthy.items()),
                 "[one_way]", f"versions = {json.dumps(self.one_way)}"]
        self.rules.write_text("\n".join(lines) + "\n")

    def runs(self) -> dict[str, str]:
        return {t: (self.dir / t).read_text().strip() for t in TARGETS if (self.dir / t).exists()}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    found = Fleet(tmp_path)
    found.rule()
    monkeypatch.setenv("FLEET_DIR", str(found.dir))  # the command executor passes them on
    monkeypatch.setenv("FLEET_RULES", str(found.rules))
    return found


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock, tmp_path: Path,
              fleet: Fleet) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, 'default = "fleet"\n' + pipeline("fleet", "rollback")
                          + pipeline("canary", "halt"))
    # carol owns churn; alice and bob are the admins; erin, the devops engineer, deploys.
    admins = frozenset({"UALICE", "UBOB"})
    async with Simulator(replace(settings, pipelines_path=str(path), admins=admins),
                         clock=clock) as simulator:
        await simulator.command('/usecase new churn "Predict churn" owner=@carol')
        await simulator.command("/usecase team churn add @erin devops")
        yield simulator


async def shipped(sim: Simulator, version: str, pipeline_name: str = "") -> int:
    """erin deploys ``version``; alice approves; returns the deployment's id."""
    sim.switch_user("erin")
    extra = f" pipeline={pipeline_name}" if pipeline_name else ""
    d_id = await deploy(sim, f"/deploy churn {version}{extra}")
    sim.switch_user("alice")
    await press(sim, d_id, "deploy_approve")
    return d_id


def said_in_channel(sim: Simulator) -> str:
    return "\n".join(post_text(p) for p in posts(sim, sim.channel))


async def test_a_halted_rollout_says_what_runs_where_and_names_who_must_act(
        sim: Simulator, fleet: Fleet) -> None:
    await shipped(sim, "1.0.0")
    assert fleet.runs() == dict.fromkeys(TARGETS, "1.0.0")
    fleet.rule(unhealthy={"2.0.0": 2})

    halted = await shipped(sim, "2.0.0", "canary")

    # The truth: wave 2's run put 2.0.0 on web-2 before its health check failed.
    assert fleet.runs() == {"web-1": "2.0.0", "web-2": "2.0.0", "web-3": "1.0.0", "web-4": "1.0.0"}
    d = await load(sim, halted)
    assert d.state is DeploymentState.FAILED
    truth = "`2.0.0` on 2 of 4 targets (web-1, web-2), `1.0.0` on 2 (web-3, web-4)"
    assert f"🎯 *Targets now:* {truth}" in message_text(sim, halted)
    assert "▰▰▰▰▰▱▱▱▱▱ 50% · 2/4 targets" in message_text(sim, halted)  # not 1/4: wave 2 ran
    [end] = announcements(sim, halted)
    assert "⚠️ <@UCAROL> <@UERIN> — Failed: deployment 2" in end  # owner and requester, once each
    assert truth in end and 'Nothing was rolled back: the stage halts on failure' in end
    assert "<@UALICE>" not in end  # a halt is the owner's and the requester's, not the admins'
    status = reply_text(await sim.command("/deploy status churn"))
    assert truth in status
    assert "In production:* `2.0.0` on 2 of 4 targets, `1.0.0` on 2 · ⚠️ needs attention" in status

    card = reply_text(await sim.command("/usecase show churn"))
    assert "*In production:* `2.0.0` on 2 of 4 targets, `1.0.0` on 2 · ⚠️ needs attention" in card
    listed = reply_text(await sim.command("/usecase list"))
    assert "🎯 `2.0.0` on 2 of 4 targets, `1.0.0` on 2" in listed
    await sim.command("/digest now")
    digest = post_text(posts(sim, sim.channel)[-1])
    assert "⚠️ Needs attention (1)" in digest and "*churn* — `2.0.0` on 2 of 4 targets" in digest
    sim.switch_user("carol")
    _step, home = await sim.open_home()
    assert "⚠️ Needs attention (1)" in json.dumps(home, ensure_ascii=False)


async def test_a_health_failure_rolled_back_restores_every_target(
        sim: Simulator, fleet: Fleet) -> None:
    await shipped(sim, "1.0.0")
    fleet.rule(unhealthy={"2.0.0": 2})

    failed = await shipped(sim, "2.0.0")

    [rollback] = [d for d in await sim_history(sim) if d.kind == "rollback"]
    assert rollback.state is DeploymentState.SUCCEEDED
    assert fleet.runs() == dict.fromkeys(TARGETS, "1.0.0")
    [end] = announcements(sim, failed)
    assert f"Rolling back to `1.0.0` (rollback {rollback.id})" in end
    assert "<@UCAROL>" not in end  # the rollback is under way: nobody needs to act yet
    assert "`1.0.0` on all 4 targets" in message_text(sim, rollback.id or 0)
    card = reply_text(await sim.command("/usecase show churn"))
    assert "*In production:* `1.0.0` on all 4 targets since" in card
    assert "needs attention" not in card


async def test_a_failed_rollback_locks_and_names_the_owner_the_requester_and_the_admins(
        sim: Simulator, fleet: Fleet) -> None:
    await shipped(sim, "1.0.0")
    fleet.rule(unhealthy={"2.0.0": 2}, one_way=["2.0.0"])  # 1.0.0 cannot go back over 2.0.0

    failed = await shipped(sim, "2.0.0")

    [rollback] = [d for d in await sim_history(sim) if d.kind == "rollback"]
    assert rollback.state is DeploymentState.FAILED and rollback.rollback_of == failed
    # It ran on web-1 and web-2 at once and failed: what it left there is unknown to the bot.
    assert fleet.runs() == {"web-1": "2.0.0", "web-2": "2.0.0", "web-3": "1.0.0", "web-4": "1.0.0"}
    [end] = announcements(sim, rollback.id or 0)
    assert end.count("🆘 <@UCAROL> <@UERIN> <@UALICE> <@UBOB> — Failed: rollback") == 1
    assert "unknown on 2 of 4 targets (web-1, web-2), `1.0.0` on 2 (web-3, web-4)" in end
    assert "churn* is locked" in end

    sim.switch_user("erin")
    refused = reply_text(await sim.command("/deploy churn 2.0.1"))
    assert "locked by the bot since" in refused and f"when rollback {rollback.id} failed" in refused
    status = reply_text(await sim.command("/deploy status churn"))
    assert "🔒 Locked by the bot since" in status and "check what the targets run" in status
    await sim.command("/digest now")
    digest = post_text(posts(sim, sim.channel)[-1])
    assert "⚠️ Needs attention (1)" in digest and f"when rollback {rollback.id} failed" in digest

    # Someone looked and fixed the targets: unlocked, a new version settles it.
    fleet.one_way.clear()
    fleet.rule()
    await sim.command("/deploy unlock churn")
    await shipped(sim, "2.0.1")
    assert fleet.runs() == dict.fromkeys(TARGETS, "2.0.1")
    card = reply_text(await sim.command("/usecase show churn"))
    assert "*In production:* `2.0.1` on all 4 targets since" in card and "attention" not in card


async def test_what_runs_in_production_is_said_everywhere_and_never_deployed_says_so(
        sim: Simulator, fleet: Fleet) -> None:
    never = "never deployed"
    assert never in reply_text(await sim.command("/usecase show churn"))
    assert f"🎯 {never}" in reply_text(await sim.command("/usecase list"))
    assert never in reply_text(await sim.command("/deploy status churn"))

    await shipped(sim, "1.0.0")

    since = "`1.0.0` on all 4 targets since 2026-03-02 09:00 UTC (deployment 1)"
    assert since in reply_text(await sim.command("/usecase show churn"))
    assert since in reply_text(await sim.command("/deploy status churn"))
    assert "🎯 `1.0.0`" in reply_text(await sim.command("/usecase list"))
    await sim.command("/digest now")
    assert f"*churn*: {since}" in post_text(posts(sim, sim.channel)[-1])
    sim.switch_user("carol")
    _step, home = await sim.open_home()
    assert "🎯 `1.0.0`" in json.dumps(home, ensure_ascii=False)


async def test_a_failure_reason_is_said_once_on_each_surface(sim: Simulator, fleet: Fleet) -> None:
    fleet.rule(unhealthy={"1.0.0": 1})
    d_id = await shipped(sim, "1.0.0", "canary")
    reason = "deploy health check (wave 1) failed"
    assert message_text(sim, d_id).count(reason) == 1  # the footer, not the stage line too
    notes = [n for n in thread(sim, d_id) if "error rate" in n]
    assert len(notes) == 1  # the output, once
    [dm] = [c.args["text"] for c in sim.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == "UERIN" and "failed" in c.args.get("text", "")]
    assert "failed at `deploy`" in dm and "error rate" not in dm and "— <https://" in dm


async def sim_history(sim: Simulator) -> list[Deployment]:
    async with sim.app.db.uow() as uow:
        return await uow.deployments.history("churn", limit=20)
