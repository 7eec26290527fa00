"""The App Home tab: the viewer's use cases, approvals waiting for them (and deciding them from
Home), running deployments, recent announcements — within Slack's 100-block limit."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import usecases
from bot.domain.deployment_model import DeploymentState
from bot.simulator.signer import block_actions_body
from bot.simulator.simulator import Simulator, Step
from tests.scenario.conftest import START
from tests.scenario.deploy_helpers import deployment, latest, press
from tests.scenario.deploy_support import (
    Receiver,
    running_ship_pipeline,
    simulator,
    with_pipeline,
    write_pipeline,
)
from tests.scenario.helpers import post_text

MAX_HOME_BLOCKS, MAX_SECTION = 100, 3000


# ── readers and clicks ─────────────────────────────────────────────────────────────────────


def text_of(view: dict[str, Any] | None) -> str:
    assert view is not None, "no Home view was published"
    return json.dumps(view["blocks"], ensure_ascii=False)


def home_buttons(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        {**element, "block_id": block.get("block_id", "")}
        for block in view["blocks"] if block["type"] == "actions"
        for element in block["elements"] if element.get("action_id") == action_id
    ]


def approval_labels(view: dict[str, Any]) -> list[str]:
    """The gates offered: the section right before each pair of decision buttons."""
    blocks = view["blocks"]
    return [blocks[i - 1]["text"]["text"].split("\n")[0] for i, b in enumerate(blocks)
            if b["type"] == "actions" and any(e.get("action_id") == "deploy_approve"
                                              for e in b["elements"])]


def assert_within_home_limits(view: dict[str, Any]) -> None:
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= MAX_HOME_BLOCKS
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


async def press_on_home(sim: Simulator, view: dict[str, Any], action_id: str, index: int = 0) -> Step:
    """Click a button on the Home tab as the current user: Slack sends the view, no channel, no
    message and no response_url."""
    action = home_buttons(view, action_id)[index]
    body = block_actions_body(
        user_id=sim.user, user_name=sim.name_of(sim.user), channel_id=None,
        team_id=sim.fake.team_id, action=action, message=None, container=None,
        response_url="", trigger_id="1.2.home-trigger", view=view,
    )
    return await sim.send_signed(body, settle=sim.answered())


def dms(sim: Simulator, user: str) -> list[str]:
    """What the bot told ``user`` in their DM with it (answers to clicks on Home)."""
    return [c.args.get("text", "") for c in sim.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == user]


def publishes(sim: Simulator, user: str) -> list[dict[str, Any]]:
    return [c.args for c in sim.fake.calls_to("views.publish") if c.args.get("user_id") == user]


async def churn_at_gate(sim: Simulator, requester: str = "erin") -> dict[str, Any]:
    """churn (owner: alice, an admin) with erin (devops) and carol (data scientist); a deployment
    requested by ``requester`` waits at the gate before `deploy`."""
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/usecase team churn add @carol data-scientist")
    sim.switch_user(requester)
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)
    assert "awaiting approval" in post_text(message)
    return message


# ── approvals on Home ──────────────────────────────────────────────────────────────────────


async def test_home_shows_the_approvals_waiting_for_the_viewer_with_buttons(
    sim: Simulator, clock: ManualClock,
) -> None:
    await churn_at_gate(sim)
    clock.advance(timedelta(hours=2))
    sim.switch_user("alice")

    step, view = await sim.open_home()

    assert step.status == 200
    assert view is not None
    assert_within_home_limits(view)
    text = text_of(view)
    assert "✋ Waiting for your approval (1)" in text
    assert approval_labels(view) == ["*churn 1.0.0 · deploy (deployment 1)*"]
    assert "requested by <@UERIN> · waiting 2 hours · 1 more needed" in text
    [approve] = home_buttons(view, "deploy_approve")
    [reject] = home_buttons(view, "deploy_reject")
    assert (approve["text"]["text"], approve["style"]) == ("Approve", "primary")
    assert (reject["text"]["text"], reject["style"]) == ("Reject", "danger")
    # The buttons carry opaque server-side tokens, nothing a client could forge or edit.
    for button in (approve, reject):
        assert "churn" not in button["value"] and "deploy" not in button["value"]
        async with sim.app.db.uow() as uow:
            token = await uow.deployments.token(button["value"])
        assert token is not None and token.deployment_id == 1
    assert approve["value"] != reject["value"]
    # The use case appears too, with the viewer's part in it.
    assert "*churn* — Predict churn" in text and "you: owner" in text


async def test_approving_from_home_updates_the_deployment_message_and_republishes_home(
    sim: Simulator,
) -> None:
    await churn_at_gate(sim)
    sim.switch_user("alice")
    _step, view = await sim.open_home()
    assert view is not None
    updates_before = len(sim.fake.calls_to("chat.update"))
    publishes_before = len(publishes(sim, "UALICE"))

    step = await press_on_home(sim, view, "deploy_approve")

    assert step.status == 200
    # Answered privately in the DM (Home has no response_url) ...
    assert any("You approved *deploy* of deployment 1" in t for t in dms(sim, "UALICE"))
    # ... the channel's deployment message is edited in place to show the approval ...
    edits = [c.args for c in sim.fake.calls_to("chat.update")[updates_before:]]
    updates = [u for u in edits if u["channel"] == "CGENERAL"]
    assert updates and {u["channel"] for u in edits} <= {"CGENERAL", "DALICE"}  # and her request
    final = post_text(updates[-1])
    assert "<@UALICE> approved *deploy*" in final
    assert "Succeeded" in final
    assert (await deployment(sim, 1)).state is DeploymentState.SUCCEEDED
    # ... and Home is published again, without that approval.
    assert len(publishes(sim, "UALICE")) > publishes_before
    home = sim.fake.views["UALICE"]
    assert "Waiting for your approval" not in text_of(home)
    assert home_buttons(home, "deploy_approve") == []


async def test_rejecting_from_home_asks_why_then_ends_the_deployment_and_republishes_home(
    sim: Simulator,
) -> None:
    await churn_at_gate(sim)
    sim.switch_user("alice")
    _step, view = await sim.open_home()
    assert view is not None

    await press_on_home(sim, view, "deploy_reject")
    [dialog] = sim.fake.opened_views
    assert dialog["title"]["text"] == "Reject deployment"
    await sim.submit("not before the quarter closes")

    d = await deployment(sim, 1)
    assert d.state is DeploymentState.REJECTED
    assert "not before the quarter closes" in post_text(latest(sim))
    assert "Waiting for your approval" not in text_of(sim.fake.views["UALICE"])


async def test_a_home_button_pressed_after_the_gate_was_decided_in_the_channel_changes_nothing(
    sim: Simulator,
) -> None:
    message = await churn_at_gate(sim)
    sim.switch_user("alice")
    _step, view = await sim.open_home()
    assert view is not None
    await press(sim, message, "deploy_approve")  # decided in the channel meanwhile

    await press_on_home(sim, view, "deploy_approve")  # the Home tab still showed the button

    assert any("has already ended (succeeded); this button does nothing now" in t
               for t in dms(sim, "UALICE"))
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.SUCCEEDED
    assert [v.user_id for v in d.stages[-1].votes] == ["UALICE"]
    assert "Waiting for your approval" not in text_of(sim.fake.views["UALICE"])


async def test_someone_elses_home_button_does_not_let_an_outsider_approve(sim: Simulator) -> None:
    await churn_at_gate(sim)
    sim.switch_user("alice")
    _step, alices_view = await sim.open_home()
    assert alices_view is not None

    sim.switch_user("dave")  # replays the token from alice's Home tab
    await press_on_home(sim, alices_view, "deploy_approve")

    assert any("Only the owner <@UALICE> (the only admin) may approve deploy" in t
               for t in dms(sim, "UDAVE"))
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.AWAITING_APPROVAL
    assert d.stages[-1].votes == ()


async def test_an_outsiders_home_shows_no_approvals(sim: Simulator) -> None:
    await churn_at_gate(sim)
    for outsider in ("dave", "carol"):  # carol is on the team, but not an approver
        sim.switch_user(outsider)
        _step, view = await sim.open_home()
        assert view is not None
        assert "Waiting for your approval" not in text_of(view)
        assert home_buttons(view, "deploy_approve") == []
        assert home_buttons(view, "deploy_reject") == []
    assert "You own or work on no use case yet" in text_of(sim.fake.views["UDAVE"])
    assert "you: data-scientist" in text_of(sim.fake.views["UCAROL"])


async def test_the_requesters_home_does_not_offer_approving_their_own_deployment(sim: Simulator) -> None:
    # bob owns fraud, so he would be an approver of it -- but he asks for this deployment himself.
    await sim.command('/usecase new fraud "Detect fraud" owner=@bob')
    sim.switch_user("bob")
    await sim.command("/deploy fraud 1.0.0")
    _step, view = await sim.open_home()
    assert view is not None
    assert home_buttons(view, "deploy_approve") == []
    assert "you: owner" in text_of(view)

    sim.switch_user("alice")  # an admin who did not request it may
    _step, view = await sim.open_home()
    assert view is not None
    assert approval_labels(view) == ["*fraud 1.0.0 · deploy (deployment 1)*"]

    # And the other way round: alice (admin) asks for a deployment of bob's use case.
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    await sim.command("/deploy churn 2.0.0")
    _step, view = await sim.open_home()
    assert view is not None
    assert approval_labels(view) == ["*fraud 1.0.0 · deploy (deployment 1)*"]
    sim.switch_user("bob")
    _step, view = await sim.open_home()
    assert view is not None
    assert approval_labels(view) == ["*churn 2.0.0 · deploy (deployment 2)*"]


async def test_an_approver_who_voted_is_not_asked_again(
    sim: Simulator, settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    path = write_pipeline(tmp_path, """
