"""Deploy policy, end to end: ad hoc freeze windows refuse a `/deploy` naming the window, its
reason and its end; an admin's override passes one (audited, on the message, announced); a stage
that has not started waits out a window and continues when it ends; recurring windows from the
pipeline file; `/deploy freezes`; `unfreeze`; and who may do what."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState, StageState
from bot.domain.freeze_passage import from_text
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import deploy, events, load, message_text, press, thread
from tests.scenario.helpers import post_text, posts, reply_text

GATED = """
[[pipelines.release.stages]]
name = "build"
run = { executor = "dry-run" }
[[pipelines.release.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { required = 1 }
"""
RECURRING = """
[[freezes]]
cron = "0 18 * * fri"
duration = "2d15h"
tz = "Europe/Berlin"
reason = "weekend"
"""


async def gated_sim(settings: Settings, clock: ManualClock, tmp_path: Path,
                    extra: str = "") -> Simulator:
    path = tmp_path / "pipelines.toml"
    path.write_text(GATED + extra, encoding="utf-8")
    # Two admins: what alice starts (as the owner, or passing a freeze) bob may approve.
    admins = frozenset({"UALICE", "UBOB"})
    sim = Simulator(replace(settings, pipelines_path=str(path), admins=admins), clock=clock)
    await sim.start()
    await sim.command('/usecase new churn "Predict churn"')  # alice, an admin, owns it
    await sim.command("/usecase team churn add @erin devops")
    return sim


def channel_texts(sim: Simulator) -> str:
    return " ".join(post_text(p) for p in posts(sim, sim.channel))


async def test_a_freeze_refuses_a_deploy_naming_it_and_an_admin_overrides_it(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        sim.switch_user("erin")
        refused = reply_text(await sim.command('/deploy freeze churn 2h "quarter close"'))
        assert "Only admins may freeze deployments" in refused
        sim.switch_user("alice")
        frozen = reply_text(await sim.command('/deploy freeze churn 2h "quarter close"'))
        assert "frozen until" in frozen
        assert "froze deployments of churn for 2 hours" in channel_texts(sim).replace("*", "")

        sim.switch_user("erin")
        said = reply_text(await sim.command("/deploy churn 1.0.0"))
        assert "Deployments of `churn` are frozen: the freeze “quarter close” (ad hoc) until" in said
        assert 'override=\\"<reason>\\"' in said or 'override="<reason>"' in said
        denied = reply_text(await sim.command('/deploy churn 1.0.0 override="urgent"'))
        assert "Only admins may override a freeze window" in denied
        for listing in ("/deploy freezes churn", "/deploy freezes"):
            listed = reply_text(await sim.command(listing))
            assert "quarter close" in listed and "(ad hoc)" in listed and "churn" in listed

        sim.switch_user("alice")
        d_id = await deploy(sim, '/deploy churn 1.0.0 override="hotfix for the CFO"')
        trail = await events(sim, d_id)
        kept = from_text([e for e in trail if e.kind == "override"][0].detail)
        assert kept is not None and kept.reason == "hotfix for the CFO"
        assert "freezes overridden: hotfix for the CFO" in message_text(sim, d_id)
        assert "started deployment" in channel_texts(sim) and "despite a freeze" in channel_texts(sim)
    finally:
        await sim.stop()


async def test_a_stage_not_started_waits_out_the_window_and_then_continues(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        sim.switch_user("erin")
        d_id = await deploy(sim, "/deploy churn 2.0.0")  # build passes; deploy waits at its gate
        sim.switch_user("alice")
        await sim.command('/deploy freeze all 1h "incident review"')
        await press(sim, d_id, "deploy_approve")
        d = await load(sim, d_id)
        assert d.state is DeploymentState.RUNNING and d.stages[1].state is StageState.RUNNING
        assert any("waits for the freeze “incident review”" in note for note in thread(sim, d_id))
        held = message_text(sim, d_id)  # held is not running, and says until when
        assert "❄️ *deploy* · held by a freeze until 2026-03-02 10:00 UTC" in held
        assert "🔄 *deploy*" not in held and "*❄️ Held by a freeze*" in held

        clock.advance(timedelta(minutes=61))
        await sim.app.settle()
        # The hour it was held is not its run time.
        assert "✅ *deploy* · passed · less than a second" in message_text(sim, d_id)
        assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
    finally:
        await sim.stop()


async def test_recurring_windows_from_the_pipeline_file_and_unfreeze(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    # START (tests/scenario/conftest.py) is Monday 2 March 2026, 09:00 UTC.
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        listed = reply_text(await sim.command("/deploy freezes"))
        assert "weekend" in listed and "(pipeline file)" in listed
        clock.advance(timedelta(days=4, hours=8))  # Friday 17:00 UTC = 18:00 in Berlin
        said = reply_text(await sim.command("/deploy churn 3.0.0"))
        assert "the freeze “weekend” (pipeline file) until" in said
        lifted = reply_text(await sim.command("/deploy unfreeze churn"))
        assert "No freeze of *churn* to lift" in lifted
        clock.advance(timedelta(days=3))  # Monday 17:00 UTC: the weekend is over
        d_id = await deploy(sim, "/deploy churn 3.0.0")
        assert (await load(sim, d_id)).state is not DeploymentState.FAILED
    finally:
        await sim.stop()
