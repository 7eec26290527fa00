"""A use case homed in a private channel or group DM is seen by that channel's members only:
not in `/usecase list` or `show` elsewhere, not on anyone else's Home, not in the digest of a
channel without use cases of its own (security review, issue 23, finding G7).

The world: @alice (admin) and @bob share the private #deals, where `pricing` ("Secret pricing
model") lives, with @carol (not in #deals) on its team; `churn` lives in the public #general.
@dave is in no private channel.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import Receiver, running_ship_pipeline, simulator, with_pipeline
from tests.scenario.dora_support import deploy_approved, real_simulator
from tests.scenario.helpers import post_text, posts, reply_text
from tests.scenario.test_home import announcement_lines, text_of

SECRET = "Secret pricing model"


async def with_deals(sim: Simulator, *, also: tuple[str, ...] = ()) -> str:
    """churn in #general; pricing in the private #deals (alice, bob and ``also``), carol on its
    team, moved to Dev with a note. Returns #deals' id; alice is back in #general."""
    await sim.command('/usecase new churn "Predict churn"')
    deals = sim.switch_channel("deals", private_with=["@bob", *also])
    assert deals == "deals"
    await sim.command(f'/usecase new pricing "{SECRET}"')
    await sim.command("/usecase team pricing add @carol data-scientist")
    await sim.command("/usecase team pricing add @bob devops")
    await sim.command('/usecase advance pricing "term sheet signed"')
    sim.switch_channel("general")
    channel = sim.fake.channel("deals")
    assert channel is not None and channel.is_private
    return channel.id


async def as_user(sim: Simulator, user: str, line: str, channel: str = "general") -> str:
    sim.switch_user(user)
    sim.switch_channel(channel)
    return reply_text(await sim.command(line))


async def test_list_shows_a_private_channels_use_case_to_its_members_only(sim: Simulator) -> None:
    await with_deals(sim)

    for outsider in ("dave", "carol"):  # carol is on its team, but not in #deals
        listed = await as_user(sim, outsider, "/usecase list")
        assert "*churn*" in listed and "Use cases (1)" in listed
        assert "pricing" not in listed and SECRET not in listed
        assert "pricing" not in await as_user(sim, outsider, "/usecase list phase=dev")
    assert "pricing" not in await as_user(sim, "carol", "/usecase list mine")
    assert "pricing" not in await as_user(sim, "dave", "/usecase list owner=@alice")
    # Members see it from any channel, public or the private one itself.
    assert "*pricing*" in await as_user(sim, "bob", "/usecase list")
    assert "*pricing*" in await as_user(sim, "bob", "/usecase list mine")
    listed = await as_user(sim, "alice", "/usecase list", "deals")
    assert "*pricing*" in listed and "*churn*" in listed and "Use cases (2)" in listed


async def test_show_to_someone_outside_the_channel_answers_as_for_an_unknown_slug(
    sim: Simulator,
) -> None:
    await with_deals(sim)

    hidden = await as_user(sim, "dave", "/usecase show pricing")
    unknown = await as_user(sim, "dave", "/usecase show zebra")
    assert "There is no use case `pricing`" in hidden
    assert hidden.replace("pricing", "X") == unknown.replace("zebra", "X"), "the same answer"
    assert SECRET not in hidden and "CDEALS" not in hidden
    # A typo is not told the private slug it is close to.
    for outsider in ("dave", "carol"):
        typo = await as_user(sim, outsider, "/usecase show pricin")
        assert "pricing`" not in typo and "Did you mean" not in typo
    # A member sees the card anywhere, and is helped with a typo in the channel itself.
    shown = await as_user(sim, "bob", "/usecase show pricing")
    assert SECRET in shown and "*Channel:* <#CDEALS>" in shown
    assert "Did you mean `pricing`?" in await as_user(sim, "bob", "/usecase show pricin", "deals")


@pytest.mark.parametrize("line", [
    "/deploy status {slug}", "/deploy history {slug}", "/deploy {slug} 1.0", "/deploy {slug}",
    "/deploy rollback {slug}", "/deploy freezes {slug}", "/metric show {slug}",
    "/metric record {slug} accuracy 0.9", '/usecase advance {slug} "go"', "/usecase link {slug} model m",
])
async def test_every_command_naming_a_private_use_case_answers_outsiders_as_for_an_unknown_slug(
    sim: Simulator, line: str,
) -> None:
    await with_deals(sim)
    for outsider in ("carol", "dave"):  # carol is on its team, but not in #deals
        hidden = await as_user(sim, outsider, line.format(slug="pricing"))
        unknown = await as_user(sim, outsider, line.format(slug="zebra"))
        assert "There is no use case `pricing`" in hidden, hidden
        assert hidden.replace("pricing", "X") == unknown.replace("zebra", "X"), "the same answer"
        assert SECRET not in hidden and "CDEALS" not in hidden
    # bob, in #deals, is answered about it from anywhere (whatever the answer, or a dialog, is)
    sim.switch_user("bob")
    step = await sim.command(line.format(slug="pricing"))
    assert "There is no use case" not in str(step.responses)
    shown = await as_user(sim, "alice", "/usecase show pricing", "deals")
    assert "Secret pricing model: Dev," in shown, "nothing the outsiders typed changed it"


