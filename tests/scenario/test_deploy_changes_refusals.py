"""`/deploy changes` refused privately, through the app: a use case with nothing in production
(a dry run deploys nothing), an unknown use case (with a suggestion), bad input (with the usage
line) -- and nothing posted in the channel."""

from __future__ import annotations

import json

from bot.simulator.simulator import Simulator, Step
from tests.scenario.deploy_support import new_use_case, private_replies


def told(step: Step) -> str:
    """What the person was told: in the acknowledgement, or after it through response_url."""
    return json.dumps(step.reply or {}) + private_replies(step)


async def test_nothing_in_production_an_unknown_slug_and_bad_input(sim: Simulator) -> None:
    await new_use_case(sim)
    await sim.command("/deploy churn 1.0.0")  # the built-in pipeline: a dry run
    posted = len(sim.fake.calls)

    nothing = told(await sim.command("/deploy changes churn"))
    unknown = told(await sim.command("/deploy changes chrun"))
    bad = told(await sim.command("/deploy changes churn 1.0 2.0"))

    assert "Nothing of `churn` runs in production yet" in nothing
    assert "chrun" in unknown and "churn" in unknown.replace("chrun", "")
    assert "/deploy changes <slug> [<version>]" in bad
    assert not [c for c in sim.fake.calls[posted:] if c.method == "chat.postMessage"]
