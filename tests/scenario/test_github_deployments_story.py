"""A `github-actions` pipeline through the whole app, as GitHub sees it: the deployment knows the
commit its run ran on (stored, with the commit's time and page), and its production stage -- only
that one -- is a GitHub deployment in the stage's environment, in_progress then success, which
makes the one it replaces inactive; `/deploy changes` lists the commits pushed since. Against
the fake GitHub that checks every request and answer with GitHub's OpenAPI description."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import DeploymentState
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import deployment_id_of, load, new_use_case, private_replies, thread
from tests.servers.fake_github import FakeGithub, fake_github, github_validator  # noqa: F401

pytestmark = pytest.mark.github_spec

TOKEN = "ghp_storyToken0123456789abcdefABCDEFabcd"
PIPELINE = """
[pipelines.release]
[[pipelines.release.stages]]
name = "staging"
run = { executor = "github-actions", repo = "acme/churn", workflow = "deploy.yml", ref = "main", \
        inputs = { version = "{version}", environment = "{stage}" } }
[[pipelines.release.stages]]
name = "production"
run = { executor = "github-actions", repo = "acme/churn", workflow = "deploy.yml", ref = "main", \
        inputs = { version = "{version}", environment = "{stage}" } }
"""


async def test_a_release_is_its_commit_and_a_github_deployment_that_replaces_the_last(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    path = tmp_path / "pipelines.toml"
    path.write_text(PIPELINE, encoding="utf-8")
    settings = replace(settings, pipelines_path=str(path), github_api_url=fake_github.url,
                       github_token=TOKEN, github_poll_seconds=0.02)
    repo = fake_github.repository
    first_commit = repo.push("Score churn weekly", "mona")
    async with Simulator(settings, clock=clock) as sim:
        await new_use_case(sim)
        first = deployment_id_of((await sim.command("/deploy churn 1.0.0")).reply)
        await sim.app.settle()
        second_commit = repo.push("Add tenure to the features", "hubot")
        second = deployment_id_of((await sim.command("/deploy churn 1.1.0")).reply)
        await sim.app.settle()

        one, two = await load(sim, first), await load(sim, second)
        # what is not yet in production: the commits pushed since, from GitHub's compare view
        repo.push("Tune the threshold", "mona")
        repo.push("Retrain monthly\n\nThe body is not shown", "hubot")
        asked = await sim.command("/deploy changes churn")
        sim.switch_user("bob")  # anyone who may see the use case may ask
        by_version = await sim.command(f"/deploy changes churn {second_commit.sha[:7]}")
    said = private_replies(asked)
    assert "2 changes not yet in production (up to `main`)" in said
    assert "Tune the threshold — mona" in said and "Retrain monthly — hubot" in said
    assert "The body" not in said
    assert f"https://github.com/acme/churn/compare/{second_commit.sha}...main" in said
    assert "nothing in" in private_replies(by_version)
    compares = [r[1] for r in fake_github.requests if "/compare/" in r[1]]
    assert compares == [f"/repos/acme/churn/compare/{second_commit.sha}...main",
                        f"/repos/acme/churn/compare/{second_commit.sha}...{second_commit.sha[:7]}"]
    assert one.state is two.state is DeploymentState.SUCCEEDED
    assert one.change == Change(ChangeKind.COMMIT, first_commit.sha, first_commit.at,
                                f"https://github.com/acme/churn/commit/{first_commit.sha}")
    assert two.change is not None and two.change.ref == second_commit.sha
    # staging is not recorded in GitHub; production is, once per deployment
    older, newer = repo.deployments.values()
    assert {older.environment, newer.environment} == {"production"}
    assert older.body["payload"]["bizdevops"]["deployment_id"] == str(first)
    assert newer.body["payload"]["bizdevops"]["deployment_id"] == str(second)
    assert (older.ref, newer.ref) == ("main", "main")
    assert (older.sha, newer.sha) == (first_commit.sha, second_commit.sha)
    assert older.states == ["in_progress", "success", "inactive"]
    assert newer.states == ["in_progress", "success"]


HEALTH_CHECKED = """
[pipelines.release]
[[pipelines.release.stages]]
name = "production"
targets = 4
waves = ["100%"]
run = { executor = "github-actions", repo = "acme/churn", workflow = "deploy.yml", ref = "main" }
health = { executor = "command", argv = ["python3", "-c", "raise SystemExit('error rate 9%')"] }
"""


async def test_a_run_that_passed_is_failure_in_github_once_its_health_check_fails(
        settings: Settings, clock: ManualClock, tmp_path: Path,
        fake_github: FakeGithub) -> None:  # noqa: F811
    """The workflow deployed (success, as GitHub saw the run); the bot's health check then failed
    the deployment: GitHub's record says failure too, and the thread says so, once."""
    path = tmp_path / "pipelines.toml"
    path.write_text(HEALTH_CHECKED, encoding="utf-8")
    settings = replace(settings, pipelines_path=str(path), github_api_url=fake_github.url,
                       github_token=TOKEN, github_poll_seconds=0.02)
    fake_github.repository.push("Score churn weekly", "mona")
    async with Simulator(settings, clock=clock) as sim:
        await new_use_case(sim)
        failed = deployment_id_of((await sim.command("/deploy churn 1.0.0")).reply)
        await sim.app.settle()
        d = await load(sim, failed)
        notes = thread(sim, failed)
    assert d.state is DeploymentState.FAILED and d.stop is not None and d.stop.health
    [record] = fake_github.repository.deployments.values()
    assert record.states == ["in_progress", "success", "failure"]
    told = [n for n in notes if f"GitHub's deployment {record.id} of production" in n]
    assert told == [f"↩️ GitHub's deployment {record.id} of production now says failure, as the "
                    "deployment ended"], notes
    assert d.stages[0].undo is None  # taken back: nothing is left to do after a restart
