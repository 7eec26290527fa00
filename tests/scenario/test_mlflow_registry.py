"""Deploying models through a real MLflow model registry, end to end: `/usecase link`, an
`mlflow` pipeline that moves `challenger` then `champion` and puts them back when a later stage
fails, tags required before the move, `/deploy rollback`, `/deploy <slug>`'s version list, and
MLflow's own webhooks announcing a new version (with a working Deploy button) and an alias moved
outside the bot.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.domain.registry import sign_mlflow
from bot.render.deploy_stop_words import kept_stop
from bot.simulator.fake_slack_state import FakeMessage
from bot.simulator.simulator import Simulator, Step
from bot.slack import ids
from tests.scenario.deploy_support import (
    click,
    deploy,
    history,
    load,
    new_use_case,
    thread,
    toml_list,
)
from tests.scenario.helpers import reply_text
from tests.servers.mlflow import MlflowServer, unique

pytestmark = pytest.mark.mlflow

PY = sys.executable
SECRET = "mlflow-webhook-secret-x7Q"
SMOKE = "import sys; sys.exit(0 if sys.argv[1] != '2' else 1)"  # version 2 fails its smoke test


def pipeline(*, gated: bool = False) -> str:
    """``gated``: champion waits for an approval (alice may give her own)."""
    smoke = toml_list([PY, "-c", SMOKE, "{version}"])
    gate = "approval = { required = 1, allow_self = true }" if gated else ""
    return f"""
[pipelines.model]
[[pipelines.model.stages]]
name = "challenger"
run = {{ executor = "mlflow", alias = "challenger", require_tags = {{ validation = "passed" }} }}
[[pipelines.model.stages]]
name = "champion"
run = {{ executor = "mlflow", alias = "champion" }}
{gate}
[[pipelines.model.stages]]
name = "smoke"
run = {{ executor = "command", argv = {smoke} }}
"""


class Registry:
    """The test's hand on the MLflow server: versions with runs, metrics and tags."""

    def __init__(self, server: MlflowServer) -> None:
        self.server = server
        self.model = unique("churn")
        self.experiment = server.create_experiment(unique("churn-training"))
        server.create_registered_model(self.model)

    def version(self, *, auc: float = 0.9, validated: bool = True) -> str:
        run = self.server.create_run(self.experiment)
        self.server.log_metric(run, "auc", auc)
        self.server.finish_run(run)
        version = self.server.create_model_version(self.model, run_id=run)
        if validated:
            self.server.call("POST", "model-versions/set-tag", {
                "name": self.model, "version": version, "key": "validation", "value": "passed"})
        return version

    def alias(self, alias: str) -> str | None:
        try:
            answer = self.server.call("GET", "registered-models/alias",
                                      params={"name": self.model, "alias": alias})
        except Exception:  # noqa: BLE001 - MLflow answers 404 for an alias that points nowhere
            return None
        return str(answer["model_version"]["version"])


@asynccontextmanager
async def registry_sim(settings: Settings, clock: ManualClock, tmp_path: Path, server: MlflowServer,
                       *, gated: bool = False) -> AsyncIterator[tuple[Simulator, Registry]]:
    path = tmp_path / "pipelines.toml"
    path.write_text(pipeline(gated=gated), encoding="utf-8")
    settings = replace(settings, pipelines_path=str(path), mlflow_url=server.url,
                       mlflow_webhook_secret=SECRET)
    registry = await asyncio.to_thread(Registry, server)
    async with Simulator(settings, clock=clock) as sim:
        await new_use_case(sim)
        linked = reply_text(await sim.command(f"/usecase link churn model {registry.model}"))
        assert f"linked to the MLflow model `{registry.model}`" in linked
        yield sim, registry


