"""`/metric <slug>`'s chart end to end: deployments made through the bot, values recorded, and
the upload the fake Slack receives — titled with the use case's title, its alt text saying the
latest value, the change, the target and the deployments to production of that use case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from tests.scenario.dora_support import deploy_approved, real_simulator
from tests.scenario.test_metrics import png_shape

TITLE = "Predict churn <EU> & friends"


async def test_the_uploaded_chart_names_the_use_case_and_its_deployments(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:
        await sim.command(f'/usecase new churn "{TITLE}"')
        await sim.command('/usecase new fraud "Detect card fraud"')
        for slug in ("churn", "fraud"):
            await sim.command(f"/usecase team {slug} add @erin devops")
        await sim.command("/metric target churn auc >= 0.83")
        await sim.command("/metric record churn auc 0.84 unit=ratio")
        await deploy_approved(sim, clock, "churn", "1.0.0", timedelta(hours=2))
        clock.advance(timedelta(days=3))
        await sim.command("/metric record churn auc 0.81 unit=ratio")
        await deploy_approved(sim, clock, "fraud", "7.0.0", timedelta(hours=2))  # not churn's
        await deploy_approved(sim, clock, "churn", "1.1.0-rc", timedelta(hours=2), pipeline="rehearsal")
        await deploy_approved(sim, clock, "churn", "1.1.0", timedelta(hours=2))
        clock.advance(timedelta(days=2))
        await sim.command("/metric record churn auc 0.79 unit=ratio")
        sim.switch_channel("ops")
        before = len(sim.fake.uploads)

        await sim.command("/metric show churn")

        [upload] = sim.fake.uploads[before:]
        assert upload["title"] == f"{TITLE} — auc, last 30 days"
        assert upload["filename"] == "kpis.png" and upload["channel_id"] == "COPS"
        alt = upload["alt_txt"]
        assert alt.startswith(f"{TITLE} — auc, ")
        assert "latest 0.79 ratio on " in alt
        assert "−0.05 ratio (−6.0%) since " in alt
        assert "target ≥ 0.83 ratio, not met" in alt
        assert alt.endswith("2 deployments to production in the period."), alt  # not the dry run, not fraud's
        height, width, _channels = png_shape(upload["content"])
        assert height >= 200 and width >= 600
        assert f"uploaded file {TITLE} — auc, last 30 days" in [m.text for m in sim.fake.messages("COPS")]
