"""A freeze's start and end are announced where it applies, once: a recurring window from the
pipeline file as it begins and ends (in every channel home to a use case it freezes), an ad hoc
one when it runs out (not again when it was lifted); windows that meet are named one after the
other, by a refusal and by the end of the first."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.freeze_passage import from_text
from bot.simulator.simulator import Simulator
from tests.scenario.conftest import START
from tests.scenario.deploy_support import load
from tests.scenario.helpers import post_text, posts, reply_text
from tests.scenario.test_dialog_flows import told
from tests.scenario.test_freeze_policy import RECURRING, gated_sim

# START (tests/scenario/conftest.py) is Monday 2 March 2026, 09:00 UTC; Berlin is UTC+1 then.
TO_FRIDAY_18_BERLIN = timedelta(days=4, hours=8)          # Friday 6 March, 17:00 UTC
WEEKEND = timedelta(days=2, hours=15)                     # to Monday 9 March, 08:00 UTC
CHURN_ONLY = RECURRING.replace('reason = "weekend"', 'reason = "weekend"\nuse_cases = ["churn"]')


def said(sim: Simulator, channel: str, words: str) -> list[str]:
    return [text for p in posts(sim, channel) if words in (text := post_text(p))]


async def at(sim: Simulator, clock: ManualClock, moment: timedelta) -> None:
    """Move the clock to START + ``moment`` and let everything due happen."""
    clock.advance(moment - (clock.now() - START))
    await sim.app.settle()


async def test_a_recurring_window_is_announced_as_it_begins_and_ends_once(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        general = sim.channel
        sim.switch_channel("forecasting")
        await sim.command('/usecase new forecast "Forecast demand"')
        forecasting = sim.channel

        await at(sim, clock, TO_FRIDAY_18_BERLIN - timedelta(seconds=1))
        assert not said(sim, general, "has begun")
        await at(sim, clock, TO_FRIDAY_18_BERLIN + timedelta(seconds=1))
        for channel, slug in ((general, "churn"), (forecasting, "forecast")):
            [begun] = said(sim, channel, "has begun")
            assert f"The freeze “weekend” (pipeline file) has begun: deployments of *{slug}*" in begun
            assert "are refused until 2026-03-09 08:00 UTC" in begun and "override=" in begun

        await asyncio.gather(sim.app.scheduler.announce_freezes(),
                             sim.app.scheduler.announce_freezes())  # two processes at once
        await at(sim, clock, TO_FRIDAY_18_BERLIN + timedelta(hours=2))
        assert len(said(sim, general, "has begun")) == 1

        await at(sim, clock, TO_FRIDAY_18_BERLIN + WEEKEND + timedelta(seconds=1))
        [over] = said(sim, general, "is over")
        assert "The freeze “weekend” (pipeline file) is over: deployments of *churn* may start again" in over
        await at(sim, clock, TO_FRIDAY_18_BERLIN + WEEKEND + timedelta(minutes=30))
        assert len(said(sim, forecasting, "is over")) == 1
    finally:
        await sim.stop()


async def test_a_freeze_of_some_use_cases_is_announced_only_where_they_live(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, CHURN_ONLY)
    try:
        general = sim.channel
        sim.switch_channel("forecasting")
        await sim.command('/usecase new forecast "Forecast demand"')
        await at(sim, clock, TO_FRIDAY_18_BERLIN + timedelta(minutes=1))
        assert len(said(sim, general, "has begun")) == 1
        assert not said(sim, sim.channel, "has begun")
    finally:
        await sim.stop()


async def test_an_ad_hoc_freeze_that_runs_out_is_announced_one_lifted_is_not_again(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        await sim.command('/deploy freeze churn 2h "quarter close"')
        await at(sim, clock, timedelta(hours=2, seconds=1))
        [over] = said(sim, sim.channel, "is over")
        assert "The freeze “quarter close” (ad hoc) is over: deployments of *churn* may start" in over

        await sim.command('/deploy freeze churn 2h "db move"')
        lifted = reply_text(await sim.command("/deploy unfreeze churn"))
        assert "no longer frozen" in lifted
        await at(sim, clock, timedelta(hours=3))
        assert len(said(sim, sim.channel, "is over")) == 1
        assert len(said(sim, sim.channel, "lifted the freeze of")) == 1

        await sim.command('/deploy freeze churn 1h "db move"')
        await sim.command('/deploy freeze all 3h "incident review"')
        await at(sim, clock, timedelta(hours=4, seconds=1))
        [stays] = said(sim, sim.channel, "“db move” (ad hoc) is over")
        assert "*churn* stays frozen: the freeze “incident review” (ad hoc) until" in stays
    finally:
        await sim.stop()


async def test_a_freeze_of_all_is_announced_in_every_channel_home_to_a_use_case(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        general = sim.channel
        sim.switch_channel("forecasting")
        await sim.command('/usecase new forecast "Forecast demand"')
        forecasting = sim.channel
        sim.switch_channel("ops-room")
        answer = reply_text(await sim.command('/deploy freeze all 1h "incident review"'))
        assert "announced in" in answer
        for channel in (sim.channel, general, forecasting):
            assert len(said(sim, channel, "froze deployments of *all use cases*")) == 1
        await at(sim, clock, timedelta(hours=1, seconds=1))
        [over] = said(sim, forecasting, "is over")
        assert "deployments of *forecast* may start again" in over
    finally:
        await sim.stop()


async def test_windows_that_meet_are_named_one_after_the_other(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        await at(sim, clock, TO_FRIDAY_18_BERLIN - timedelta(hours=3))
        await sim.command('/deploy freeze churn 3h "release party"')  # ends as the weekend begins
        sim.switch_user("erin")
        refused = reply_text(await sim.command("/deploy churn 4.0.0"))
        assert ("the freeze “release party” (ad hoc) until 2026-03-06 17:00 UTC, then “weekend” "
                "(pipeline file) until 2026-03-09 08:00 UTC") in refused
        await at(sim, clock, TO_FRIDAY_18_BERLIN + timedelta(seconds=1))
        [over] = said(sim, sim.channel, "is over")
        assert "The freeze “release party” (ad hoc) is over. *churn* stays frozen: the freeze " \
               "“weekend” (pipeline file) until 2026-03-09 08:00 UTC." in over
        assert len(said(sim, sim.channel, "has begun")) == 1
    finally:
        await sim.stop()


# ── the deploy dialog inside a freeze ─────────────────────────────────────────────────────


async def test_the_deploy_dialog_in_a_freeze_refuses_non_admins_and_asks_admins_why(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        await sim.command('/deploy freeze churn 2h "quarter close"')
        sim.switch_user("erin")  # may deploy churn, but is no admin
        await sim.command("/deploy churn")
        assert sim.fake.opened_views == []
        assert "Deployments of `churn` are frozen: the freeze “quarter close” (ad hoc)" in \
            told(sim, "UERIN")

        sim.switch_user("alice")
        await sim.command("/deploy churn")
        view = sim.fake.opened_views[-1]
        assert "are frozen: the freeze “quarter close” (ad hoc) until" in json.dumps(
            view["blocks"], ensure_ascii=False)
        with pytest.raises(LookupError, match="is required"):
            await sim.submit("version=1.0.0")
        await sim.submit('version=1.0.0 override="hotfix approved by the CFO"')
        d = await load(sim, 1)
        kept = from_text(d.override)  # the facts, worded when shown
        assert kept is not None and kept.reason == "hotfix approved by the CFO"
        assert [w.reason for w in kept.windows] == ["quarter close"]
        assert len(said(sim, sim.channel, "despite a freeze")) == 1
    finally:
        await sim.stop()


async def test_lifting_an_ad_hoc_freeze_inside_a_recurring_one_says_it_stays_frozen(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        await at(sim, clock, TO_FRIDAY_18_BERLIN + timedelta(hours=1))
        await sim.command('/deploy freeze churn 1h "db move"')
        lifted = reply_text(await sim.command("/deploy unfreeze churn"))
        assert "Lifted the ad hoc freeze of *churn*, but it stays frozen: the freeze “weekend” " \
               "(pipeline file) until 2026-03-09 08:00 UTC" in lifted
    finally:
        await sim.stop()


async def test_an_open_home_tab_follows_a_freeze_as_it_is_made_and_as_it_ends(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path)
    try:
        _step, view = await sim.open_home()
        assert "❄️ Freezes" not in json.dumps(view, ensure_ascii=False)

        async def home() -> str:
            await sim.app.home.settle()
            return json.dumps(sim.fake.views.get(sim.user), ensure_ascii=False)

        await sim.command('/deploy freeze churn 1h "quarter close"')
        assert "❄️ Freezes" in await home() and "quarter close" in await home()
        await at(sim, clock, timedelta(hours=1, seconds=1))  # its end is announced
        assert "quarter close" not in (await home()).split("Your use cases")[0]
    finally:
        await sim.stop()


async def test_the_running_scheduler_announces_freezes_a_second_past_each_minute(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    sim = await gated_sim(settings, clock, tmp_path, RECURRING)
    try:
        await sim.app.scheduler.start()
        job = next(j for j in sim.app.scheduler.jobs() if j.id == "freeze-notices")
        assert str(job.trigger).startswith("cron[") and "second='1'" in str(job.trigger)
        clock.advance(TO_FRIDAY_18_BERLIN + timedelta(seconds=1))
        assert await job.func() == 1  # what the job runs: the start, announced once
        assert await job.func() == 0
    finally:
        await sim.app.scheduler.stop()
        await sim.stop()
