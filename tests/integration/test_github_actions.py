"""The github-actions executor against a fake GitHub that holds both sides to GitHub's OpenAPI
description (tests/servers/fake_github.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import aiohttp
import pytest

from bot.domain.executor_specs import GithubActionsSpec
from bot.domain.kpis import GateVerdict
from bot.executors.base import HANDED_OVER, Outcome, StageJob
from bot.executors.command import CommandExecutor
from bot.executors.dry_run import DryRunExecutor
from bot.executors.github_actions import GithubActionsExecutor
from bot.executors.kpi import KpiGateExecutor
from bot.executors.registry import Executors
from bot.executors.webhook import WebhookExecutor
from tests.servers import free_port
from tests.servers.fake_github import DROP, FakeGithub, Validator, fake_github, github_validator  # noqa: F401

pytestmark = pytest.mark.github_spec

TOKEN = "ghp_s3cretTokenThatMustNeverShow0000000000"
SPEC = GithubActionsSpec(repo="acme/churn", workflow="deploy.yml", ref="release",
                    inputs=(("version", "{version}"), ("environment", "{stage}-w{wave}"),
                            ("hosts", "{targets}")))
JOB = StageJob(deployment_id="d-1", use_case="churn", version="1.4.2", stage="production", wave=2,
               targets=("web-1", "web-2"), callback_url="https://bot.example/cb", requested_by="U1")
MINUTE = timedelta(minutes=1)


class FakeTime:
    """The executor's clock and sleep: a wait passes at once and is kept. An executor that
    asks for more than ``most`` waits is stuck in a loop: the test fails there and then."""

    def __init__(self, most: int = 100) -> None:
        self.now, self.waits, self.most = time.time(), list[float](), most

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        assert len(self.waits) <= self.most, f"{len(self.waits)} waits, the last ones {self.waits[-5:]}"
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def executor(fake_github: FakeGithub) -> AsyncIterator[GithubActionsExecutor]:  # noqa: F811
    ex = GithubActionsExecutor(fake_github.url, TOKEN, poll_seconds=0.02, backoff=lambda _: 0.01)
    yield ex
    await ex.close()


async def test_a_successful_run_passes_and_is_linked(fake_github: FakeGithub,  # noqa: F811
                                                     executor: GithubActionsExecutor) -> None:
    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    (run,) = fake_github.runs.values()
    assert result.url == f"https://github.com/acme/churn/actions/runs/{run.id}"
    assert (run.workflow, run.ref) == ("deploy.yml", "release")
    assert run.inputs == {"version": "1.4.2", "environment": "production-w2", "hosts": "web-1,web-2"}
    method, path, headers, body = fake_github.requests[0]
    assert (method, path) == ("POST", "/repos/acme/churn/actions/workflows/deploy.yml/dispatches")
    assert body["return_run_details"] is True
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert run.gets >= 2  # followed through queued and in_progress to completed
    assert fake_github.cancels == []


async def test_another_conclusion_fails_naming_it(fake_github: FakeGithub,  # noqa: F811
                                                  executor: GithubActionsExecutor) -> None:
    fake_github.conclusion = "failure"

    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.FAILED
    assert result.detail == "the workflow run concluded `failure`"
    assert result.url is not None and result.url.startswith("https://github.com/acme/churn/actions/runs/")


async def test_a_cancelled_deployment_cancels_the_run(fake_github: FakeGithub,  # noqa: F811
                                                      executor: GithubActionsExecutor) -> None:
    fake_github.hold = True
    task = asyncio.create_task(executor.run(SPEC, JOB, timeout=MINUTE))
    await _until(lambda: any(run.gets >= 2 for run in fake_github.runs.values()))

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (run,) = fake_github.runs.values()
    assert fake_github.cancels == [run.id]
    assert run.conclusion == "cancelled"


async def test_a_timeout_cancels_the_run_and_fails(fake_github: FakeGithub,  # noqa: F811
                                                   executor: GithubActionsExecutor) -> None:
    fake_github.hold = True

    result = await executor.run(SPEC, JOB, timeout=timedelta(seconds=0.5))

    assert result.outcome is Outcome.FAILED
    assert result.detail == "no result within 0.5 s; the workflow run was cancelled"
    (run,) = fake_github.runs.values()
    assert fake_github.cancels == [run.id]
    assert result.url == f"https://github.com/acme/churn/actions/runs/{run.id}"


async def test_a_403_rate_limit_waits_for_the_reset(fake_github: FakeGithub,  # noqa: F811
                                                    executor: GithubActionsExecutor) -> None:
    reset = int(time.time()) + 1
    fake_github.limit(1, 403, {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                               "x-ratelimit-reset": str(reset)})
    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    assert time.time() >= reset
    assert fake_github.answered[0] == 403 and len(fake_github.runs) == 1  # dispatched once, later


async def test_a_429_waits_retry_after(fake_github: FakeGithub,  # noqa: F811
                                       executor: GithubActionsExecutor) -> None:
    fake_github.hold = False
    started = time.monotonic()
    fake_github.limit(1, 429, {"Retry-After": "1"})
    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    assert time.monotonic() - started >= 1.0
    assert fake_github.answered[0] == 429


async def test_a_rate_limit_beyond_the_timeout_fails_saying_until_when(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    reset = int(time.time()) + 3600
    fake_github.limit(1, 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})

    result = await executor.run(SPEC, JOB, timeout=timedelta(seconds=5))

    until = time.strftime("%H:%M:%S", time.gmtime(reset))
    assert result.outcome is Outcome.FAILED
    assert result.detail == f"rate-limited by GitHub until {until} UTC, after the stage's timeout"


@pytest.mark.parametrize(("status", "headers"), [
    (429, {"Retry-After": "99999999999999"}),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999999"}),
], ids=["retry-after", "reset"])
async def test_an_absurd_rate_limit_wait_is_clamped_and_said(
        fake_github: FakeGithub, executor: GithubActionsExecutor,  # noqa: F811
        status: int, headers: dict[str, str]) -> None:
    """G18: a wait no calendar can hold fails the stage in words, not with a ValueError."""
    fake_github.limit(1, status, headers)

    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("rate-limited by GitHub until "), result.detail
    assert result.detail.endswith(" UTC, after the stage's timeout")
    assert fake_github.answered == [status] and fake_github.runs == {}


@pytest.mark.parametrize(("status", "headers"), [
    (429, {"Retry-After": "0"}),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) - 3600)}),
], ids=["retry-after-0", "reset-in-the-past"])
async def test_a_rate_limit_that_says_go_now_is_waited_out_at_growing_pace(
        fake_github: FakeGithub, status: int, headers: dict[str, str]) -> None:  # noqa: F811
    """G10: "try again now", over and over, in a 20-second stage: a few requests, each after a
    longer wait than the last, then the stage fails saying until when."""
    fake_github.limit(1000, status, headers)
    fake = FakeTime()
    ex = GithubActionsExecutor(fake_github.url, TOKEN, clock=fake.clock, sleep=fake.sleep)
    try:
        result = await ex.run(SPEC, JOB, timeout=timedelta(seconds=20))
    finally:
        await ex.close()

    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("rate-limited by GitHub until "), result.detail
    assert result.detail.endswith(" UTC, after the stage's timeout")
    assert len(fake_github.requests) <= 6 and fake_github.runs == {}
    assert fake.waits[0] >= 1 and all(b > a for a, b in zip(fake.waits, fake.waits[1:], strict=False))
    assert sum(fake.waits) <= 20


async def test_a_step_takes_a_bounded_number_of_rate_limited_answers(
        fake_github: FakeGithub) -> None:  # noqa: F811
    """G10: however long the stage, a step stops asking after its budget of rate limits."""
    fake_github.limit(1000, 429, {"Retry-After": "0"})
    fake = FakeTime()
    ex = GithubActionsExecutor(fake_github.url, TOKEN, clock=fake.clock, sleep=fake.sleep)
    try:
        result = await ex.run(SPEC, JOB, timeout=timedelta(hours=2))
    finally:
        await ex.close()

    until = time.strftime("%H:%M:%S", time.gmtime(fake.now + 60))
    assert result.detail == f"rate-limited by GitHub until {until} UTC; gave up after 10 rate-limited answers"
    assert len(fake_github.requests) == 10 and fake_github.runs == {}
    assert fake.waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.fixture
def slow_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def patient(fake_github: FakeGithub,  # noqa: F811
                  slow_time: FakeTime) -> AsyncIterator[GithubActionsExecutor]:
    """The executor as it runs in production (a look every 5 s, backoff from 0.5 s), on a
    fake clock: minutes of following pass in milliseconds."""
    ex = GithubActionsExecutor(fake_github.url, TOKEN, clock=slow_time.clock, sleep=slow_time.sleep)
    yield ex
    await ex.close()


@pytest.mark.parametrize(("count", "status"), [(5, 502), (5, 503), (10, DROP), (1, 404)],
                         ids=["502", "503", "connection-lost", "one-404"])
async def test_github_in_trouble_while_a_run_is_followed_is_waited_out(
        fake_github: FakeGithub, patient: GithubActionsExecutor, slow_time: FakeTime,  # noqa: F811
        count: int, status: int) -> None:
    """G11: the run is in progress and GitHub fails the looks at it for a while (25 s of 502s,
    of lost connections, or one 404): the bot keeps following, within the stage's timeout."""
    fake_github.fail(count, status, "Not Found" if status == 404 else "Server Error", on="run", after=1)
    started = slow_time.now

    result = await patient.run(SPEC, JOB, timeout=timedelta(minutes=2))

    assert result.outcome is Outcome.SUCCEEDED, result.detail
    assert fake_github.answered.count(status) == count and fake_github.cancels == []
    assert slow_time.now - started < 120


