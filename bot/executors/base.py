"""What every executor takes and returns."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.domain.changes import Change
from bot.domain.pipeline import ExecutorSpec


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ACCEPTED = "accepted"  # webhook answered 202: the result comes later to the callback URL


@dataclass(frozen=True)
class StageJob:
    deployment_id: str
    use_case: str
    version: str
    stage: str
    wave: int | None            # 1-based wave number, None for a stage without waves
    targets: tuple[str, ...]
    callback_url: str
    requested_by: str
    requested_at: datetime | None = None  # the deployment's start: a KPI's "before" value
    ran_at: datetime | None = None        # a health check's wave finished then (a KPI must be newer)
    model: str = ""                       # the use case's linked MLflow model, if any
    production: bool = False              # the run of the pipeline's production stage
    final: bool = True                    # the stage's last run (its last wave, or its only run)


@dataclass(frozen=True)
class ExecutorResult:
    outcome: Outcome
    detail: str = ""
    url: str | None = None
    output_tail: tuple[str, ...] = ()  # the last lines of a command's output, for the thread
    # How to take back what a passed stage changed (an MLflow alias's previous version), kept
    # with the stage and handed to the executor's ``undo`` if the deployment fails or is cancelled.
    undo: dict[str, str] | None = None
    change: Change | None = None  # what the version turned out to be (the commit a run built)


class UndoFailed(Exception):
    """A passed stage's change could not be taken back; the message says why (no secret), for
    the thread: people must act on it."""


# The message a step's task is cancelled with when its work is not over but is no longer this
# process's to do (shutting down, or its lease went to another): what it started elsewhere (a
# GitHub run) goes on, for another worker to follow. Any other cancellation is the deployment's
# own (`/deploy cancel`): that stops the work where it runs too.
HANDED_OVER = "handed over: leave what runs elsewhere running"

Started = Callable[[str], Awaitable[None]]  # "I started this elsewhere": kept for a successor
# "I am about to make a change; this takes it back": saved before the change is made, so a
# process that dies mid-call leaves its undo behind. False: the step is no longer running
# (cancelled meanwhile) and the change must not be made.
Intends = Callable[[dict[str, str]], Awaitable[bool]]


def handed_over(stopped: asyncio.CancelledError) -> bool:
    return HANDED_OVER in stopped.args


class Executor(Protocol):
    async def run(self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta) -> ExecutorResult:
        """Run the job; return FAILED (never raise) on timeouts and errors.

        Cancellation (the deployment was cancelled) propagates as ``asyncio.CancelledError``
        after the executor has stopped its work (a command's process is killed).
        """
        ...


@runtime_checkable
class Followable(Protocol):
    """An executor whose work runs elsewhere and can be followed by another process."""

    async def run(self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta,  # noqa: ASYNC109
                  started: Started | None = None) -> ExecutorResult: ...

    async def follow(self, spec: ExecutorSpec, job: StageJob, ref: str, *,
                     timeout: timedelta) -> ExecutorResult:  # noqa: ASYNC109
        """Follow what an earlier ``run`` started (``ref``, as it told ``started``) to its end."""
        ...

