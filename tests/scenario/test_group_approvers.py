"""Approvers named by user group: membership is asked of Slack when someone clicks, before the
transaction that decides — no database connection is held while Slack answers — and for a
short while remembered."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.simulator.fake_slack import RecordedCall
from tests.scenario.deploy_helpers import deployment, latest, press
from tests.scenario.deploy_support import simulator, with_pipeline, write_pipeline
from tests.scenario.helpers import reply_text

PIPELINE = """
[pipelines.default]
[[pipelines.default.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { approvers = ["@release-managers"] }
"""


async def test_a_member_of_the_group_approves_others_are_told_who_may(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with simulator(with_pipeline(settings, write_pipeline(tmp_path, PIPELINE)), clock) as sim:
        sim.fake.add_usergroup("release-managers", [sim.fake.user("carol").id])  # type: ignore[union-attr]
        held_while_asking: list[int] = []

        def watch(call: RecordedCall) -> None:  # runs while the bot awaits Slack's answer
            if call.method == "usergroups.users.list":
                held_while_asking.append(sim.app.db.engine.pool.checkedout())  # type: ignore[attr-defined]

        sim.fake.subscribe(watch)
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        sim.switch_user("erin")
        await sim.command("/deploy churn 1.0.0")
        message = latest(sim)

        sim.switch_user("dave")
        refused = await press(sim, message, "deploy_approve")
        assert "@release-managers" in reply_text(refused)
        assert (await deployment(sim, 1)).state is DeploymentState.AWAITING_APPROVAL

        sim.switch_user("carol")
        await press(sim, message, "deploy_approve")
        assert (await deployment(sim, 1)).state is DeploymentState.SUCCEEDED

        assert held_while_asking and set(held_while_asking) == {0}, held_while_asking
        # dave's and carol's clicks within half a minute: the group was asked about once.
        assert len(sim.fake.calls_to("usergroups.users.list")) == 1