async def test_github_in_trouble_until_the_timeout_cancels_the_run_saying_why(
        fake_github: FakeGithub, patient: GithubActionsExecutor, slow_time: FakeTime) -> None:  # noqa: F811
    """G11: the looks fail until the stage's time is up: the run is cancelled, the trouble said."""
    fake_github.fail(1000, 502, on="run", after=1)
    started = slow_time.now

    result = await patient.run(SPEC, JOB, timeout=timedelta(minutes=2))

    (run,) = fake_github.runs.values()
    assert result.detail == ("no result within 2 minutes (the last look at the run failed: GitHub API "
                             "GET failed: HTTP 502); the workflow run was cancelled")
    assert fake_github.cancels == [run.id] and run.conclusion == "cancelled"
    assert 120 <= slow_time.now - started < 130


@pytest.mark.parametrize(("count", "status", "message"), [
    (2, 404, "Not Found"), (1, 401, "Bad credentials"),
    (1, 403, "Resource not accessible by personal access token"),
], ids=["404-twice", "401", "403"])
async def test_giving_up_on_following_a_run_cancels_it(
        fake_github: FakeGithub, patient: GithubActionsExecutor,  # noqa: F811
        count: int, status: int, message: str) -> None:
    """G11: the bot stops following (the run is gone, or GitHub refuses to say): it cancels the
    run, so nothing goes on deploying while the channel says failed."""
    fake_github.fail(count, status, message, on="run", after=1)

    result = await patient.run(SPEC, JOB, timeout=timedelta(minutes=2))

    (run,) = fake_github.runs.values()
    assert result.outcome is Outcome.FAILED
    assert result.detail == (f"following the workflow run failed: GitHub API answered HTTP {status}: "
                             f"{message}; the workflow run was cancelled")
    assert fake_github.cancels == [run.id] and run.conclusion == "cancelled"
    assert result.url == f"https://github.com/acme/churn/actions/runs/{run.id}"


