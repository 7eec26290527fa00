"""A `github-actions` stage through the whole app, against the fake GitHub whose every request
and answer is checked with GitHub's OpenAPI description: the run is dispatched with the
deployment's inputs and linked in the thread; a failing run fails the stage naming its
conclusion; `/deploy cancel` cancels the run on GitHub; GitHub's words reach Slack and the audit
trail without the token and without a ping; a run the bot stops following is cancelled, or
said to be maybe still running."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_machine import cancel
from bot.domain.deployment_model import DeploymentState
from bot.render.cards import slack_args
from bot.render.deploy_stop_words import kept_stop
from bot.simulator.simulator import Simulator
from storage.database import Database
from tests.scenario.deploy_support import (
    announcements,
    command_without_settling,
    deployment_id_of,
    events,
    load,
    new_use_case,
    thread,
)
from tests.servers.fake_github import FakeGithub, fake_github, github_validator  # noqa: F401

pytestmark = pytest.mark.github_spec

TOKEN = "ghp_scenarioToken0123456789abcdefABCDEF"
PIPELINE = """
[pipelines.release]
[[pipelines.release.stages]]
name = "deploy"
run = { executor = "github-actions", repo = "acme/churn", workflow = "deploy.yml", ref = "release", \
        inputs = { version = "{version}", environment = "{stage}" } }
