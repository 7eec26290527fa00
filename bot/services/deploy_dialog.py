"""The deploy dialog: `/deploy <slug>` without a version, and a card's Deploy… button.

Its version list is the linked MLflow model's recent versions when a model is linked (asked
briefly: a dialog must open within Slack's 3 seconds), else the use case's deployment history.
Submitting it starts the deployment through DeploymentService.start, every usual check included.
Inside a freeze window it is refused to all but admins, and asks them why they pass it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.deploy_results import DeployForm
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import Pipeline, PipelineSet
from bot.domain.usecases import Conflict, Phase, UseCase
from bot.log_events import get_logger
from bot.services.commands import Actor
from bot.services.deployments import DeploymentService
from bot.services.freezes import chain_for, frozen_refusal
from bot.services.ports import UnitOfWork
from bot.services.registry_ports import ModelRegistry
from bot.services.usecases import load_use_case

log = get_logger(__name__)

REGISTRY_WAIT = 1.5  # seconds: the trigger to open a dialog lives 3


@dataclass
class DeployDialogs:
    uow: Callable[[], UnitOfWork]
    deployments: DeploymentService
    registry: ModelRegistry | None
    clock: Clock
    timezone: str

    @property
    def pipelines(self) -> PipelineSet:
        return self.deployments.pipelines

    async def view(self, slug: str, actor: Actor) -> DeployForm:
        """The dialog for this use case, or the refusal the command would give (not allowed,
        archived, unknown use case) before anybody fills anything in."""
        async with self.uow() as uow:
            uc = await load_use_case(uow, slug)
            history = [d.version for d in await uow.deployments.history(uc.slug, limit=10)]
            chain = await chain_for(uow, self.pipelines.freezes, uc.slug, self.clock.now())
        default = self.pipelines.for_use_case(uc.slug)
        if not default.allowed:
            self.deployments.ensure_deployer(uc, actor, "deploy")
        if uc.phase is Phase.ARCHIVED:
            raise Conflict("archived_not_deployable", slug=uc.slug)
        if chain and not actor.is_admin:  # refused now, not after the form is filled in
            raise frozen_refusal(uc.slug, chain, self.timezone)
        await self._ensure_passable(uc, default, actor)
        versions = await self._model_versions(uc) or history
        pipelines = tuple(self.pipelines.pipelines[name] for name in sorted(self.pipelines.pipelines))
        return DeployForm(uc, tuple(versions), pipelines, default.name, actor.channel_id,
                          tuple(chain), self.deployments.admins, actor.user_id, self.timezone)

    async def _ensure_passable(self, uc: UseCase, pipeline: Pipeline, actor: Actor) -> None:
        """With the use case's own pipeline, refused before the form is filled in: who may
        start it (its `allowed`), and no dead end (user groups asked of Slack briefly; if
        Slack is slow, submitting checks again)."""
        async def ask() -> None:
            await self.deployments.ensure_may_start(uc, pipeline, actor)
            self.deployments.ensure_passable(uc, pipeline, actor,
                                             await self.deployments.members(pipeline))
        try:
            await asyncio.wait_for(ask(), REGISTRY_WAIT)
        except TimeoutError:
            return

    async def _model_versions(self, uc: UseCase) -> list[str]:
        if not uc.model or self.registry is None:
            return []
        try:
            found = await asyncio.wait_for(self.registry.recent_versions(uc.model), REGISTRY_WAIT)
        except (SourceFailure, TimeoutError) as failure:
            log.warning("deploy_dialog.versions_unavailable", model=uc.model, reason=failure or "timeout")
            return []
        return [v.version for v in found]
