"""What happened, for what follows a commit: the unit of work collects these while a service
works and, once the transaction is committed, hands them to the handlers the composition root
(``bot/app.py``) lists for each. Nothing is handed on for a transaction that did not commit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageQueued:
    """The outbox has something new to deliver."""


@dataclass(frozen=True)
class DeploymentChanged:
    """A deployment was requested or moved: the engine may have work, Home tabs may be stale."""

    deployment_id: int


@dataclass(frozen=True)
class UndoNeeded:
    """The deployment ended without success: take back what its passed stages changed."""

    deployment_id: int


@dataclass(frozen=True)
class StepStopped:
    """A launched step must stop where it runs (cancel wins over anything in flight)."""

    deployment_id: int


@dataclass(frozen=True)
class DeploymentFinished:
    """A deployment ended (announced once, in this commit): how, and how long it took from its
    request, for GET /metrics."""

    deployment_id: int
    pipeline: str
    result: str
    seconds: float


@dataclass(frozen=True)
class FreezesChanged:
    """A freeze window was made, lifted, began or ended: Home tabs show the open ones."""


# What a unit of work hands on after its commit.
AfterCommit = (MessageQueued | DeploymentChanged | StepStopped | UndoNeeded | FreezesChanged
               | DeploymentFinished)