async def test_a_run_that_cannot_be_cancelled_either_is_said_to_be_maybe_running(
        fake_github: FakeGithub, patient: GithubActionsExecutor) -> None:  # noqa: F811
    """G11: giving up, and the cancel fails too: the channel hears the run may still be running,
    with its link."""
    fake_github.fail(2, 404, "Not Found", on="run", after=1)
    fake_github.fail(4, 502, on="cancel")

    result = await patient.run(SPEC, JOB, timeout=timedelta(minutes=2))

    (run,) = fake_github.runs.values()
    link = f"https://github.com/acme/churn/actions/runs/{run.id}"
    assert result.detail == ("following the workflow run failed: GitHub API answered HTTP 404: Not Found; "
                             "cancelling the workflow run failed (GitHub API POST failed after 4 attempts: "
                             f"HTTP 502): it may still be running: {link}")
    assert result.url == link and run.status == "in_progress"


async def test_a_run_that_ended_before_its_cancel_is_said_to_have_finished(
        fake_github: FakeGithub, patient: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.fail(2, 404, "Not Found", on="run", after=1)
    fake_github.fail(1, 409, "Cannot cancel a workflow run that is completed.", on="cancel")

    result = await patient.run(SPEC, JOB, timeout=timedelta(minutes=2))

    assert result.detail == ("following the workflow run failed: GitHub API answered HTTP 404: Not Found; "
                             "the workflow run had already finished")


async def test_an_http_error_names_status_and_message(fake_github: FakeGithub,  # noqa: F811
                                                      executor: GithubActionsExecutor) -> None:
    fake_github.limit(1, 403, {}, message="Resource not accessible by personal access token")

    result = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert result.outcome is Outcome.FAILED
    assert result.detail == "GitHub API answered HTTP 403: Resource not accessible by personal access token"
    assert fake_github.runs == {}


async def test_the_token_never_shows(fake_github: FakeGithub, executor: GithubActionsExecutor,  # noqa: F811
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_github.conclusion = "timed_out"
    fake_github.limit(1, 429, {"Retry-After": "0"})
    failed = await executor.run(SPEC, JOB, timeout=MINUTE)
    fake_github.limit(1, 401, {}, message="Bad credentials")
    refused = await executor.run(SPEC, JOB, timeout=MINUTE)
    unreachable = GithubActionsExecutor(f"http://127.0.0.1:{free_port()}", TOKEN, backoff=lambda _: 0)
    try:
        lost = await unreachable.run(SPEC, JOB, timeout=MINUTE)
    finally:
        await unreachable.close()

    assert failed.detail == "the workflow run concluded `timed_out`"
    assert refused.detail == "GitHub API answered HTTP 401: Bad credentials"
    assert lost.outcome is Outcome.FAILED and "cannot connect to 127.0.0.1" in lost.detail
    assert "attempts" in lost.detail
    for result in (failed, refused, lost):
        assert TOKEN not in f"{result!r}"
    assert caplog.records and TOKEN not in caplog.text
    assert "ghp_" not in caplog.text


async def test_githubs_words_are_masked_before_they_are_clipped(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    """G6: GitHub quoting the token back (at a place where clipping would cut it in half)."""
    fake_github.fail(1, 401, f"Bad credentials (token {TOKEN})", on="dispatch")
    fake_github.fail(1, 401, "x" * 180 + f" {TOKEN} and more", on="dispatch")

    quoted = await executor.run(SPEC, JOB, timeout=MINUTE)
    cut = await executor.run(SPEC, JOB, timeout=MINUTE)

    assert quoted.detail == "GitHub API answered HTTP 401: Bad credentials (token ***)"
    assert cut.outcome is Outcome.FAILED and "***" in cut.detail
    assert "ghp_" not in f"{quoted!r}{cut!r}"


async def test_the_validator_rejects_what_github_would_not_take(
        fake_github: FakeGithub, github_validator: Validator) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bearer x", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        url = f"{fake_github.url}/repos/acme/churn/actions/workflows/deploy.yml/dispatches"
        async with session.post(url, json={"inputs": {"version": "1"}}, headers=headers) as resp:
            no_ref = resp.status, await resp.json()
        async with session.get(f"{fake_github.url}/repos/acme/churn/actions/runs/not-a-number",
                               headers=headers) as resp:
            bad_id = resp.status

    assert no_ref[0] == 500 and "ref" in no_ref[1]["message"]
    assert bad_id == 500
    assert len(fake_github.errors) == 2
    assert fake_github.runs == {}
    fake_github.errors.clear()  # seen: the fixture must not fail this test for them


def test_the_validator_rejects_an_answer_github_would_not_give(github_validator: Validator) -> None:  # noqa: F811
    from tests.servers.fake_github import _Request, _Response

    request = _Request("get", "/repos/acme/churn/actions/runs/7", None, "", _no_parameters())
    answer = _Response(b'{"id": "seven", "status": "completed"}', 200, {}, "application/json")

    assert "answer 200" in github_validator.response_problem(request, answer)


def _no_parameters() -> object:
    from openapi_core.datatypes import RequestParameters

    return RequestParameters(query={}, header={}, cookie={})


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (the fake's state, no event to wait on)
            await asyncio.sleep(0.01)


async def test_the_registry_runs_github_actions_stages(fake_github: FakeGithub,  # noqa: F811
                                                       executor: GithubActionsExecutor) -> None:
    others = (WebhookExecutor("secret"), CommandExecutor(), DryRunExecutor(), KpiGateExecutor(_no_verdict))
    with_github, without = Executors(*others, github=executor), Executors(*others)

    ran = await with_github.run(SPEC, JOB, timeout=MINUTE)
    missing = await without.run(SPEC, JOB, timeout=MINUTE)

    assert ran.outcome is Outcome.SUCCEEDED and len(fake_github.runs) == 1
    assert (missing.outcome, missing.detail) == (Outcome.FAILED, "no github-actions executor is configured")


async def _no_verdict(*_args: object) -> GateVerdict:
    raise AssertionError("no KPI gate here")


async def test_a_run_is_named_when_dispatched_and_can_be_followed_by_another(
        fake_github: FakeGithub, executor: GithubActionsExecutor) -> None:  # noqa: F811
    fake_github.hold = True
    named: list[str] = []

    async def started(ref: str) -> None:
        named.append(ref)

    first = asyncio.create_task(executor.run(SPEC, JOB, timeout=MINUTE, started=started))
    deadline = time.monotonic() + 10
    while not named:
        assert time.monotonic() < deadline, "the run was never named"
        await asyncio.sleep(0.02)
    first.cancel(HANDED_OVER)  # this worker stops: the run goes on
    with pytest.raises(asyncio.CancelledError):
        await first
    (run,) = fake_github.runs.values()
    assert named == [f"acme/churn#{run.id}"] and fake_github.cancels == []

    fake_github.hold = False
    other = GithubActionsExecutor(fake_github.url, TOKEN, poll_seconds=0.02)
    try:
        result = await other.follow(SPEC, JOB, named[0], timeout=MINUTE)
    finally:
        await other.close()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.url == f"https://github.com/acme/churn/actions/runs/{run.id}"
    assert list(fake_github.runs) == [run.id]  # followed, not dispatched again


async def test_following_a_reference_that_names_no_run_fails_saying_so(
        executor: GithubActionsExecutor) -> None:
    bad = await executor.follow(SPEC, JOB, "acme/churn#latest", timeout=MINUTE)
    assert bad.outcome is Outcome.FAILED and bad.detail == "not a workflow run: 'acme/churn#latest'"
