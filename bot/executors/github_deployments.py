"""A production stage run by the github-actions executor, recorded in GitHub's Deployments API, so
GitHub's environment page tells the same story as the channel.

One GitHub deployment per production stage of a bot deployment: environment = the stage's name,
``ref`` = the dispatched ref, ``payload.bizdevops`` naming the bot's deployment and stage. Its
statuses: ``in_progress`` once the run is dispatched, ``success`` or ``failure`` at the stage's
end, and ``inactive`` for the environment's earlier deployments left at ``success`` (the ones
it replaces).

Nothing of it is stored by the bot: what a worker needs to go on after another died is read
back from GitHub. The deployment is found by its payload before one is created (a successor, a
later wave, or a create whose answer was lost finds the one that exists); a status is posted
only if the deployment does not carry it yet, and a post whose answer was lost is looked up
before it is tried again. So each status is posted once, whatever the retries and restarts.

The record keeps telling the truth after the run: a stage whose run passed leaves an undo with
its deployment (``bot.domain.undo``), so that if the bot's deployment ends without success after
all (a health check after the run, a later stage, a cancel), GitHub's record says ``failure``
too — once, claimed and retried by the engine like any change taken back.

``auto_inactive`` is not relied on: GitHub applies it only to *non-production* environments, and
these deployments are created with ``production_environment: true`` (a stage named "deploy" is
not production to GitHub otherwise). It is sent as false, and the replaced deployments are made
inactive here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from bot.executors._common import clip
from bot.executors.base import ExecutorResult, Outcome, StageJob, UndoFailed
from bot.executors.github_api import GithubApi, GithubFailed, Pace
from bot.log_events import get_logger

log = get_logger(__name__)

FINAL = frozenset({"success", "failure", "error", "inactive"})  # a deployment that ended
LOOKED_AT = 20   # the environment's newest deployments searched for ours, and for replaced ones
TRIES = 3        # a status post whose answer was lost: looked up, then tried again, this often
LAST_SECONDS = 20.0  # for the last status (and the replaced ones'), after the run's end


def _lost(failed: GithubFailed) -> bool:
    """The request may have reached GitHub without its answer reaching us."""
    return failed.status is None or failed.status >= 500


@dataclass
class Record:
    """A production stage's GitHub deployment, as far as this worker knows it."""

    repo: str = ""            # "/repos/o/r"
    id: int | None = None
    trouble: str = ""         # why recording the stage in GitHub failed