async def test_home_shows_a_private_use_case_and_its_announcements_to_members_only(
    sim: Simulator,
) -> None:
    await with_deals(sim)

    for outsider in ("carol", "dave"):
        sim.switch_user(outsider)
        _step, view = await sim.open_home()
        assert view is not None
        home = text_of(view)
        assert "pricing" not in home and SECRET not in home and "term sheet" not in home
        assert all("CDEALS" not in line for line in announcement_lines(view))
    assert "You own or work on no use case yet" in text_of(sim.fake.views["UCAROL"])
    sim.switch_user("bob")
    _step, view = await sim.open_home()
    assert view is not None
    assert "*pricing* — Secret pricing model" in text_of(view) and "you: devops" in text_of(view)
    assert any(line.startswith("<#CDEALS>") for line in announcement_lines(view))



async def test_home_shows_a_private_use_cases_running_deployment_to_members_only(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver,
) -> None:
    path = running_ship_pipeline(tmp_path, receiver)  # the stage keeps running
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await with_deals(sim)
        await sim.command("/deploy pricing 3.1.0")
        await sim.command("/deploy churn 1.0.0")

        sim.switch_user("dave")
        _step, view = await sim.open_home()
        assert "Deployment 2: churn 1.0.0" in text_of(view)
        assert "pricing" not in text_of(view)
        sim.switch_user("bob")
        _step, view = await sim.open_home()
        assert "Deployment 1: pricing 3.1.0" in text_of(view)


def digest_text(sim: Simulator, channel: str) -> str:
    [digest] = [p for p in posts(sim, channel) if "BizDevOps digest" in post_text(p)]
    return post_text(digest)


async def test_a_workspace_digest_leaves_private_use_cases_and_their_counts_out(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:  # DORA counts real deployments
        deals = await with_deals(sim, also=("@erin",))  # erin deploys it: she is in #deals
        await sim.command("/usecase team pricing add @erin devops")
        await sim.command("/metric record pricing margin 0.31")
        await deploy_approved(sim, clock, "pricing", "1.0.0", timedelta(hours=2))
        clock.advance(timedelta(hours=1))

        await as_user(sim, "dave", "/digest now", "data-science")  # no use cases of its own
        text = digest_text(sim, sim.channel)
        assert "*1 use case* · 💼 Biz 1" in text
        assert "the use cases of every public channel (none is homed here)" in text
        for secret in ("pricing", SECRET, "term sheet", "margin", "DORA", "1.0.0"):
            assert secret not in text, secret
        # #deals' own digest is for its members: there it all is.
        await as_user(sim, "alice", "/digest now", "deals")
        own = digest_text(sim, deals)
        assert "every public channel" not in own
        for said in ("pricing", "term sheet", "margin", "DORA", "1.0.0"):
            assert said in own, said


async def test_the_workspace_dora_card_counts_and_names_no_private_use_case(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:
        await with_deals(sim, also=("@erin",))  # erin deploys it: she is in #deals
        await sim.command("/usecase team pricing add @erin devops")
        await sim.command("/usecase team churn add @erin devops")
        await deploy_approved(sim, clock, "pricing", "1.0.0", timedelta(hours=2))
        await deploy_approved(sim, clock, "pricing", "1.1.0", timedelta(hours=2))
        await deploy_approved(sim, clock, "churn", "2.0.0", timedelta(hours=2))

        card = await as_user(sim, "dave", "/metric dora")
        assert "pricing" not in card and "*churn*" in card
        assert "all use cases, 30 days: 0.233 per week" in card  # churn's 1 in 30 days, of 3
        assert "pricing" in await as_user(sim, "alice", "/metric dora pricing", "deals")


async def test_a_group_dms_use_case_is_for_the_people_in_it(sim: Simulator) -> None:
    sim.switch_channel("mpdm-alice--erin-1", private_with=["@erin"], group_dm=True)
    await sim.command('/usecase new bids "Bid shading"')

    assert "bids" not in await as_user(sim, "dave", "/usecase list")
    assert "There is no use case `bids`" in await as_user(sim, "dave", "/usecase show bids")
    assert "*bids*" in await as_user(sim, "erin", "/usecase list")


async def test_a_use_case_is_homed_only_where_the_bot_and_its_creator_can_see(
    sim: Simulator,
) -> None:
    sim.fake.add_channel("hush", private=True, members=["UALICE"], bot_invited=False)
    sim.switch_channel("hush")
    refused = reply_text(await sim.command('/usecase new quiet "Quiet one"'))
    assert "I can't see <#CHUSH>" in refused and "/invite @bizdevops" in refused

    await with_deals(sim)
    refused = await as_user(sim, "dave", '/usecase new snoop "Snoop" channel=#deals')
    assert "only in a private channel you are in" in refused
    listed = await as_user(sim, "alice", "/usecase list", "deals")
    assert "quiet" not in listed and "snoop" not in listed
    assert not [p for p in posts(sim, "CDEALS") if "snoop" in post_text(p)]


async def test_use_cases_from_before_privacy_was_recorded_learn_it_when_the_bot_starts(
    sim: Simulator,
) -> None:
    deals = await with_deals(sim)
    async with sim.app.db.uow() as uow:  # as migration 0016 leaves a private channel's C… id
        await uow.use_cases.set_private(deals, False)
        await uow.commit()
    assert "pricing" in await as_user(sim, "dave", "/usecase list")

    await sim.app.scheduler.start()  # asks Slack about every home channel, in the background
    try:
        [job] = [j for j in sim.app.scheduler.jobs() if j.id == "privacy"]
        assert job.trigger.interval == timedelta(hours=1)
        for _ in range(200):
            async with sim.app.db.uow() as uow:
                if (deals, True) in await uow.use_cases.channel_privacy():
                    break
            await asyncio.sleep(0.01)
        assert await job.func() == 0  # nothing changed since
    finally:
        await sim.app.scheduler.stop()
    assert "pricing" not in await as_user(sim, "dave", "/usecase list")
    assert "*pricing*" in await as_user(sim, "bob", "/usecase list")
