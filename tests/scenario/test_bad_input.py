"""Bad input gets a private answer that says what was wrong and how to write it; nothing is stored."""

from __future__ import annotations

import pytest

from bot.simulator.simulator import Simulator
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
