"""The github-actions executor: dispatches a workflow, follows its run, cancels it when told.

The dispatch asks for the run's id (``return_run_details``, API version 2022-11-28), so the
run followed is the one this stage started, never a neighbour's. The token goes only into the
``Authorization`` header: messages, logs and exceptions name the repository and the run, and
GitHub's own words are masked, since an error answer can quote the token back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.domain.mrkdwn import web_url
from bot.domain.pipeline import ExecutorSpec
from bot.executors._common import clip, format_timeout
from bot.executors.base import ExecutorResult, Outcome, StageJob, Started, handed_over
from bot.executors.command import expand_argv
from bot.executors.webhook import exponential_backoff, read_bounded
from bot.masking import mask, url_secrets

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"   # the version whose dispatch still takes return_run_details
MAX_ANSWER_BYTES = 1024 * 1024  # a workflow run (with its repository) is tens of kB
CANCEL_SECONDS = 10.0        # a cancel on the way out must not hold up the deployment
SECONDARY_LIMIT_WAIT = 60.0  # GitHub's advice for a 429 that says nothing about when


class _Failed(Exception):
    """The stage fails with this message (safe to show: no token, no URL with secrets)."""


class _Retryable(Exception):
    """This attempt failed in a way worth another try."""


@dataclass
class _Run:
    """What the dispatch told us; filled in as soon as it is known, for cancelling."""

    id: int | None = None
    html_url: str | None = None


@dataclass(frozen=True)
class _Target:
    owner: str
    repo: str

    @property
    def base(self) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}/actions"


class GithubActionsExecutor:
    """``retries``: extra attempts after a connection error or a 5xx; ``clock`` reads
    ``x-ratelimit-reset`` (Unix seconds)."""

    def __init__(self, api_url: str, token: str, *, poll_seconds: float = 5.0, retries: int = 3,
                 backoff: Callable[[int], float] = exponential_backoff,
                 clock: Callable[[], float] = time.time) -> None:
        self._api = api_url.rstrip("/")
        self._token = token
        self._secrets = (token, *url_secrets(api_url))
        self._poll = poll_seconds
        self._retries = max(0, retries)
        self._backoff = backoff
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109 (protocol)
        started: Started | None = None,
    ) -> ExecutorResult:
        """Dispatch the workflow and follow its run; ``started`` hears the run's reference
        ("owner/repo#id") as soon as GitHub names it, so a successor can follow it."""
        async def dispatch_and_follow(target: _Target, run: _Run, deadline: float) -> ExecutorResult:
            return await self._dispatch_and_follow(spec, job, target, run, deadline, started)

        return await self._guarded(spec.repo, job, timeout, _Run(), dispatch_and_follow)

    async def follow(self, spec: ExecutorSpec, job: StageJob, ref: str, *,
                     timeout: timedelta) -> ExecutorResult:  # noqa: ASYNC109 (protocol)
        """Follow a run an earlier process dispatched (never dispatching another)."""
        repo, _, run_id = ref.partition("#")
        if not run_id.isdigit():
            return ExecutorResult(Outcome.FAILED, f"not a workflow run: {clip(ref, 100)!r}")
        log.info("action=github_run_followed deployment_id=%s stage=%s run=%s", job.deployment_id,
                 job.stage, ref)

        async def follow(target: _Target, run: _Run, deadline: float) -> ExecutorResult:
            return _verdict(await self._follow(target, run, deadline), run)

        return await self._guarded(repo, job, timeout, _Run(int(run_id)), follow)

    async def _guarded(self, repo_name: str, job: StageJob, timeout: timedelta, run: _Run,
                       work: Callable[[_Target, _Run, float], Awaitable[ExecutorResult]]
                       ) -> ExecutorResult:
        """What ``work`` came to, with every secret masked: whatever it says goes to Slack and
        the audit trail."""
        result = await self._bounded(repo_name, job, timeout, run, work)
        return replace(result, detail=self._mask(result.detail),
                       output_tail=tuple(map(self._mask, result.output_tail)),
                       url=web_url(self._mask(result.url)) if result.url else None)

    def _mask(self, text: str) -> str:
        return mask(text, self._secrets)

    async def _bounded(self, repo_name: str, job: StageJob, timeout: timedelta, run: _Run,
                       work: Callable[[_Target, _Run, float], Awaitable[ExecutorResult]]
                       ) -> ExecutorResult:
        """``work`` within the timeout; failures said, a timed-out or cancelled run cancelled
        on GitHub -- unless the step was handed over: then the run goes on, to be followed."""
        if not self._token:
            return ExecutorResult(Outcome.FAILED, "GitHub token is not configured")  # fail closed
        owner, _, repo = repo_name.partition("/")
        if not owner or not repo:
            return ExecutorResult(Outcome.FAILED, f"not a repository: {clip(repo_name, 100)!r}")
        target = _Target(owner, repo)
        deadline = asyncio.get_running_loop().time() + timeout.total_seconds()
        try:
            async with asyncio.timeout_at(deadline):
                return await work(target, run, deadline)
        except _Failed as failed:
            return ExecutorResult(Outcome.FAILED, str(failed), url=web_url(run.html_url))
        except TimeoutError:
            return await self._timed_out(target, run, job, timeout)
        except asyncio.CancelledError as stopped:
            if run.id is not None and not handed_over(stopped):  # cancelled: so is its run
                await asyncio.shield(self._cancel(target, run.id, job))
            raise

    async def _dispatch_and_follow(self, spec: ExecutorSpec, job: StageJob, target: _Target,
                                   run: _Run, deadline: float,
                                   started: Started | None) -> ExecutorResult:
        names = [name for name, _ in spec.inputs]
        values = expand_argv(tuple(value for _, value in spec.inputs), job)
        body = {"ref": spec.ref or "main", "inputs": dict(zip(names, values, strict=True)),
                "return_run_details": True}
        path = f"{target.base}/workflows/{quote(spec.workflow, safe='')}/dispatches"
        status, data = await self._call("POST", path, body, deadline=deadline, idempotent=False)
        run_id = data.get("workflow_run_id") if isinstance(data, dict) else None
        if status != 200 or not isinstance(run_id, int):
            raise _Failed(f"GitHub did not say which run it started (HTTP {status}); "
                          "it needs return_run_details (API version 2022-11-28)")
        run.id, run.html_url = run_id, web_url(data.get("html_url"))
        log.info("action=github_run_dispatched deployment_id=%s stage=%s wave=%s repo=%s/%s run_id=%s",
                 job.deployment_id, job.stage, job.wave, target.owner, target.repo, run_id)
        if started is not None:
            await started(f"{target.owner}/{target.repo}#{run_id}")
        conclusion = await self._follow(target, run, deadline)
        log.info("action=github_run_done deployment_id=%s stage=%s run_id=%s conclusion=%s",
                 job.deployment_id, job.stage, run_id, conclusion)
        return _verdict(conclusion, run)

    async def _follow(self, target: _Target, run: _Run, deadline: float) -> str:
        """Polls the run until it completes; its conclusion."""
        while True:
            _, data = await self._call("GET", f"{target.base}/runs/{run.id}", deadline=deadline)
            if not isinstance(data, dict):
                raise _Failed("GitHub answered the run's status with something that is not a run")
            run.html_url = web_url(data.get("html_url")) or run.html_url
            if data.get("status") == "completed":
                return str(data.get("conclusion") or "without a conclusion")
            await asyncio.sleep(self._poll)

    async def _timed_out(self, target: _Target, run: _Run, job: StageJob,
                         timeout: timedelta) -> ExecutorResult:
        waited = f"no result within {format_timeout(timeout)}"
        log.warning("action=github_run_timeout deployment_id=%s stage=%s run_id=%s",
                    job.deployment_id, job.stage, run.id)
        if run.id is None:
            return ExecutorResult(Outcome.FAILED, f"{waited}; the workflow was not dispatched")
        problem = await self._cancel(target, run.id, job)
        tail = (f"cancelling the workflow run failed: {problem}" if problem
                else "the workflow run was cancelled")
        return ExecutorResult(Outcome.FAILED, f"{waited}; {tail}", url=run.html_url)

    async def _cancel(self, target: _Target, run_id: int, job: StageJob) -> str:
        """Asks GitHub to cancel the run; "" when it took the request, else what went wrong."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CANCEL_SECONDS
        try:
            async with asyncio.timeout_at(deadline):
                await self._call("POST", f"{target.base}/runs/{run_id}/cancel", deadline=deadline)
        except _Failed as failed:
            problem = str(failed)
        except TimeoutError:
            problem = f"no answer within {CANCEL_SECONDS:g} s"
        else:
            problem = ""
        log.info("action=github_run_cancel deployment_id=%s stage=%s run_id=%s problem=%s",
                 job.deployment_id, job.stage, run_id, clip(self._mask(problem), 120) or "none")
        return problem

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                    deadline: float, idempotent: bool = True) -> tuple[int, Any]:
        """One API call with its retries and rate-limit waits: (status, JSON) of a 2xx."""
        attempt = 0
        while True:
            try:
                status, headers, data = await self._request(method, path, body, idempotent=idempotent)
            except _Retryable as exc:
                if attempt >= self._retries:
                    raise _Failed(f"GitHub API {method} failed after {attempt + 1} attempts: {exc}") from None
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            if 200 <= status < 300:
                return status, data
            wait = self._rate_limit_wait(status, headers, deadline)
            if wait is None:
                raise _Failed(f"GitHub API answered HTTP {status}: {_message(data, self._secrets)}")
            log.warning("action=github_rate_limited status=%s wait_seconds=%.1f", status, wait)
            await asyncio.sleep(wait)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None, *,
                       idempotent: bool) -> tuple[int, Any, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION}
        try:
            async with self._session.request(method, self._api + path, json=body, headers=headers,
                                             allow_redirects=False) as resp:
                raw = await read_bounded(resp.content, MAX_ANSWER_BYTES)
                status, answer_headers = resp.status, resp.headers
        except aiohttp.ClientConnectorError as exc:  # nothing was sent: always safe to retry
            raise _Retryable(f"cannot connect to {exc.host}:{exc.port}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            if not idempotent:  # the dispatch may have happened: a retry could start a second run
                raise _Failed(f"GitHub API {method} failed: connection lost ({type(exc).__name__})") from None
            raise _Retryable(f"connection error ({type(exc).__name__})") from None
        if status >= 500 and idempotent:
            raise _Retryable(f"HTTP {status}")
        return status, answer_headers, _json(raw)

    def _rate_limit_wait(self, status: int, headers: Any, deadline: float) -> float | None:
        """Seconds to wait before trying again, or None when the answer is not a rate limit.

        Raises when the limit lifts only after the stage's deadline."""
        if status not in (403, 429):
            return None
        now = self._clock()
        retry_after = headers.get("Retry-After", "")
        if retry_after.isdigit():
            until = now + int(retry_after)
        elif headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            until = float(headers["x-ratelimit-reset"])
        elif status == 429:
            until = now + SECONDARY_LIMIT_WAIT
        else:
            return None  # a 403 that is not a rate limit: no permission
        wait = max(0.0, until - now)
        if wait > deadline - asyncio.get_running_loop().time():
            clock_time = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S")
            raise _Failed(f"rate-limited by GitHub until {clock_time} UTC, after the stage's timeout")
        return wait


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:  # also UnicodeDecodeError; a cut-off answer too
        return None


def _message(data: Any, secrets: tuple[str, ...]) -> str:
    """GitHub's ``message`` of an error answer, masked before it is clipped (a token cut in
    half would no longer be found)."""
    message = data.get("message") if isinstance(data, dict) else None
    return clip(mask(message, secrets), 200) if isinstance(message, str) and message else "(no message)"


def _verdict(conclusion: str, run: _Run) -> ExecutorResult:
    if conclusion == "success":
        return ExecutorResult(Outcome.SUCCEEDED, "the workflow run succeeded", url=run.html_url)
    return ExecutorResult(Outcome.FAILED, f"the workflow run concluded `{clip(conclusion, 40)}`",
                          url=run.html_url)