async def test_a_model_pipeline_moves_the_aliases_and_puts_them_back_when_a_later_stage_fails(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    async with registry_sim(settings, clock, tmp_path, mlflow_server) as (sim, reg):
        v1, v2, unvalidated = [await asyncio.to_thread(reg.version, validated=v != 3)
                               for v in (1, 2, 3)]
        assert f"`{reg.model}` (MLflow)" in reply_text(await sim.command("/usecase show churn"))

        first = await deploy(sim, f"/deploy churn {v1}")
        assert (await load(sim, first)).state is DeploymentState.SUCCEEDED
        assert (reg.alias("challenger"), reg.alias("champion")) == (v1, v1)
        assert any(f"`{reg.model}@champion`: nowhere → v1" in note for note in thread(sim, first))

        second = await deploy(sim, f"/deploy churn {v2}")  # its smoke test fails after champion
        await sim.app.settle()
        assert (await load(sim, second)).state is DeploymentState.FAILED
        assert (reg.alias("challenger"), reg.alias("champion")) == (v1, v1), "both put back"
        notes = " ".join(thread(sim, second))
        assert f"`{reg.model}@champion` points back at v1" in notes
        assert f"`{reg.model}@challenger` points back at v1" in notes

        third = await deploy(sim, f"/deploy churn {unvalidated}")
        assert (await load(sim, third)).state is DeploymentState.FAILED
        assert "lacks tag validation=passed" in kept_stop((await load(sim, third)).detail)
        missing = await deploy(sim, "/deploy churn 99")
        assert f"no version 99 of `{reg.model}`" in kept_stop((await load(sim, missing)).detail)
        assert reg.alias("champion") == v1, "refused versions never moved an alias"


async def test_rollback_points_the_alias_at_the_last_good_version(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    async with registry_sim(settings, clock, tmp_path, mlflow_server) as (sim, reg):
        v1 = await asyncio.to_thread(reg.version)
        await asyncio.to_thread(reg.version)  # v2: fails its smoke test, never good
        v3 = await asyncio.to_thread(reg.version)
        for version in (v1, v3):
            await deploy(sim, f"/deploy churn {version}")
            clock.advance(timedelta(minutes=5))
        assert reg.alias("champion") == v3
        said = reply_text(await sim.command("/deploy rollback churn"))
        assert f"back to `{v1}`" in said
        [rollback] = [d for d in await history(sim) if d.kind == "rollback"]
        assert rollback.state is DeploymentState.SUCCEEDED
        assert [stage.name for stage in rollback.stages] == ["champion", "smoke"]
        assert reg.alias("champion") == v1


async def test_deploy_without_a_version_offers_the_models_versions_in_the_dialog(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    async with registry_sim(settings, clock, tmp_path, mlflow_server) as (sim, reg):
        v1 = await asyncio.to_thread(reg.version)
        v2 = await asyncio.to_thread(reg.version, validated=False)
        await deploy(sim, f"/deploy churn {v1}")
        await sim.command("/deploy churn")
        dialog = sim.fake.opened_views[-1]
        assert dialog["callback_id"] == ids.DEPLOY_DIALOG
        [picker] = [b for b in dialog["blocks"] if b.get("block_id") == ids.DEPLOY_VERSION_PICKED]
        assert [o["value"] for o in picker["element"]["options"]][:2] == [str(v2), str(v1)]


def posts_with(sim: Simulator, text: str) -> list[FakeMessage]:
    return [m for m in sim.fake.messages() if text in m.text]


async def eventually(sim: Simulator, text: str, count: int = 1, seconds: float = 20.0) -> list[FakeMessage]:
    """MLflow delivers its webhooks from a pool of its own: wait for them to be said."""
    deadline = time.monotonic() + seconds
    while len(found := posts_with(sim, text)) < count:
        assert time.monotonic() < deadline, f"never said: {text!r}"
        await sim.wait(0.2)
    return found


async def click_deploy(sim: Simulator, message: FakeMessage) -> Step:
    [button] = [e for b in message.blocks if b.get("type") == "actions" for e in b["elements"]
                if e["action_id"] == ids.DEPLOY_VERSION]
    return await click(sim, message, {"type": "button", "action_id": button["action_id"],
                                      "block_id": "v", "value": button["value"],
                                      "text": button["text"]})


@asynccontextmanager
async def webhook(server: MlflowServer, sim: Simulator) -> AsyncIterator[None]:
    events = [{"entity": "MODEL_VERSION", "action": "CREATED"},
              {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}]
    hook: dict[str, Any] = await asyncio.to_thread(server.call, "POST", "webhooks", {
        "name": unique("bizdevops"), "url": f"{sim.base_url}/api/v1/hooks/mlflow",
        "secret": SECRET, "events": events})
    await asyncio.sleep(1.1)  # MLflow caches its webhook list for a second
    try:
        yield
    finally:
        await asyncio.to_thread(server.call, "DELETE", f"webhooks/{hook['webhook']['webhook_id']}")


async def test_registry_events_are_announced_and_deploy_from_the_button(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    async with registry_sim(settings, clock, tmp_path, mlflow_server) as (sim, reg), \
            webhook(mlflow_server, sim):
        v1 = await asyncio.to_thread(reg.version, auc=0.87)
        [news] = await eventually(sim, f"New version v{v1} of the model `{reg.model}`")
        shown = news.text + json.dumps(news.blocks)
        assert "auc 0.87" in shown and f"Deploy v{v1}" in shown

        sim.switch_user("bob")  # not on the team: the button runs /deploy as bob, who may not
        refused = await click_deploy(sim, news)
        assert "may deploy `churn`" in " ".join(json.dumps(b) for _t, b in refused.responses)
        sim.switch_user("alice")
        await click_deploy(sim, news)
        [started] = await history(sim)
        assert (started.version, started.requested_by) == (v1, sim.user)
        assert started.state is DeploymentState.SUCCEEDED
        await sim.wait(1.5)  # the bot's own alias moves come back as events: not news
        assert [m.text for m in posts_with(sim, "outside the bot")] == []

        v2 = await asyncio.to_thread(reg.version)
        await eventually(sim, f"New version v{v2}")
        await asyncio.to_thread(mlflow_server.set_alias, reg.model, "champion", v2)
        [moved] = await eventually(sim, "outside the bot")
        assert f"`{reg.model}@champion` was moved by someone outside the bot: v{v1} → v{v2}" in moved.text


async def deliver(sim: Simulator, event: dict[str, Any]) -> int:
    """One delivery signed as MLflow signs it, straight to the bot's webhook."""
    body = json.dumps(event).encode()
    delivery, stamp = unique("delivery"), str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-MLflow-Delivery-Id": delivery,
               "X-MLflow-Timestamp": stamp,
               "X-MLflow-Signature": sign_mlflow(SECRET, delivery, stamp, body)}
    async with aiohttp.ClientSession() as http, \
            http.post(f"{sim.base_url}/api/v1/hooks/mlflow", data=body, headers=headers) as answer:
        return answer.status


def alias_event(model: str, alias: str, version: str) -> dict[str, Any]:
    return {"entity": "model_version_alias", "action": "created",
            "data": {"name": model, "alias": alias, "version": version}}


async def test_an_outside_move_that_front_runs_a_waiting_gate_is_announced(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    # G14: the bot's own move is only one it recorded before making it; a deployment waiting
    # to move the alias to the same version has not moved it.
    async with registry_sim(settings, clock, tmp_path, mlflow_server, gated=True) as (sim, reg), \
            webhook(mlflow_server, sim):
        v1 = await asyncio.to_thread(reg.version)
        waiting = await deploy(sim, f"/deploy churn {v1}")
        assert (await load(sim, waiting)).state is DeploymentState.AWAITING_APPROVAL
        assert reg.alias("challenger") == v1 and reg.alias("champion") is None
        await asyncio.to_thread(mlflow_server.set_alias, reg.model, "champion", v1)
        [moved] = await eventually(sim, "outside the bot")
        assert f"`{reg.model}@champion` was moved by someone outside the bot: nowhere → v{v1}" \
            in moved.text
        assert f"while deployment {waiting} waits for approval to move it" in moved.text
        assert posts_with(sim, f"`{reg.model}@challenger` was moved") == [], "the bot's own move"


async def test_outside_moves_delivered_out_of_order_are_judged_by_what_mlflow_says_now(
        settings: Settings, clock: ManualClock, tmp_path: Path, mlflow_server: MlflowServer) -> None:
    # G15: v1 then v2 in MLflow, delivered as v2, v1: the channel hears v2, once, and keeps it.
    async with registry_sim(settings, clock, tmp_path, mlflow_server) as (sim, reg):
        v1, v2 = [await asyncio.to_thread(reg.version) for _ in range(2)]
        for version in (v1, v2):
            await asyncio.to_thread(mlflow_server.set_alias, reg.model, "champion", version)
        assert await deliver(sim, alias_event(reg.model, "champion", v2)) == 200
        assert await deliver(sim, alias_event(reg.model, "champion", v1)) == 200
        await sim.app.settle()
        said = [m.text for m in posts_with(sim, "outside the bot")]
        assert said == [f"⚠️ `{reg.model}@champion` was moved by someone outside the bot: nowhere → "
                        f"v{v2} (use case churn). The channel's deployments did not do this."]
        v3 = await asyncio.to_thread(reg.version)  # the next real move is judged from v2
        await asyncio.to_thread(mlflow_server.set_alias, reg.model, "champion", v3)
        assert await deliver(sim, alias_event(reg.model, "champion", v3)) == 200
        await sim.app.settle()
        assert f"v{v2} → v{v3}" in posts_with(sim, "outside the bot")[-1].text
