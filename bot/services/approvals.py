"""Buttons on the deployment message: Approve, Reject (with a reason) and Cancel.

A button carries only a random token; what it means (deployment, stage, version, action) is
read from the server, and who may press it is checked now, against the stored deployment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import gates
from bot.domain.approvers import Approvers, of_gate
from bot.domain.deploy_results import DeploymentCancelled, GateApproved, GateRejected, GateToReject
from bot.domain.deployment_machine import StaleResult, Transition
from bot.domain.deployment_model import Deployment, StageRun
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.usecases import UseCase
from bot.services import deployment_flow as flow
from bot.services.commands import Actor, CancelDeployment
from bot.services.deployments import DeploymentService
from bot.services.ports import ActionToken, ConcurrentUpdate, GroupDirectory, UnitOfWork
from bot.services.usecases import load_use_case

RETRIES = 3


@dataclass
class ApprovalService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    groups: GroupDirectory
    deployments: DeploymentService
    timezone: str
    admins: frozenset[str] = frozenset()

    async def approve(self, token_id: str, actor: Actor) -> GateApproved:
        in_groups = await self._groups_of(token_id, "approve", actor)

        async def vote(d: Deployment, token: ActionToken, uc: UseCase) -> Transition:
            stage = d.stages[token.stage_index]
            ok, who = self.eligible(uc, d, stage, actor, in_groups)
            return gates.approve(d, token.stage_index, actor.user_id, self.clock.now(),
                                 eligible=ok, approvers=who)

        d = await self._apply(token_id, "approve", vote)
        stage = d.stages[self._stage_of(d)]
        assert d.id is not None
        return GateApproved(d.id, stage.name, d.use_case, d.version)

    async def check_reject(self, token_id: str, actor: Actor) -> GateToReject:
        """Before the reason dialog opens: is this still current, and may this person reject?"""
        async with self.uow() as uow:
            token, d, uc = await self._load(uow, token_id, "reject")
        stage = d.stages[token.stage_index]
        ok, who = await self.may_decide(uc, d, stage, actor)
        if not ok:
            raise NotAllowed("may_not_reject_yet", stage=stage.name, deployment=d.id, approvers=who)
        assert d.id is not None
        return GateToReject(d.id, stage.name, d.use_case, d.version)

    async def reject(self, token_id: str, actor: Actor, reason: str) -> GateRejected:
        in_groups = await self._groups_of(token_id, "reject", actor)

        async def refuse(d: Deployment, token: ActionToken, uc: UseCase) -> Transition:
            stage = d.stages[token.stage_index]
            ok, who = self.eligible(uc, d, stage, actor, in_groups)
            return gates.reject(d, token.stage_index, actor.user_id, reason, self.clock.now(),
                                eligible=ok, approvers=who)

        d = await self._apply(token_id, "reject", refuse)
        assert d.id is not None
        return GateRejected(d.id, d.use_case, d.version)

    async def cancel(self, token_id: str, actor: Actor) -> DeploymentCancelled:
        async with self.uow() as uow:
            token, _d, _uc = await self._load(uow, token_id, "cancel")
        return await self.deployments.cancel(
            CancelDeployment(token.deployment_id), actor)  # a button asks no reason

    async def may_decide(self, uc: UseCase, d: Deployment, stage: StageRun,
                         actor: Actor) -> tuple[bool, Approvers | None]:
        """Whether ``actor`` may pass or refuse this gate, and who may; asks Slack about user
        groups, so never call it with a transaction open."""
        return self.eligible(uc, d, stage, actor,
                             await self._member_of(_groups_named(stage), actor))

    def eligible(self, uc: UseCase, d: Deployment, stage: StageRun, actor: Actor,
                 in_groups: frozenset[str]) -> tuple[bool, Approvers | None]:
        """Whether ``actor`` (a member of ``in_groups``) may decide this gate, and who may
        besides its requester (None: the stage has no gate)."""
        policy = stage.spec.approval
        if policy is None:
            return False, None
        ok = gates.may_decide(policy, uc.owner_id, self.admins, actor.user_id,
                              is_admin=actor.is_admin, in_groups=in_groups)
        return ok, of_gate(policy, uc.owner_id, self.admins, d.requested_by)

    async def _groups_of(self, token_id: str, action: str, actor: Actor) -> frozenset[str]:
        """The gate's user groups that ``actor`` belongs to, asked of Slack before the
        transaction that decides (no transaction waits for Slack)."""
        async with self.uow() as uow:
            token, d, _uc = await self._load(uow, token_id, action)
        return await self._member_of(_groups_named(d.stages[token.stage_index]), actor)

    async def _member_of(self, groups: tuple[str, ...], actor: Actor) -> frozenset[str]:
        return frozenset([g for g in groups if actor.user_id in await self.groups.members(g)])

    async def _load(self, uow: UnitOfWork, token_id: str,
                    action: str) -> tuple[ActionToken, Deployment, UseCase]:
        token = await uow.deployments.token(token_id)
        if token is None or token.action != action:
            raise StaleResult("button_unknown")
        d = await uow.deployments.get(token.deployment_id)
        if d is None or d.version != token.version:
            raise StaleResult("button_orphaned")
        if not d.state.is_active:
            raise StaleResult("button_ended", deployment=d.id, state=d.state)
        return token, d, await load_use_case(uow, d.use_case)

    async def _apply(self, token_id: str, action: str,
                     change: Callable[[Deployment, ActionToken, UseCase], Awaitable[Transition]]
                     ) -> Deployment:
        """Load, change and save; a concurrent click makes us re-read and decide again."""
        async def attempt() -> Deployment:
            async with self.uow() as uow:
                token, d, uc = await self._load(uow, token_id, action)
                books = flow.Books(self.clock, self.timezone, self.admins)
                saved = await flow.persist(uow, await change(d, token, uc), books)
                await uow.commit()
            return saved

        try:
            saved = await flow.retried(attempt, tries=RETRIES)
        except ConcurrentUpdate:
            raise DomainError("too_many_clicks") from None
        return saved

    @staticmethod
    def _stage_of(d: Deployment) -> int:
        for index in range(len(d.stages) - 1, -1, -1):
            if d.stages[index].votes:
                return index
        return 0


def _groups_named(stage: StageRun) -> tuple[str, ...]:
    policy = stage.spec.approval
    return tuple(a for a in policy.approvers if a.startswith(("S", "@"))) if policy else ()
