"""A workspace worth looking at, made the way people make it: slash commands, a dialog and an
approval button, over a few simulated weeks.

Four public use cases, one in each phase (pricing overdue in Dev; churn with a problem, a success
KPI with a target and a value a week for four weeks, deployed through a pipeline of real
commands once — approved by button — and once cancelled); one more in a private channel that
the person who signs in to the dashboard (bob) is not in, with a deployment of its own: it must
show nowhere.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press


@dataclass(frozen=True)
class Workspace:
    viewer: str  # the user ID of the person who signs in
    public: tuple[str, ...]  # the slugs that person sees
    hidden_slug: str
    hidden_title: str
    succeeded: int  # churn 1.0.0, approved by button
    cancelled: int  # churn 1.1.0


HIDDEN_SLUG, HIDDEN_TITLE = "deal-scoring", "Score confidential deals"
_PASS = json.dumps([sys.executable, "-c", "pass"])  # a stage that passes, run for real


def write_pipelines(directory: Path) -> Path:
    """A pipeline of real (if trivial) commands, so what passed is what runs in production."""
    path = directory / "pipelines.toml"
    path.write_text(f"""[pipelines.default]
description = "build and test, then production once approved"

[[pipelines.default.stages]]
name = "build"
run = {{ executor = "command", argv = {_PASS} }}

[[pipelines.default.stages]]
name = "production"
run = {{ executor = "command", argv = {_PASS} }}
approval = {{ required = 1, expires = "24h" }}
""")
    return path


async def build(sim: Simulator, clock: ManualClock) -> Workspace:
    await _the_others(sim)  # seven weeks ago: pricing has been in Dev too long since
    clock.advance(timedelta(weeks=3))
    await _churn(sim, clock)
    await _deploy_churn(sim, clock)
    await _the_private_one(sim)
    sim.switch_channel("general")
    bob = sim.switch_user("bob")  # the person who signs in to the dashboard
    await sim.app.settle()
    viewer = sim.fake.user(bob)
    assert viewer is not None
    return Workspace(viewer.id, ("churn", "forecast", "fraud", "pricing"), HIDDEN_SLUG, HIDDEN_TITLE,
                     succeeded=1, cancelled=2)


async def _the_others(sim: Simulator) -> None:
    await sim.command('/usecase new fraud "Spot card fraud" domain=finance')
    await sim.command('/usecase new pricing "Dynamic pricing" domain=sales owner=@bob')
    await sim.command('/usecase advance pricing "pilot approved"')
    await sim.command('/usecase new forecast "Forecast demand" domain=supply')
    for _ in range(3):
        await sim.command("/usecase advance forecast")  # to Continuous


async def _churn(sim: Simulator, clock: ManualClock) -> None:
    """alice (an admin) opens the New use case dialog in #general; a KPI value a week for four
    weeks, through Dev into Ops."""
    await sim.command("/usecase new")
    await sim.submit('slug=churn title="Predict churn" domain=marketing kpi=auc kpi_target=">= 0.83" '
                     'problem="Customers leave and we learn it a month too late"')
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/usecase team churn add @carol data-scientist")
    await sim.command("/usecase team churn add @bob business")
    for week, value in enumerate(("0.74", "0.78", "0.81", "0.86")):
        await sim.command(f"/metric record churn auc {value}")
        if week == 1:
            await sim.command('/usecase advance churn "business case signed"')
        clock.advance(timedelta(weeks=1))
    await sim.command("/usecase advance churn")  # to Ops


async def _deploy_churn(sim: Simulator, clock: ManualClock) -> None:
    """erin deploys churn 1.0.0 and alice approves it by button; erin's 1.1.0 is cancelled."""
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    clock.advance(timedelta(minutes=3))
    await press(sim, latest(sim), "deploy_approve")
    await sim.app.settle()
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.1.0")
    await sim.command('/deploy cancel 2 "wrong model"')
    sim.switch_user("alice")


async def _the_private_one(sim: Simulator) -> None:
    """A use case homed in #deals, a private channel of alice and carol: bob is not in it."""
    sim.switch_channel("deals", private_with=["@carol"])
    await sim.command(f'/usecase new {HIDDEN_SLUG} "{HIDDEN_TITLE}" domain=sales')
    await sim.command(f"/usecase team {HIDDEN_SLUG} add @carol devops")
    sim.switch_user("carol")
    await sim.command(f"/deploy {HIDDEN_SLUG} 0.1.0")
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")
    await sim.app.settle()
