"""What a deployment's end means for the people who must act: the facts of its announcement.

A rollout that failed half-way and was not rolled back leaves production in a mix: its owner and
requester must know what runs where. A rollback that failed leaves it worse: the owner, the
requester and the admins must know, and nothing else deploys until someone has looked. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.pipeline import OnFailure, production_index


class NotRolledBack(StrEnum):
    """Why a failure that changed production is not being rolled back."""

    HALT = "halt"                        # the stage says on_failure = "halt"
    NO_EARLIER_VERSION = "no_version"    # nothing succeeded before it to go back to
    NOT_A_ROLLOUT = "not_a_rollout"      # a stage without waves is not rolled back by itself


@dataclass(frozen=True)
class Ending:
    owner: str
    admins: tuple[str, ...] = ()
    rollback_id: int | None = None                 # the automatic rollback it set off
    rollback_version: str | None = None
    not_rolled_back: NotRolledBack | None = None   # production is left changed, and why
    locked: bool = False                           # a failed rollback locked the use case

    def mentions(self, d: Deployment) -> tuple[str, ...]:
        """Who must hear of it by name: nobody for an ordinary end."""
        if self.locked:
            return tuple(dict.fromkeys((self.owner, d.requested_by, *self.admins)))
        if self.not_rolled_back is not None:
            return tuple(dict.fromkeys((self.owner, d.requested_by)))
        return ()


def changed_production(d: Deployment) -> bool:
    """Whether this deployment's own runs changed what production runs."""
    return any(g.deployment_id == d.id for g in d.production)


def ending(d: Deployment, *, owner: str, admins: frozenset[str],
           rollback: Deployment | None = None) -> Ending:
    if d.kind == "rollback" and d.state is DeploymentState.FAILED:
        return Ending(owner, tuple(sorted(admins)), locked=True)
    if rollback is not None:
        return Ending(owner, rollback_id=rollback.id, rollback_version=rollback.version)
    if d.state is not DeploymentState.FAILED or not changed_production(d):
        return Ending(owner)
    spec = d.stages[production_index(tuple(s.spec for s in d.stages))].spec
    why = (NotRolledBack.NOT_A_ROLLOUT if not spec.waves else
           NotRolledBack.HALT if spec.on_failure is OnFailure.HALT else NotRolledBack.NO_EARLIER_VERSION)
    return Ending(owner, not_rolled_back=why)
