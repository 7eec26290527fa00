"""The github-actions executor: dispatches a workflow, follows its run, cancels it when told.

The dispatch asks for the run's id (``return_run_details``, API version 2022-11-28), so the
run followed is the one this stage started, never a neighbour's. The token goes only into the
``Authorization`` header: messages, logs and exceptions name the repository and the run, and
GitHub's own words are masked, since an error answer can quote the token back.

The result names the commit the run ran on (its ``head_sha``, with the commit's time and page
from the commit API). A production stage is also recorded as a GitHub deployment with its
statuses (bot/executors/github_deployments.py); a record that GitHub refuses is said in the
stage's detail but does not fail the stage: the workflow run is the deployment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import quote

from bot.domain.executor_specs import ExecutorSpec, GithubActionsSpec
from bot.domain.safe_text import web_url
from bot.executors._common import clip, format_timeout
from bot.executors.base import ExecutorResult, Intends, Outcome, StageJob, Started, handed_over
from bot.executors.command import expand_argv
from bot.executors.github_api import ApiSettings, GithubApi, GithubFailed, Pace, Sleep
from bot.executors.github_commits import commit_change
from bot.executors.github_deployments import GithubDeployments, Record
from bot.executors.webhook import exponential_backoff
from bot.log_events import get_logger

log = get_logger(__name__)

CANCEL_SECONDS = 10.0        # a cancel on the way out must not hold up the deployment
LONGEST_LOOK_WAIT = 60.0     # between failed looks at a run: backoff, but never blind for long


@dataclass
class _Run:  # what the dispatch told us, known as soon as it can be, for cancelling
    id: int | None = None
    html_url: str | None = None
    trouble: str = ""              # why the last look at it failed, for a timeout's words
    head_sha: str = ""             # the commit it runs on
    record: Record = field(default_factory=Record)  # a production stage's GitHub deployment


@dataclass
class _Looks:
    """Failed looks at a run in a row. GitHub in trouble (a 5xx, a lost connection) is waited
    out, and so is one 404 (a moment of an eventually consistent API); a second 404, or any
    other refusal, ends the following."""

    failed: int = 0
    not_found: int = 0

    def look_again(self, failure: GithubFailed) -> bool:
        self.failed += 1
        self.not_found = self.not_found + 1 if failure.status == 404 else 0
        return failure.transient or self.not_found == 1


@dataclass(frozen=True)
class _Target:
    owner: str
    repo: str

    @property
    def repository(self) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}"

    @property
    def base(self) -> str:
        return f"{self.repository}/actions"


Work = Callable[[_Target, _Run, Pace], Awaitable[ExecutorResult]]


class GithubActionsExecutor:
    """``retries``: extra attempts after a connection error or a 5xx; ``clock`` is Unix time
    (it reads ``x-ratelimit-reset``) and ``sleep`` waits on it: tests pass a fake pair."""

    def __init__(self, api_url: str, token: str, *, poll_seconds: float = 5.0, retries: int = 3,
                 backoff: Callable[[int], float] = exponential_backoff,
                 clock: Callable[[], float] = time.time, sleep: Sleep = asyncio.sleep) -> None:
        self._token = token
        self._poll = poll_seconds
        self._clock, self._sleep, self._backoff = clock, sleep, backoff
        self._api = GithubApi(api_url, token, ApiSettings(max(0, retries), backoff, clock, sleep))
        self._deployments = GithubDeployments(self._api, clock)

    async def close(self) -> None:
        await self._api.close()

    async def undo(self, data: dict[str, str]) -> str:
        return await self._deployments.undo(data)  # the stage's GitHub record says failure

    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109 (protocol)
        started: Started | None = None, intends: Intends | None = None,  # its undo: in the result
    ) -> ExecutorResult:
        """Dispatch the workflow and follow its run; ``started`` hears the run's reference
        ("owner/repo#id") as soon as GitHub names it, so a successor can follow it."""
        assert isinstance(spec, GithubActionsSpec)  # Executors runs each spec with its kind's executor
        async def dispatch_and_follow(target: _Target, run: _Run, pace: Pace) -> ExecutorResult:
            return await self._dispatch_and_follow(spec, job, target, run, pace, started)

        return await self._guarded(spec.repo, job, timeout, _Run(), dispatch_and_follow)

    async def follow(self, spec: ExecutorSpec, job: StageJob, ref: str, *,
                     timeout: timedelta) -> ExecutorResult:  # noqa: ASYNC109 (protocol)
        """Follow a run an earlier process dispatched (never dispatching another)."""
        repo, _, run_id = ref.partition("#")
        if not run_id.isdigit():
            return ExecutorResult(Outcome.FAILED, f"not a workflow run: {clip(ref, 100)!r}")
        log.info("github_run_followed", deployment_id=job.deployment_id, stage=job.stage, run=ref)

        assert isinstance(spec, GithubActionsSpec)

        async def follow(target: _Target, run: _Run, pace: Pace) -> ExecutorResult:
            await self._open_record(spec, job, target, run, pace)  # if its worker died first
            return await self._verdict(await self._follow(target, run, pace), target, run, pace)

        return await self._guarded(repo, job, timeout, _Run(int(run_id)), follow)

    async def _guarded(self, repo_name: str, job: StageJob, timeout: timedelta, run: _Run,
                       work: Work) -> ExecutorResult:
        """What ``work`` came to, with every secret masked: whatever it says goes to Slack and
        the audit trail."""
        result = await self._close_record(job, run, await self._bounded(repo_name, job, timeout,
                                                                         run, work))
        return replace(result, detail=self._mask(result.detail),
                       output_tail=tuple(map(self._mask, result.output_tail)),
                       url=web_url(self._mask(result.url)) if result.url else None)

    def _mask(self, text: str) -> str:
        return self._api.mask(text)

    async def _bounded(self, repo_name: str, job: StageJob, timeout: timedelta, run: _Run,
                       work: Work) -> ExecutorResult:
        """``work`` within the timeout; failures said, a timed-out or cancelled run cancelled
        on GitHub -- unless the step was handed over: then the run goes on, to be followed."""
        if not self._token:
            return ExecutorResult(Outcome.FAILED, "GitHub token is not configured")  # fail closed
        owner, _, repo = repo_name.partition("/")
        if not owner or not repo:
            return ExecutorResult(Outcome.FAILED, f"not a repository: {clip(repo_name, 100)!r}")
        target = _Target(owner, repo)
        # The stage's time on the executor's clock, for the waits it decides on; the loop's
        # timeout stops whatever hangs.
        pace = Pace(self._clock() + timeout.total_seconds())
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                return await work(target, run, pace)
        except GithubFailed as failed:
            return await self._gave_up(target, run, job, str(failed))
        except TimeoutError:
            return await self._timed_out(target, run, job, timeout)
        except asyncio.CancelledError as stopped:
            if run.id is not None and not handed_over(stopped):  # cancelled: so is its run
                await asyncio.shield(self._cancel_all(target, run, job))
            raise

    async def _dispatch_and_follow(self, spec: GithubActionsSpec, job: StageJob, target: _Target,
                                   run: _Run, pace: Pace,
                                   started: Started | None) -> ExecutorResult:
        names = [name for name, _ in spec.inputs]
        values = expand_argv(tuple(value for _, value in spec.inputs), job)
        body = {"ref": spec.ref or "main", "inputs": dict(zip(names, values, strict=True)),
                "return_run_details": True}
        path = f"{target.base}/workflows/{quote(spec.workflow, safe='')}/dispatches"
        status, data = await self._api.call("POST", path, body, pace=pace, idempotent=False)
        run_id = data.get("workflow_run_id") if isinstance(data, dict) else None
        if status != 200 or not isinstance(run_id, int):
            raise GithubFailed(f"GitHub did not say which run it started (HTTP {status}); "
                               "it needs return_run_details (API version 2022-11-28)")
        run.id, run.html_url = run_id, web_url(data.get("html_url"))
        log.info("github_run_dispatched", deployment_id=job.deployment_id, stage=job.stage, wave=job.wave,
                 repo=f"{target.owner}/{target.repo}", run_id=run_id)
        if started is not None:
            await started(f"{target.owner}/{target.repo}#{run_id}")
        await self._open_record(spec, job, target, run, pace)
        conclusion = await self._follow(target, run, pace)
        log.info("github_run_done", deployment_id=job.deployment_id, stage=job.stage, run_id=run_id,
                 conclusion=conclusion)
        return await self._verdict(conclusion, target, run, pace)

    async def _verdict(self, conclusion: str, target: _Target, run: _Run,
                       pace: Pace) -> ExecutorResult:
        """What the run came to, with the commit it ran on."""
        verdict = _verdict(conclusion, run)
        if not run.head_sha:
            return verdict
        return replace(verdict, change=await commit_change(self._api, target.repository,
                                                           run.head_sha, run.html_url, pace))

    async def _open_record(self, spec: GithubActionsSpec, job: StageJob, target: _Target,
                           run: _Run, pace: Pace) -> None:
        """A production stage's GitHub deployment, found or created, ``in_progress``."""
        if job.production:
            await self._deployments.start(run.record, job, target.repository, spec.ref or "main",
                                          run.html_url, pace)

    async def _close_record(self, job: StageJob, run: _Run, result: ExecutorResult) -> ExecutorResult:
        return await self._deployments.close(run.record, job, result, run.html_url)

    async def _cancel_all(self, target: _Target, run: _Run, job: StageJob) -> None:
        """The deployment was cancelled: its run, and its GitHub deployment's story."""
        await self._cancel(target, run, job)
        await self._deployments.last(run.record, job, "failure", "cancelled", run.html_url)

    async def _follow(self, target: _Target, run: _Run, pace: Pace) -> str:
        """Polls the run until it completes; its conclusion. A look that fails in passing is
        tried again, after a wait that grows, for as long as the stage has time."""
        looks = _Looks()
        while True:
            try:
                _, data = await self._api.call("GET", f"{target.base}/runs/{run.id}", pace=pace,
                                               retries=0)
            except GithubFailed as failed:
                if not looks.look_again(failed):
                    raise
                run.trouble = str(failed)
                log.warning("github_run_look_failed", run_id=run.id, failed_looks=looks.failed,
                            problem=clip(self._mask(str(failed)), 120))
                wait = max(self._poll, self._backoff(min(looks.failed - 1, 16)))  # 2**1024: no float
                await self._pause(pace, min(wait, LONGEST_LOOK_WAIT))
                continue
            if not isinstance(data, dict):
                raise GithubFailed("GitHub answered the run's status with something that is not a run")
            looks, run.trouble = _Looks(), ""
            run.html_url = web_url(data.get("html_url")) or run.html_url
            if isinstance(sha := data.get("head_sha"), str) and sha:
                run.head_sha = sha
            if data.get("status") == "completed":
                return str(data.get("conclusion") or "without a conclusion")
            await self._pause(pace, self._poll)

    async def _pause(self, pace: Pace, seconds: float) -> None:
        """Waits ``seconds``, or until the stage's time is up: then TimeoutError, as the loop's
        own timeout would raise (an injected clock runs apart from the loop's)."""
        await self._sleep(max(0.0, min(seconds, pace.ends - self._clock())))
        if self._clock() >= pace.ends:
            raise TimeoutError

    async def _timed_out(self, target: _Target, run: _Run, job: StageJob,
                         timeout: timedelta) -> ExecutorResult:
        waited = f"no result within {format_timeout(timeout)}"
        log.warning("github_run_timeout", deployment_id=job.deployment_id, stage=job.stage, run_id=run.id)
        if run.id is None:
            return ExecutorResult(Outcome.FAILED, f"{waited}; the workflow was not dispatched")
        if run.trouble:
            waited += f" (the last look at the run failed: {run.trouble})"
        return ExecutorResult(Outcome.FAILED, f"{waited}; {await self._cancel(target, run, job)}",
                              url=run.html_url)

    async def _gave_up(self, target: _Target, run: _Run, job: StageJob, reason: str) -> ExecutorResult:
        """The stage fails for ``reason``. A run it started is cancelled: nobody follows it any
        more, and it must not go on deploying while the channel says the stage failed."""
        if run.id is None:
            return ExecutorResult(Outcome.FAILED, reason, url=run.html_url)
        log.warning("github_run_given_up", deployment_id=job.deployment_id, stage=job.stage, run_id=run.id)
        cancelled = await self._cancel(target, run, job)
        return ExecutorResult(Outcome.FAILED, f"following the workflow run failed: {reason}; {cancelled}",
                              url=run.html_url)

    async def _cancel(self, target: _Target, run: _Run, job: StageJob) -> str:
        """Asks GitHub to cancel the run; what came of it, in words for the channel."""
        pace = Pace(self._clock() + CANCEL_SECONDS)
        said, problem = "the workflow run was cancelled", ""
        try:
            async with asyncio.timeout(CANCEL_SECONDS):
                await self._api.call("POST", f"{target.base}/runs/{run.id}/cancel", pace=pace)
        except GithubFailed as failed:
            if failed.status == 409:  # "Cannot cancel a workflow run that is completed"
                said = "the workflow run had already finished"
            else:
                problem = str(failed)
        except TimeoutError:
            problem = f"no answer within {CANCEL_SECONDS:g} s"
        log.info("github_run_cancel", deployment_id=job.deployment_id, stage=job.stage, run_id=run.id,
                 problem=clip(self._mask(problem), 120) or "none")
        if problem:  # said plainly: people must go and look, and the link takes them there
            where = f": {run.html_url}" if run.html_url else ""
            said = f"cancelling the workflow run failed ({problem}): it may still be running{where}"
        return said


def _verdict(conclusion: str, run: _Run) -> ExecutorResult:
    if conclusion == "success":
        return ExecutorResult(Outcome.SUCCEEDED, "the workflow run succeeded", url=run.html_url)
    return ExecutorResult(Outcome.FAILED, f"the workflow run concluded `{clip(conclusion, 40)}`",
                          url=run.html_url)

