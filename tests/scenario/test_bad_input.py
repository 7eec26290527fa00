"""Bad input gets a private answer that says what was wrong and how to write it; nothing is stored."""

from __future__ import annotations

import pytest

from bot.domain.deployment_model import DeploymentState
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import deployment, latest, press
from tests.scenario.helpers import reply_text, row_counts

BAD = [
    ('/usecase new Bad_Slug "Title"', "is not a valid slug", "/usecase new <slug>"),
    ("/usecase new churn", "The title is missing", "/usecase new <slug>"),
    (f'/usecase new churn "{"x" * 201}"', "201 characters long; at most 200", "/usecase new <slug>"),
    ('/usecase new churn "Unclosed', "quote is not closed", "/usecase new <slug>"),
    ('/usecase new churn "T" colour=red', "Unknown option `colour=`", "/usecase new <slug>"),
    ("/usecase team churn add @carol wizard", "Unknown role `wizard`", "/usecase team <slug> add"),
    ("/usecase list phase=qa", "Unknown phase `qa`", "/usecase list"),
    ("/usecase frobnicate churn", "Unknown sub-command `frobnicate`", "/usecase help"),
    ("/usecase show", "slug is missing", "/usecase show <slug>"),
    ("/usecase owner churn bob", "is not a user", "/usecase owner <slug> @user"),
    ("/usecase show nothing-here", "There is no use case `nothing-here`", "/usecase show <slug>"),
    # every input against its column (on PostgreSQL these were 500s)
    (f'/usecase new churn-2 "T" domain="{"d" * 201}"', "The domain is 201 characters long; at most 200",
     "/usecase new <slug>"),
    (f"/usecase owner churn <@U{'X' * 39}>", "its ID is 40 characters long",
     "/usecase owner <slug> @user"),
    (f"/usecase team churn add <@W{'X' * 39}|bob> devops", "its ID is 40 characters long",
     "/usecase team <slug> add"),
    (f'/usecase new churn-2 "T" channel=<#C{"X" * 39}|ops>', "is not a Slack channel",
     "/usecase new <slug>"),
    (f'/digest schedule "{",".join(map(str, range(60)))} 9 * * mon-fri"', "at most 120 fit",
     '/digest schedule "<cron>"'),
    (f'/digest schedule "0 9 * * mon" tz={"x" * 300}', "`tz=` is 300 characters long",
     '/digest schedule "<cron>"'),
    ("/deploy status 99999999999", "out of range: deployment ids run from 1 to 2147483647",
     "/deploy status"),
    ("/deploy cancel 2147483648", "out of range", "/deploy cancel <deployment-id>"),
]


@pytest.mark.parametrize(("text", "problem", "usage"), BAD, ids=[b[0][:40] for b in BAD])
async def test_bad_input_is_explained_and_changes_nothing(
    sim: Simulator, text: str, problem: str, usage: str
) -> None:
    await sim.command('/usecase new churn "Churn"')
    before = await row_counts(sim)
    calls_before = len(sim.fake.calls_to("chat.postMessage"))

    step = await sim.command(text)

    assert step.status == 200
    assert step.reply is not None and step.reply["response_type"] == "ephemeral"
    assert problem in reply_text(step)
    assert usage in reply_text(step)
    assert await row_counts(sim) == before
    assert len(sim.fake.calls_to("chat.postMessage")) == calls_before


async def test_duplicate_slug_is_refused(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    before = await row_counts(sim)
    step = await sim.command('/usecase new churn "Another"')
    assert "exists already" in reply_text(step)
    assert await row_counts(sim) == before


async def test_user_text_cannot_ping_the_channel(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Alert @channel <!channel> now"', escape=False)
    announcement = sim.fake.calls_to("chat.postMessage")[-1].args
    rendered = announcement["text"] + str(announcement["blocks"])
    assert "<!channel>" not in rendered


# ── control characters (a NUL cannot even be stored on PostgreSQL) ─────────────────────────

CONTROLS = [
    ('/usecase new churn-2 "T\u0000"', "U+0000", "/usecase new <slug>"),
    ("/usecase show churn\u0000", "U+0000", "/usecase show <slug>"),
    ('/usecase advance churn "note \u001b[31mred"', "U+001B", '/usecase advance <slug> ["note"]'),
    ('/usecase archive churn "gone\u007f"', "U+007F", '/usecase archive <slug> "<reason>"'),
    ('/deploy lock churn "R\u0000"', "U+0000", '/deploy lock <slug> ["reason"]'),
    ('/deploy cancel 1 "R\u0000"', "U+0000", '/deploy cancel <deployment-id> ["reason"]'),
    ('/metric record churn acc 1 unit="\u0085"', "U+0085", "/metric record <slug> <name>"),
    ('/digest schedule "0 9 * * mon\u0000"', "U+0000", '/digest schedule "<cron>"'),
]


@pytest.mark.parametrize(("text", "problem", "usage"), CONTROLS, ids=[c[0][:30] for c in CONTROLS])
async def test_a_control_character_in_a_command_is_refused_and_changes_nothing(
    sim: Simulator, text: str, problem: str, usage: str
) -> None:
    await sim.command('/usecase new churn "Churn"')
    before = await row_counts(sim)

    step = await sim.command(text)

    assert step.status == 200
    assert step.reply is not None and step.reply["response_type"] == "ephemeral"
    assert f"invisible control character ({problem})" in reply_text(step)
    assert usage in reply_text(step)
    assert await row_counts(sim) == before


async def test_tabs_and_line_breaks_are_ordinary_whitespace(sim: Simulator) -> None:
    step = await sim.command('/usecase new churn\t"Predict\nchurn"')
    assert "Created *churn*" in reply_text(step)


async def test_a_reject_reason_with_a_control_character_is_refused_in_the_dialog(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_reject")

    step = await sim.submit("drifted\u0000")

    assert step.reply == {"response_action": "errors", "errors": {
        "reason": "The reason contains an invisible control character (U+0000); type it again "
                  "without it."}}
    assert (await deployment(sim, 1)).state is DeploymentState.AWAITING_APPROVAL