[pipelines.default]
[[pipelines.default.stages]]
name = "deploy"
run = { executor = "dry-run" }
approval = { required = 2, approvers = ["UALICE", "UBOB", "UCAROL"] }
""")
    async with simulator(with_pipeline(settings, path), clock) as two:
        await two.command('/usecase new churn "Predict churn"')
        await two.command("/usecase team churn add @erin devops")
        two.switch_user("erin")
        await two.command("/deploy churn 1.0.0")
        two.switch_user("bob")
        _step, view = await two.open_home()
        assert view is not None and approval_labels(view) == ["*churn 1.0.0 · deploy (deployment 1)*"]
        await press_on_home(two, view, "deploy_approve")
        home = two.fake.views["UBOB"]
        assert home_buttons(home, "deploy_approve") == [], "bob voted: nothing more for him to do"
        two.switch_user("carol")
        _step, view = await two.open_home()
        assert view is not None
        assert "1 more needed" in text_of(view)


async def test_an_open_home_tab_shows_a_new_approval_without_reopening(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    _step, view = await sim.open_home()
    assert view is not None and "Waiting for your approval" not in text_of(view)

    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")

    assert "Waiting for your approval (1)" in text_of(sim.fake.views["UALICE"])


# ── running deployments, announcements, overdue flags ──────────────────────────────────────



async def test_home_shows_running_deployments_and_recent_announcements(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver,
) -> None:
    path = running_ship_pipeline(tmp_path, receiver)  # the stage keeps running
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command('/usecase advance churn "kick-off"')
        await sim.command("/deploy churn 3.1.0")
        assert (await deployment(sim, 1)).state is DeploymentState.RUNNING

        sim.switch_user("dave")  # anyone sees what runs and what was said
        _step, view = await sim.open_home()

        assert view is not None
        assert_within_home_limits(view)
        text = text_of(view)
        assert "🚀 Running deployments" in text
        assert "Deployment 1: churn 3.1.0 · *ship*" in text
        assert "📣 Recent announcements" in text
        assert "<#CGENERAL> New use case churn" in text
        assert "Waiting for your approval" not in text


async def test_home_flags_the_viewers_overdue_dev_work(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/usecase advance churn "kick-off"')
    await sim.command('/usecase new fraud "Detect fraud"')
    clock.advance(timedelta(weeks=7))
    _step, view = await sim.open_home()
    assert view is not None
    churn_line = next(b["text"]["text"] for b in view["blocks"]
                      if b["type"] == "section" and "*churn*" in b["text"]["text"])
    assert "overdue" in churn_line.lower()
    fraud_line = next(line for line in churn_line.split("\n") if "*fraud*" in line)
    assert "overdue" not in fraud_line.lower()


async def test_home_stays_within_100_blocks_with_500_use_cases_and_many_approvals(
    sim: Simulator, clock: ManualClock,
) -> None:
    async with sim.app.db.uow() as uow:
        for i in range(500):
            title = (f"Use case number {i} with the longest title allowed " + "t" * 200)[:200]
            uc = usecases.create(f"uc-{i:03d}", title,
                                 creator_id="UALICE", channel_id="CGENERAL", now=START)
            if i % 3 == 0:
                uc = usecases.advance(uc, "UALICE", START, is_admin=True, note="go").use_case
            await uow.use_cases.add(uc)
        await uow.commit()
    for i in range(15):
        await sim.command(f"/usecase team uc-{i:03d} add @erin devops")
    clock.advance(timedelta(weeks=7))  # a third of them overdue in Dev
    await sim.command('/usecase advance uc-003 "ready for production"')  # an announcement
    sim.switch_user("erin")  # fifteen gates waiting for alice
    for i in range(15):
        await sim.command(f"/deploy uc-{i:03d} 1.0.{i}")
    sim.switch_user("alice")

    _step, view = await sim.open_home()

    assert view is not None
    assert_within_home_limits(view)
    text = text_of(view)
    assert "✋ Waiting for your approval (15)" in text
    assert len(home_buttons(view, "deploy_approve")) == 10
    assert "… and 5 more waiting" in text
    assert "Your use cases" in text and "*uc-000*" in text
    shown = len(set(re.findall(r"\*uc-\d{3}\*", text)))
    assert shown >= 100
    if shown < 500:  # what does not fit is counted, not silently cut
        assert f"… and {500 - shown} more use cases" in text
    assert "overdue" in text
    assert "📣 Recent announcements" in text
    assert view["blocks"][-1]["type"] == "context" and "Updated" in text_of(
        {"blocks": [view["blocks"][-1]]}), "the footer survives the trimming"


def announcement_lines(view: dict[str, Any]) -> list[str]:
    """The lines under "📣 Recent announcements", as the view carries them (mrkdwn)."""
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks)
                 if b["type"] == "header" and b["text"]["text"] == "📣 Recent announcements")
    return blocks[start + 1]["text"]["text"].split("\n")


async def test_home_announcements_show_mentions_as_mentions(sim: Simulator) -> None:
    """The outbox keeps mrkdwn: a mention stays a mention (not a literal "&lt;@UBOB&gt;"), and
    a title's escaped "&" is escaped once, not twice; a long one is clipped to 200 characters."""
    await sim.command('/usecase new churn "R&D <churn> model"')
    await sim.command("/usecase owner churn @bob")
    await sim.command(f'/usecase new fraud "{("Detect card fraud " * 11)[:190]}"')

    _step, view = await sim.open_home()

    assert view is not None and sim.fake.views["UALICE"] == view
    assert_within_home_limits(view)
    [fraud, owner, churn] = announcement_lines(view)  # newest first
    assert owner == "<#CGENERAL> churn is now owned by <@UBOB>"
    assert churn == "<#CGENERAL> New use case churn: R&amp;D &lt;churn&gt; model"
    assert fraud.startswith("<#CGENERAL> New use case fraud: Detect card fraud Detect")
    assert fraud.endswith("…") and len(fraud) <= len("<#CGENERAL> ") + 200
    assert "&lt;@" not in text_of(view) and "&amp;amp;" not in text_of(view)