timeout = "10m"
"""


@asynccontextmanager
async def actions_sim(settings: Settings, clock: ManualClock, tmp_path: Path,
                      github: FakeGithub) -> AsyncIterator[Simulator]:
    path = tmp_path / "pipelines.toml"
    path.write_text(PIPELINE, encoding="utf-8")
    settings = replace(settings, pipelines_path=str(path), github_api_url=github.url,
                       github_token=TOKEN, github_poll_seconds=0.05)
    async with Simulator(settings, clock=clock) as sim:
        await new_use_case(sim)
        yield sim


async def test_a_workflow_run_deploys_and_is_linked(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        started = await sim.command("/deploy churn 1.4.2")
        d_id = deployment_id_of(started.reply)
        await sim.app.settle()
        assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
        (run,) = fake_github.runs.values()
        assert run.inputs == {"version": "1.4.2", "environment": "deploy"}
        assert any(f"https://github.com/acme/churn/actions/runs/{run.id}" in note
                   for note in thread(sim, d_id))
        assert all(TOKEN not in note for note in thread(sim, d_id))

        fake_github.conclusion = "failure"
        failed = deployment_id_of((await sim.command("/deploy churn 1.4.3")).reply)
        await sim.app.settle()
        d = await load(sim, failed)
        assert d.state is DeploymentState.FAILED
        assert "the workflow run concluded `failure`" in kept_stop(d.detail)


async def test_cancelling_the_deployment_cancels_the_run(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    fake_github.hold = True  # the run stays in progress until cancelled
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        d_id = deployment_id_of(await command_without_settling(sim, "/deploy churn 2.0.0"))
        await sim.app.engine.tick()  # launches the stage: its run starts on GitHub
        deadline = time.monotonic() + 10
        while not any(run.gets >= 2 for run in fake_github.runs.values()):
            assert time.monotonic() < deadline, "the run was never followed"
            await asyncio.sleep(0.02)
        await sim.command(f"/deploy cancel {d_id} \"wrong build\"")
        await sim.app.settle()
        assert (await load(sim, d_id)).state is DeploymentState.CANCELLED
        (run,) = fake_github.runs.values()
        assert fake_github.cancels == [run.id] and run.conclusion == "cancelled"
        (recorded,) = fake_github.repository.deployments.values()
        assert recorded.states == ["in_progress", "failure"]


async def test_a_run_outlives_its_worker_and_is_followed_by_the_next_not_run_again(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    fake_github.hold = True  # the run is still in progress when the worker stops
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        d_id = deployment_id_of(await command_without_settling(sim, "/deploy churn 3.0.0"))
        await sim.app.engine.tick()
        deadline = time.monotonic() + 10
        while not (await load(sim, d_id)).stages[0].step.follow:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the run was never saved with its step"
            await asyncio.sleep(0.02)
        (run,) = fake_github.runs.values()
        assert (await load(sim, d_id)).stages[0].step.follow == f"acme/churn#{run.id}"  # type: ignore[union-attr]

        await sim.app.engine.stop()  # shutting down: the run on GitHub goes on
        assert fake_github.cancels == [] and run.status in ("queued", "in_progress")

        sim.app.engine.owner = "the-next-worker"
        clock.advance(timedelta(minutes=2))  # the stopped worker's lease ran out
        fake_github.hold = False
        await sim.app.settle()
        d = await load(sim, d_id)
        assert d.state is DeploymentState.SUCCEEDED, d.detail
        assert list(fake_github.runs) == [run.id]  # followed, never dispatched again
        dispatches = [r for r in fake_github.requests if r[1].endswith("/dispatches")]
        assert len(dispatches) == 1 and fake_github.cancels == []
        assert any("another follows the run it started" in note for note in thread(sim, d_id))
        # GitHub's record of it: one deployment, each status once, whoever posted it
        (recorded,) = fake_github.repository.deployments.values()
        assert recorded.body["payload"]["bizdevops"]["deployment_id"] == str(d_id)
        assert recorded.states == ["in_progress", "success"]



async def test_a_cancel_made_by_another_process_cancels_the_run_this_one_follows(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    fake_github.hold = True
    settings = replace(settings, lease=timedelta(seconds=0.3))  # a heartbeat every 0.1 s
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        d_id = deployment_id_of(await command_without_settling(sim, "/deploy churn 4.0.0"))
        await sim.app.engine.tick()
        deadline = time.monotonic() + 10
        while not fake_github.runs or not any(r.gets >= 2 for r in fake_github.runs.values()):
            assert time.monotonic() < deadline, "the run was never followed"
            await asyncio.sleep(0.02)
        # another process: no events reach here
        other = Database(settings.database_url, clock, words=slack_args)
        try:
            async with other.uow() as uow:
                d = await uow.deployments.get(d_id)
                assert d is not None
                await uow.deployments.save(cancel(d, "UALICE", "wrong build", clock.now()).deployment)
                await uow.commit()
        finally:
            await other.dispose()
        (run,) = fake_github.runs.values()
        while fake_github.cancels != [run.id]:  # this process's heartbeat sees the cancel
            assert time.monotonic() < deadline + 10, "the run was not cancelled"
            await asyncio.sleep(0.05)
        assert run.conclusion == "cancelled"


async def test_githubs_words_reach_slack_and_the_audit_trail_without_token_or_ping(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    """G6: a 401 that quotes the token and pings the channel fails the stage; what the channel,
    the thread, the announcement, the DM and the audit trail show keeps neither."""
    fake_github.fail(1, 401, f"Bad credentials (token {TOKEN} <!channel>)", on="dispatch")
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        d_id = deployment_id_of((await sim.command("/deploy churn 5.0.0")).reply)
        await sim.app.settle()
        assert (await load(sim, d_id)).state is DeploymentState.FAILED
        status = await sim.command(f"/deploy status {d_id}")

        shown = [json.dumps(call.args, ensure_ascii=False) for call in sim.fake.calls]
        shown += [json.dumps(body, ensure_ascii=False) for _url, body in sim.fake.response_posts]
        shown.append(json.dumps(status.reply, ensure_ascii=False))
        stored = [f"{e.detail} {e.kind}" for e in await events(sim, d_id)]
        assert any("Bad credentials" in text for text in shown)  # GitHub's words did get through
        assert any("Bad credentials" in text for text in stored)
        assert fake_github.answered == [401] and not fake_github.runs
        for text in shown:
            assert "<!channel>" not in text  # Slack would ping; stored words are escaped when shown
        for text in (*shown, *stored):
            assert TOKEN not in text


async def test_a_run_the_bot_can_no_longer_follow_nor_cancel_is_said_to_be_maybe_running(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    """G11: the token is revoked while the run is in progress: the bot cannot look at the run
    any more nor cancel it, and the channel hears that it may still be running, with its link."""
    fake_github.fail(1, 401, "Bad credentials", on="run", after=1)
    fake_github.fail(1, 401, "Bad credentials", on="cancel")
    async with actions_sim(settings, clock, tmp_path, fake_github) as sim:
        d_id = deployment_id_of((await sim.command("/deploy churn 6.0.0")).reply)
        await sim.app.settle()

        d = await load(sim, d_id)
        (run,) = fake_github.runs.values()
        link = f"https://github.com/acme/churn/actions/runs/{run.id}"
        assert d.state is DeploymentState.FAILED
        assert kept_stop(d.detail).endswith(f"it may still be running: {link}"), d.detail
        (said,) = announcements(sim, d_id)
        assert "following the workflow run failed: GitHub API answered HTTP 401: Bad credentials" in said
        assert f"it may still be running: {link}" in said
        assert [r[1] for r in fake_github.requests if r[1].endswith("/cancel")] == \
            [f"/repos/acme/churn/actions/runs/{run.id}/cancel"]  # asked, refused
        assert fake_github.cancels == [] and run.status in ("queued", "in_progress")
