"""DORA through the simulator: a pipeline file whose `default` pipeline deploys for real (a
command), with a dry-run `rehearsal` beside it, and a deployment requested by @erin and approved
by @alice (the owner and admin).

Dry runs are never counted in DORA, so a test that wants numbers deploys with `default`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.deploy_support import simulator, toml_list, with_pipeline, write_pipeline
from tests.scenario.helpers import post_text, reply_text

REAL_AND_REHEARSAL = f"""
[pipelines.default]
description = "deploys for real: a command"
[[pipelines.default.stages]]
name = "deploy"
run = {{ executor = "command", argv = {toml_list([sys.executable, "-c", "pass"])} }}
approval = {{ required = 1 }}

[pipelines.rehearsal]
[[pipelines.rehearsal.stages]]
name = "deploy"
run = {{ executor = "dry-run" }}
approval = {{ required = 1 }}
"""


@asynccontextmanager
async def real_simulator(settings: Settings, clock: ManualClock,
                         directory: Path) -> AsyncIterator[Simulator]:
    """The bot with the `default` (real) and `rehearsal` (dry-run) pipelines."""
    path = write_pipeline(directory, REAL_AND_REHEARSAL)
    async with simulator(with_pipeline(settings, path), clock) as sim:
        yield sim


async def deploy_approved(sim: Simulator, clock: ManualClock, slug: str, version: str,
                          lead: timedelta, *, pipeline: str = "") -> None:
    """@erin asks, ``lead`` later @alice approves, and it succeeds; @alice types on."""
    sim.switch_user("erin")
    step = await sim.command(f"/deploy {slug} {version}"
                             + (f" pipeline={pipeline}" if pipeline else ""))
    assert "started" in reply_text(step), reply_text(step)
    clock.advance(lead)
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")
    assert "Succeeded" in post_text(latest(sim)), post_text(latest(sim))
