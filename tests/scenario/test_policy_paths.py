"""Paths around the deploy policy, closed (hardening round 3): a rollback returns only to what
succeeded in production of its own pipeline (G4) and is never held by a freeze (G12); a KPI
value counts as fresh by when the bot received it (G5); an unfreeze of all says what stays
frozen (G16); a registry button's value is a slug and a version, nothing else (G17); Deploy…
is not offered, nor the dialog opened, to whom `allowed` refuses (G19); a button's token is
made once, not for every message that shows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.render.deploy_stop_words import kept_stop
from bot.services.tokens import TokenService
from bot.simulator.simulator import Simulator
from bot.slack import ids
from storage.models import ActionTokenRow
from tests.scenario.deploy_helpers import latest, press, said
from tests.scenario.deploy_support import deploy, load, thread, write_pipeline
from tests.scenario.helpers import post_text, posts, reply_text

PIPELINES = """
default = "prod"
[pipelines.prod]
allowed = ["devops"]
[[pipelines.prod.stages]]
name = "build"
run = { executor = "dry-run" }
[[pipelines.prod.stages]]
name = "deploy"
run = { executor = "dry-run" }

[pipelines.sandbox]
[[pipelines.sandbox.stages]]
name = "try"
run = { executor = "dry-run" }

[pipelines.gated]
[[pipelines.gated.stages]]
name = "deploy"
run = { executor = "dry-run" }
waves = ["1", "100%"]
targets = 2
bake = "10m"
health = { executor = "kpi", name = "auc" }
"""


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, PIPELINES)
    async with Simulator(replace(settings, pipelines_path=str(path)), clock=clock) as simulator:
        await simulator.command('/usecase new pay "Payments" owner=@bob')
        await simulator.command("/usecase team pay add @carol data-engineer")  # not `allowed`
        await simulator.command("/usecase team pay add @dave devops")
        yield simulator


async def as_user(sim: Simulator, user: str, line: str) -> str:
    sim.switch_user(user)
    return reply_text(await sim.command(line))


async def test_g4_a_rollback_returns_only_to_what_succeeded_in_production_of_its_pipeline(
        sim: Simulator) -> None:
    await as_user(sim, "dave", "/deploy pay 1.0.0")
    sim.switch_user("carol")  # refused on prod, she may use the sandbox
    assert (await load(sim, await deploy(sim, "/deploy pay 6.6.6-evil pipeline=sandbox"))).state \
        is DeploymentState.SUCCEEDED
    refused = await as_user(sim, "dave", "/deploy rollback pay")
    assert "has no earlier version that succeeded in production with its `prod` pipeline" in refused
    await as_user(sim, "dave", "/deploy pay 2.0.0")
    back = await as_user(sim, "dave", "/deploy rollback pay")
    assert "back to `1.0.0`" in back and "6.6.6-evil" not in back


async def test_g12_a_rollback_is_never_held_by_a_freeze_and_says_so(sim: Simulator) -> None:
    for version in ("1.0.0", "2.0.0"):
        await as_user(sim, "dave", f"/deploy pay {version}")
    await as_user(sim, "alice", '/deploy freeze all 2h "incident review"')
    sim.switch_user("dave")
    rollback = await deploy(sim, "/deploy rollback pay")
    d = await load(sim, rollback)
    assert d.state is DeploymentState.SUCCEEDED, "run at once, not held until the window ends"
    assert any("runs during the freeze “incident review”" in note and "no freeze holds it" in note
               for note in thread(sim, rollback))


async def test_g5_a_kpi_value_is_fresh_by_when_it_arrived_not_by_its_at(
        sim: Simulator, clock: ManualClock) -> None:
    token = await TokenService(sim.app.db.uow, sim.clock).create("ci")
    await as_user(sim, "bob", "/metric target pay auc >= 0.8")

    async def push(ahead: timedelta, value: float) -> tuple[int, str]:
        at = (clock.now() + ahead).strftime("%Y-%m-%dT%H:%M:%SZ")
        async with sim.http.post(f"{sim.base_url}/api/v1/metrics", json={
                "use_case": "pay", "name": "auc", "value": value, "at": at},
                headers={"Authorization": f"Bearer {token}"}) as answer:
            return answer.status, await answer.text()

    status, text = await push(timedelta(minutes=4), 0.9)
    assert status == 400 and "more than 60 s ahead of the bot's clock" in text
    assert (await push(timedelta(seconds=50), 0.9))[0] == 201  # within the skew: kept

    sim.switch_user("dave")
    d_id = await deploy(sim, "/deploy pay 3.0.0 pipeline=gated")
    clock.advance(timedelta(minutes=11))  # the bake: no value arrives after the wave
    await sim.app.settle()
    d = await load(sim, d_id)
    assert d.state is DeploymentState.FAILED
    assert "no value newer than the wave" in kept_stop(d.detail)  # the pushed `at` does not make it fresh


async def test_g16_an_unfreeze_of_all_says_what_stays_frozen(sim: Simulator) -> None:
    await as_user(sim, "alice", '/deploy freeze pay 3h "audit"')
    await as_user(sim, "alice", '/deploy freeze all 1h "incident"')
    lifted = await as_user(sim, "alice", "/deploy unfreeze all")
    assert "Lifted the ad hoc freeze of *all use cases*. Still frozen: ❄️ Deployments of *pay* " \
           "are frozen until" in lifted and "“audit” (ad hoc)" in lifted
    assert "Still frozen: ❄️ Deployments of *pay*" in post_text(posts(sim, sim.channel)[-1])


@pytest.mark.parametrize(("forged", "answer"), [
    ("cancel:1", "There is no use case `cancel`"),  # the shape of data: a use case and a version
    ("notify:off", "There is no use case `notify`"),
    ("freeze:all 1h x", "This button is not one I made; nothing was changed."),
    ("pay", "This button is not one I made; nothing was changed."),
    ("pay:1.0 pipeline=sandbox", "This button is not one I made; nothing was changed."),
    ("PAY:1.0", "This button is not one I made; nothing was changed."),
])
async def test_g17_a_registry_button_value_is_a_slug_and_a_version_nothing_else(
        sim: Simulator, forged: str, answer: str) -> None:
    await as_user(sim, "dave", "/deploy pay 1.0.0 pipeline=gated")  # waits for its bake
    button = {"channel": sim.channel, "ts": "1700000000.999999", "text": "v", "blocks": [
        {"type": "actions", "block_id": "v", "elements": [
            {"type": "button", "action_id": ids.DEPLOY_VERSION, "value": forged,
             "text": {"type": "plain_text", "text": "Deploy"}}]}]}
    assert answer in said(await press(sim, button, ids.DEPLOY_VERSION))
    assert (await load(sim, 1)).state.is_active  # not cancelled
    assert "are *on*" in await as_user(sim, "dave", "/deploy notify")


async def test_g19_deploy_is_not_offered_nor_opened_to_whom_allowed_refuses(sim: Simulator) -> None:
    for user, offered in (("carol", False), ("dave", True), ("bob", False), ("alice", True)):
        sim.switch_user(user)
        card = await sim.command("/usecase show pay")
        buttons = [e["action_id"] for b in (card.reply or {}).get("blocks", [])
                   if b["type"] == "actions" for e in b["elements"]]
        assert (ids.USECASE_DEPLOY in buttons) is offered, user
    sim.switch_user("carol")
    await sim.command("/deploy pay")
    assert sim.fake.opened_views == []
    told = " ".join(c.args.get("text", "") for c in sim.fake.calls_to("chat.postEphemeral"))
    assert "Only admins or the team's devops engineers may start the `prod` pipeline of `pay`" in told


async def test_a_buttons_token_is_made_once_not_for_every_message_that_shows_it(
        settings: Settings, clock: ManualClock) -> None:
    async with Simulator(settings, clock=clock) as sim:
        await sim.command('/usecase new churn "Churn" owner=@bob')
        await sim.command('/usecase team churn add @erin devops')
        sim.switch_user("erin")
        await sim.command("/deploy churn 1.0.0")
        for user in ("bob", "alice") * 5:  # the Home tabs of both approvers, ten times
            sim.switch_user(user)
            _step, home = await sim.open_home()
            assert "Waiting for your approval" in json.dumps(home)
        async with sim.app.db.sessions() as session:
            rows = (await session.execute(
                select(ActionTokenRow.action, func.count()).group_by(ActionTokenRow.action))).all()
        # One token per button however often it was shown: the message's (approve, reject,
        # cancel), shared by the DMs and the Home tabs; none made per view.
        assert dict(rows) == {"approve": 1, "reject": 1, "cancel": 1}
        values = {e["value"] for e in latest(sim)["blocks"][-1]["elements"]}
        assert len(values) == 3
