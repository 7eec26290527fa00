"""examples/webhook_receiver.py is a working executor: the bot's jobs pass its check, and its
callbacks (signed over timestamp, path and body) pass the bot's."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

from aiohttp import web

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.render.deploy_stop_words import kept_stop
from tests.scenario.deploy_support import (
    SECRET,
    deploy,
    load,
    new_use_case,
    simulator,
    with_pipeline,
    write_pipeline,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def _receiver(secret: str) -> AsyncIterator[str]:
    runner = web.AppRunner(_example().build(secret, {"web-3"}, delay=0), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    finally:
        await runner.cleanup()


def _pipeline(hooks: str) -> str:
    return f"""
[pipelines.example]
[[pipelines.example.stages]]
name = "stage"
run = {{ executor = "webhook", url = "{hooks}/staging" }}

[[pipelines.example.stages]]
name = "deploy"
run = {{ executor = "webhook", url = "{hooks}/deploy" }}
waves = ["1", "100%"]
targets = ["web-1", "web-2"]
health = {{ executor = "webhook", url = "{hooks}/health" }}
"""


async def test_the_example_receiver_runs_a_pipeline_with_a_signed_callback(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    async with _receiver(SECRET) as hooks, simulator(
            with_pipeline(settings, write_pipeline(tmp_path, _pipeline(hooks))), clock) as sim:
        await new_use_case(sim)
        d_id = await deploy(sim, "/deploy churn 1.0.0")

        async def done() -> bool:
            await sim.wait(0.05)
            return not (await load(sim, d_id)).state.is_active

        for _ in range(100):
            if await done():
                break
        d = await load(sim, d_id)
        assert d.state is DeploymentState.SUCCEEDED, d.detail
        assert "staging is serving the new version" in d.stages[0].detail


async def test_the_example_receiver_refuses_a_job_signed_with_another_secret(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    async with _receiver("not-the-bot-secret") as hooks, simulator(
            with_pipeline(settings, write_pipeline(tmp_path, _pipeline(hooks))), clock) as sim:
        await new_use_case(sim)
        d = await load(sim, await deploy(sim, "/deploy churn 1.0.0"))
        assert d.state is DeploymentState.FAILED
        assert "HTTP 401" in kept_stop(d.detail)
