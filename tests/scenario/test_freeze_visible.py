"""An open freeze window is visible where people plan: `/deploy status` (of a use case, and of
the workspace), the digest (the windows of the channel's use cases) and the Home tab (the windows
of the viewer's use cases) -- ad hoc ones and the pipeline file's recurring ones, until they end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import deploy
from tests.scenario.helpers import post_text, reply_text
from tests.scenario.test_digests import GENERAL, OPS, digests
from tests.scenario.test_freeze_policy import RECURRING, gated_sim
from tests.scenario.test_home import assert_within_home_limits, text_of

# START (tests/scenario/conftest.py) is Monday 2 March 2026, 09:00 UTC; times show in UTC.


async def digest_text(sim: Simulator, channel: str) -> str:
    """Post a digest in ``channel`` now and read it."""
    sim.channel = channel
    await sim.command("/digest now")
    return post_text(digests(sim, channel)[-1])


async def home_text(sim: Simulator, user: str) -> str:
    sim.switch_user(user)
    _step, view = await sim.open_home()
    assert view is not None
    assert_within_home_limits(view)
    return text_of(view)


async def test_status_shows_an_ad_hoc_freeze_and_its_end_with_or_without_a_deployment(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        await sim.command('/deploy freeze churn 2h "quarter close"')
        frozen = "❄️ Frozen: the freeze “quarter close” (ad hoc) until 2026-03-02 11:00 UTC"
        assert frozen in reply_text(await sim.command("/deploy status churn"))  # no deployment yet
        listed = reply_text(await sim.command("/deploy status"))
        assert "No deployment is running" in listed
        assert ("❄️ Deployments of *churn* are frozen until 2026-03-02 11:00 UTC: "
                "“quarter close” (ad hoc)") in listed

        await deploy(sim, '/deploy churn 1.0.0 override="hotfix"')  # waits at its gate
        await sim.command('/deploy lock churn "release train"')
        status = reply_text(await sim.command("/deploy status churn"))
        assert "Deployment 1: churn 1.0.0" in status and "Audit trail" in status
        assert frozen in status and "🔒 Locked by <@UALICE>" in status
        running = reply_text(await sim.command("/deploy status"))
        assert "Running deployments" in running and "Deployment 1: churn 1.0.0" in running
        assert "“quarter close” (ad hoc)" in running

        clock.advance(timedelta(hours=2))  # the window is half-open: over at 11:00
        for command in ("/deploy status churn", "/deploy status"):
            assert "frozen" not in reply_text(await sim.command(command)).lower()
    finally:
        await sim.stop()


async def test_a_digest_shows_the_windows_of_its_channels_use_cases_only(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)  # churn is homed in #general
    try:
        await sim.command('/usecase new pricing "Dynamic pricing" channel=#ops')
        await sim.command('/deploy freeze churn 2h "quarter close"')
        await sim.command('/deploy freeze pricing 3h "warehouse migration"')

        general = await digest_text(sim, GENERAL)
        assert "❄️ Frozen now (1)" in general and "quarter close" in general
        assert "warehouse migration" not in general
        assert "1 freeze window open" in digests(sim, GENERAL)[-1]["text"]  # the fallback too
        ops = await digest_text(sim, OPS)
        assert "warehouse migration" in ops and "quarter close" not in ops
        sim.switch_channel("random")  # no use cases of its own: the digest covers the workspace
        random = sim.channel
        everywhere = await digest_text(sim, random)
        assert "❄️ Frozen now (2)" in everywhere
        assert "quarter close" in everywhere and "warehouse migration" in everywhere

        clock.advance(timedelta(hours=3))
        for channel in (GENERAL, OPS, random):
            assert "Frozen now" not in await digest_text(sim, channel)
    finally:
        await sim.stop()


async def test_home_shows_the_windows_of_the_viewers_use_cases_or_of_all(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)  # alice owns churn
    try:
        await sim.command('/usecase new pricing "Dynamic pricing" owner=@dave channel=#ops')
        await sim.command('/deploy freeze pricing 3h "warehouse migration"')
        alice = await home_text(sim, "alice")  # (its recent announcements do tell of it)
        assert "❄️ Freezes" not in alice and "Deployments of *pricing* are frozen" not in alice
        dave = await home_text(sim, "dave")
        assert "❄️ Freezes" in dave and "Deployments of *pricing* are frozen until" in dave
        assert "“warehouse migration” (ad hoc)" in dave

        sim.switch_user("alice")
        await sim.command('/deploy freeze all 1h "incident review"')
        assert "Deployments of all use cases are frozen" in await home_text(sim, "frank")  # none

        clock.advance(timedelta(hours=3))
        for user in ("alice", "dave", "frank"):
            assert "❄️ Freezes" not in await home_text(sim, user)
    finally:
        await sim.stop()


async def test_a_recurring_window_shows_while_the_clock_is_inside_it(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)  # Fri 18:00 Berlin for 2d15h
    try:
        assert "❄️ Freezes" not in await home_text(sim, "alice")  # Monday: not yet
        clock.advance(timedelta(days=4, hours=8))  # Friday 17:00 UTC = 18:00 in Berlin
        status = reply_text(await sim.command("/deploy status churn"))
        assert "❄️ Frozen: the freeze “weekend” (pipeline file) until 2026-03-09 08:00 UTC" in status
        assert "“weekend” (pipeline file)" in reply_text(await sim.command("/deploy status"))
        assert "“weekend” (pipeline file)" in await digest_text(sim, GENERAL)
        home = await home_text(sim, "alice")
        assert "❄️ Freezes" in home and "Deployments of all use cases are frozen until" in home

        clock.advance(timedelta(days=3))  # Monday 17:00 UTC: the weekend is over
        sim.switch_user("alice")
        for command in ("/deploy status churn", "/deploy status"):
            assert "weekend" not in reply_text(await sim.command(command))
        assert "weekend" not in await digest_text(sim, GENERAL)
        assert "❄️ Freezes" not in await home_text(sim, "alice")
    finally:
        await sim.stop()