class GithubDeployments:
    """``clock``: Unix time, the executor's (it bounds the last status's calls)."""

    def __init__(self, api: GithubApi, clock: Callable[[], float]) -> None:
        self._api = api
        self._clock = clock

    # ── a stage's story ────────────────────────────────────────────────────────────────────

    async def start(self, record: Record, job: StageJob, repo: str, ref: str,
                    log_url: str | None, pace: Pace) -> None:
        """The stage's GitHub deployment, found or created, ``in_progress`` (unless it ended)."""
        record.repo = repo
        try:
            record.id = await self.open(repo, job, ref, pace)
            await self.post(repo, record.id, "in_progress", pace, log_url=log_url, unless=FINAL,
                            description=f"{job.version}: the workflow run is under way")
        except GithubFailed as failed:
            self._failed(record, job, failed)

    async def close(self, record: Record, job: StageJob, result: ExecutorResult,
                    log_url: str | None) -> ExecutorResult:
        """The last status: ``success`` (the replaced ones made inactive) when the stage's last
        run passed, ``failure`` when a run failed; ``result``, saying what went wrong recording."""
        if result.outcome is Outcome.FAILED or job.final:
            state = "success" if result.outcome is Outcome.SUCCEEDED else "failure"
            await self.last(record, job, state, result.detail, log_url)
        if result.outcome is Outcome.SUCCEEDED and record.id is not None:
            result = replace(result, undo={"repo": record.repo, "deployment": str(record.id),
                                           "stage": job.stage})
        if not record.trouble:
            return result
        return replace(result, detail=f"{result.detail}; recording it in GitHub's Deployments "
                                      f"failed: {record.trouble}")

    async def last(self, record: Record, job: StageJob, state: str, description: str,
                   log_url: str | None) -> None:
        if record.id is None:
            return
        pace = Pace(self._clock() + LAST_SECONDS)
        try:
            async with asyncio.timeout(LAST_SECONDS):
                await self.post(record.repo, record.id, state, pace, log_url=log_url,
                                unless=FINAL, description=self._api.mask(description))
                if state == "success":  # again after a restart: only those still at success
                    await self.retire_replaced(record.repo, job.stage, record.id, pace)
        except GithubFailed as failed:
            self._failed(record, job, failed)
        except TimeoutError:
            self._failed(record, job, GithubFailed(f"no answer within {LAST_SECONDS:g} s"))

    async def undo(self, data: dict[str, str]) -> str:
        """The bot's deployment ended without success after this stage's run passed: its GitHub
        deployment says ``failure`` (unless it says so already); a line for the thread."""
        repo, deployment, stage = data.get("repo", ""), data.get("deployment", ""), data.get("stage", "")
        if not repo or not deployment.isdigit():
            raise UndoFailed("the stage's undo record lacks its GitHub deployment")
        told = f"GitHub's deployment {deployment} of {stage}"
        try:
            async with asyncio.timeout(LAST_SECONDS):
                posted = await self.post(repo, int(deployment), "failure",
                                         Pace(self._clock() + LAST_SECONDS), unless=FINAL - {"success"},
                                         description="the deployment did not succeed")
        except TimeoutError:
            raise UndoFailed(f"{told} still says success: GitHub did not answer within "
                             f"{LAST_SECONDS:g} s") from None
        except GithubFailed as failed:
            raise UndoFailed(clip(self._api.mask(f"{told} still says success: {failed}"), 500)) from None
        return f"{told} {'now says' if posted else 'says'} failure, as the deployment ended"

    def _failed(self, record: Record, job: StageJob, failed: GithubFailed) -> None:
        record.trouble = str(failed)
        log.warning("github_deployment_record_failed", deployment_id=job.deployment_id, stage=job.stage,
                    problem=clip(self._api.mask(str(failed)), 120))

    # ── the API's calls ────────────────────────────────────────────────────────────────────

    async def open(self, repo: str, job: StageJob, ref: str, pace: Pace) -> int:
        """The GitHub deployment of ``job``'s stage: the one that exists, else a new one."""
        found = await self._find(repo, job, ref, pace)
        if found is not None:
            return found
        body = {"ref": ref, "task": "deploy", "environment": job.stage, "auto_merge": False,
                "required_contexts": [], "production_environment": True,
                "transient_environment": False,
                "description": clip(f"{job.use_case} {job.version} (bizdevops #{job.deployment_id})", 140),
                "payload": {"bizdevops": {"deployment_id": job.deployment_id, "stage": job.stage,
                                          "use_case": job.use_case, "version": job.version}}}
        try:
            status, data = await self._api.call("POST", f"{repo}/deployments", body, pace=pace,
                                                idempotent=False)
        except GithubFailed as failed:
            if not _lost(failed) or (found := await self._find(repo, job, ref, pace)) is None:
                raise
            return found
        if status != 201 or not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise GithubFailed(f"GitHub did not create a deployment (HTTP {status})", status=status)
        log.info("github_deployment_created", deployment_id=job.deployment_id, stage=job.stage,
                 github_deployment=data["id"])
        return int(data["id"])

    async def _find(self, repo: str, job: StageJob, ref: str, pace: Pace) -> int | None:
        path = (f"{repo}/deployments?environment={quote(job.stage, safe='')}"
                f"&ref={quote(ref, safe='')}&per_page={LOOKED_AT}")
        _, data = await self._api.call("GET", path, pace=pace)
        for found in data if isinstance(data, list) else ():
            payload = found.get("payload") if isinstance(found, dict) else None
            ours = payload.get("bizdevops") if isinstance(payload, dict) else None
            if isinstance(ours, dict) and ours.get("deployment_id") == job.deployment_id \
                    and ours.get("stage") == job.stage and isinstance(found.get("id"), int):
                return int(found["id"])
        return None

    async def states(self, repo: str, deployment: int, pace: Pace) -> list[str]:
        """Its statuses' states, newest first."""
        _, data = await self._api.call("GET", f"{repo}/deployments/{deployment}/statuses?per_page=100",
                                       pace=pace)
        return [s["state"] for s in data if isinstance(s, dict) and isinstance(s.get("state"), str)] \
            if isinstance(data, list) else []

    async def post(self, repo: str, deployment: int, state: str, pace: Pace, *,
                   description: str = "", log_url: str | None = None,
                   unless: frozenset[str] = frozenset()) -> bool:
        """Posts ``state`` unless the deployment carries it (or one of ``unless``) already;
        whether it was posted now."""
        body: dict[str, Any] = {"state": state, "description": clip(description, 140),
                                "auto_inactive": False}
        if log_url:
            body["log_url"] = log_url
        for attempt in range(1, TRIES + 1):
            if {state, *unless} & set(await self.states(repo, deployment, pace)):
                return False
            try:
                await self._api.call("POST", f"{repo}/deployments/{deployment}/statuses", body,
                                     pace=pace, idempotent=False)
            except GithubFailed as failed:
                if not _lost(failed) or attempt == TRIES:
                    raise
                continue  # it may have landed: look before trying again
            log.info("github_deployment_status", github_deployment=deployment, state=state)
            return True
        return False  # pragma: no cover - the loop returns or raises

    async def retire_replaced(self, repo: str, environment: str, ours: int, pace: Pace) -> list[int]:
        """``inactive`` for the environment's deployments older than ``ours`` still at
        ``success``: ours replaces them. Their ids."""
        path = f"{repo}/deployments?environment={quote(environment, safe='')}&per_page={LOOKED_AT}"
        _, data = await self._api.call("GET", path, pace=pace)
        older = [d["id"] for d in data if isinstance(d, dict) and isinstance(d.get("id"), int)
                 and d["id"] != ours] if isinstance(data, list) else []
        retired = []
        for deployment in older[:LOOKED_AT]:
            if deployment > ours:
                continue  # a newer one: not ours to retire
            states = await self.states(repo, deployment, pace)
            if states and states[0] == "success":
                await self.post(repo, deployment, "inactive", pace, description="replaced")
                retired.append(deployment)
        return retired
