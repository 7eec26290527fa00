"""The github-actions executor names the commit its run ran on, and records a production stage in
GitHub's Deployments API (one deployment, statuses in_progress → success/failure, inactive for the
one replaced) -- once each, across retries, lost answers and a worker that dies mid-run. Against
the fake GitHub that holds both sides to GitHub's OpenAPI description."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.changes import ChangeKind
from bot.domain.executor_specs import GithubActionsSpec
from bot.executors.base import HANDED_OVER, Outcome, StageJob
from bot.executors.github_actions import GithubActionsExecutor
from tests.servers.fake_github import LOST, FakeGithub, fake_github, github_validator  # noqa: F401

pytestmark = pytest.mark.github_spec

TOKEN = "ghp_s3cretTokenThatMustNeverShow0000000000"
SPEC = GithubActionsSpec(repo="acme/churn", workflow="deploy.yml", ref="release",
                         inputs=(("version", "{version}"), ("environment", "{stage}")))
JOB = StageJob(deployment_id="d-1", use_case="churn", version="1.4.2", stage="verify", wave=None,
               targets=(), callback_url="https://bot.example/cb", requested_by="U1")
PROD = replace(JOB, deployment_id="17", stage="production", production=True)
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def executor(fake_github: FakeGithub) -> AsyncIterator[GithubActionsExecutor]:  # noqa: F811
    ex = GithubActionsExecutor(fake_github.url, TOKEN, poll_seconds=0.02, backoff=lambda _: 0.01)
    yield ex
    await ex.close()


def _creates(github: FakeGithub) -> list[str]:
    return [path for method, path, _, _ in github.requests
            if method == "POST" and path.endswith("/deployments")]


async def test_the_run_names_its_commit_with_the_commit_apis_time_and_page(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    head = fake_github.repository.push("Score churn with the new features", "mona")

    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED
    assert result.change is not None
    assert (result.change.kind, result.change.ref, result.change.at) == (ChangeKind.COMMIT, head.sha, head.at)
    assert result.change.url == f"https://github.com/acme/churn/commit/{head.sha}"
    assert ("GET", f"/repos/acme/churn/commits/{head.sha}") in [r[:2] for r in fake_github.requests]
    assert _creates(fake_github) == []  # not the production stage: not a GitHub deployment


async def test_a_commit_github_cannot_describe_is_still_named_without_its_time(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.fail(2, 503, on="commit")

    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED and result.change is not None
    sha = fake_github.repository.head.sha
    assert (result.change.ref, result.change.at) == (sha, None)
    assert result.change.url == f"https://github.com/acme/churn/commit/{sha}"


async def test_a_production_stage_is_one_github_deployment_in_progress_then_success(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    result = await executor.run(SPEC, PROD, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    (deployment,) = fake_github.repository.deployments.values()
    assert (deployment.environment, deployment.ref) == ("production", "release")
    assert deployment.body["auto_merge"] is False and deployment.body["required_contexts"] == []
    assert deployment.body["production_environment"] is True
    assert deployment.body["payload"]["bizdevops"] == {"deployment_id": "17", "stage": "production",
                                                       "use_case": "churn", "version": "1.4.2"}
    assert deployment.states == ["in_progress", "success"]
    (run,) = fake_github.runs.values()
    assert deployment.statuses[-1]["log_url"] == f"https://github.com/acme/churn/actions/runs/{run.id}"
    assert all(s["auto_inactive"] is False for s in deployment.statuses)


async def test_a_success_makes_the_deployment_it_replaces_inactive_and_a_failure_does_not(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    await executor.run(SPEC, PROD, timeout=MINUTE)
    fake_github.conclusion = "failure"
    failed = await executor.run(SPEC, replace(PROD, deployment_id="18"), timeout=MINUTE)
    fake_github.conclusion = "success"
    await executor.run(SPEC, replace(PROD, deployment_id="19"), timeout=MINUTE)
    staging = await executor.run(SPEC, replace(PROD, deployment_id="20", stage="staging"), timeout=MINUTE)

    assert failed.outcome is Outcome.FAILED and staging.outcome is Outcome.SUCCEEDED
    first, second, third, other = fake_github.repository.deployments.values()
    assert second.states == ["in_progress", "failure"]
    assert second.statuses[-1]["description"] == "the workflow run concluded `failure`"
    assert first.states == ["in_progress", "success", "inactive"]  # replaced by the third
    assert third.states == ["in_progress", "success"]  # another environment does not replace it
    assert other.environment == "staging" and other.states == ["in_progress", "success"]


async def test_waves_of_one_stage_are_one_deployment_ending_with_the_last(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    first = await executor.run(SPEC, replace(PROD, wave=1, final=False), timeout=MINUTE)
    (deployment,) = fake_github.repository.deployments.values()
    assert first.outcome is Outcome.SUCCEEDED and deployment.states == ["in_progress"]

    await executor.run(SPEC, replace(PROD, wave=2, final=True), timeout=MINUTE)

    assert list(fake_github.repository.deployments.values()) == [deployment]
    assert deployment.states == ["in_progress", "success"]
    assert len(_creates(fake_github)) == 1


async def test_a_status_whose_answer_was_lost_is_looked_up_not_posted_twice(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    """GET statuses (answered), POST in_progress (done, its answer lost), GET again: there."""
    fake_github.fail(1, LOST, on="statuses", after=1)
    fake_github.fail(1, LOST, on="deployments", after=1)  # the create's answer lost too

    result = await executor.run(SPEC, PROD, timeout=MINUTE)

    assert fake_github.answered.count(LOST) == 2
    assert result.outcome is Outcome.SUCCEEDED and "GitHub" not in result.detail, result.detail
    (deployment,) = fake_github.repository.deployments.values()  # found, not created again
    assert deployment.states == ["in_progress", "success"]
    assert len(_creates(fake_github)) == 1


async def test_a_cancelled_deployment_leaves_a_failure_on_github(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.hold = True
    task = asyncio.create_task(executor.run(SPEC, PROD, timeout=MINUTE))
    await _until(lambda: any(d.states for d in fake_github.repository.deployments.values()))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (deployment,) = fake_github.repository.deployments.values()
    assert deployment.states == ["in_progress", "failure"]
    assert deployment.statuses[-1]["description"] == "cancelled"


async def test_a_successor_goes_on_with_the_same_deployment_and_posts_each_status_once(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.hold = True
    named: list[str] = []

    async def started(ref: str) -> None:
        named.append(ref)

    first = asyncio.create_task(executor.run(SPEC, PROD, timeout=MINUTE, started=started))
    await _until(lambda: any(d.states for d in fake_github.repository.deployments.values()))
    first.cancel(HANDED_OVER)  # this worker stops: the run goes on, so does its GitHub deployment
    with pytest.raises(asyncio.CancelledError):
        await first
    (deployment,) = fake_github.repository.deployments.values()
    assert deployment.states == ["in_progress"]

    fake_github.hold = False
    other = GithubActionsExecutor(fake_github.url, TOKEN, poll_seconds=0.02)
    try:
        followed = await other.follow(SPEC, PROD, named[0], timeout=MINUTE)
        again = await other.follow(SPEC, PROD, named[0], timeout=MINUTE)  # died before recording it
    finally:
        await other.close()

    assert followed.outcome is again.outcome is Outcome.SUCCEEDED
    assert followed.change is not None and followed.change.ref == fake_github.repository.head.sha
    assert list(fake_github.repository.deployments.values()) == [deployment]
    assert deployment.states == ["in_progress", "success"]


async def test_a_successor_of_a_worker_that_died_before_recording_creates_it_once(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    """The predecessor named its run, then died before the GitHub deployment existed."""
    fake_github.hold = True
    named: list[str] = []

    async def started(ref: str) -> None:
        named.append(ref)

    first = asyncio.create_task(executor.run(SPEC, JOB, timeout=MINUTE, started=started))
    await _until(lambda: bool(named))
    first.cancel(HANDED_OVER)
    with pytest.raises(asyncio.CancelledError):
        await first
    fake_github.hold = False

    result = await executor.follow(SPEC, PROD, named[0], timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED
    (deployment,) = fake_github.repository.deployments.values()
    assert deployment.states == ["in_progress", "success"]


async def test_github_refusing_the_record_does_not_fail_the_stage_but_is_said(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.fail(1, 403, "Resource not accessible by personal access token", on="deployments")

    result = await executor.run(SPEC, PROD, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED
    assert result.detail == ("the workflow run succeeded; recording it in GitHub's Deployments failed: "
                             "GitHub API answered HTTP 403: Resource not accessible by personal "
                             "access token")
    assert fake_github.repository.deployments == {}


async def _until(condition: object) -> None:
    assert callable(condition)
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)
