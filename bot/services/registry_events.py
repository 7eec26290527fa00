"""The MLflow model registry in the channel: a new version of a linked model is announced with
its run's key metrics and a Deploy button; an alias moved outside the bot is announced as such,
so the channel never believes a stale state.

An alias move is the bot's own when it is where the bot last put it, or when a running
deployment of the use case is moving it to that version now (MLflow's event can arrive before
the step's result is recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.deployment_model import Deployment
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import ExecutorKind
from bot.domain.registry import RegistryEvent
from bot.render import registry_blocks
from bot.render.blocks import Message
from bot.services.ports import ModelLink, OutgoingMessage, UnitOfWork
from bot.services.registry_ports import ModelRegistry

log = logging.getLogger(__name__)


@dataclass
class RegistryEvents:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    registry: ModelRegistry | None

    async def handle(self, event: RegistryEvent) -> None:
        """One verified delivery from MLflow; a repeated delivery id is said once."""
        async with self.uow() as uow:
            links = await uow.use_cases.linked_to(event.model)
            fresh = await uow.digests.claim_reminder("mlflow", event.delivery_id, self.clock.now())
            await uow.commit()
        if not links or not fresh:
            return
        if event.kind == "model_version.created":
            await self._new_version(event, links)
        elif event.kind in ("model_version_alias.created", "model_version_alias.deleted"):
            await self._alias_moved(event, links)

    async def _new_version(self, event: RegistryEvent, links: list[ModelLink]) -> None:
        metrics: dict[str, float] = {}
        if self.registry is not None and event.run_id:
            try:
                metrics = await self.registry.run_metrics(event.run_id)
            except SourceFailure as failure:  # the announcement matters more than its metrics
                log.warning("action=mlflow.metrics_unavailable run_id=%s reason=%s", event.run_id,
                            failure)
        async with self.uow() as uow:
            for link in links:
                msg = registry_blocks.new_version(link.slug, event.model, event.version,
                                                  event.run_id, metrics, event.tags)
                _post(uow, link.channel_id, msg)
            await uow.commit()

    async def _alias_moved(self, event: RegistryEvent, links: list[ModelLink]) -> None:
        after = event.version if event.kind.endswith("created") else None
        async with self.uow() as uow:
            # The running deployments first: a step that moved the alias is either still
            # running when read, or its result (and where the bot put the alias) has committed
            # by the time the alias is read next. Read the other way round, a result committed
            # between the two reads would hide the bot's own move.
            running = [await uow.deployments.active_for(link.slug) for link in links]
            before = await uow.aliases.known(event.model, event.alias)
            ours = before == after or any(_moving(d, event.alias, after) for d in running)
            await uow.aliases.remember(event.model, event.alias, after, self.clock.now())
            if not ours:
                for link in links:
                    _post(uow, link.channel_id, registry_blocks.alias_moved_outside(
                        link.slug, event.model, event.alias, before, after))
            await uow.commit()
        log.info("action=mlflow.alias model=%s alias=%s version=%s by_bot=%s", event.model,
                 event.alias, after, ours)


def _moving(d: Deployment | None, alias: str, version: str | None) -> bool:
    """A running deployment whose current stage points this alias at this version."""
    stage = d.current_stage if d is not None else None
    return (stage is not None and stage.spec.run.kind is ExecutorKind.MLFLOW
            and stage.spec.run.alias == alias and d is not None and d.version == version)


def _post(uow: UnitOfWork, channel: str, msg: Message) -> None:
    uow.outbox.add(OutgoingMessage("chat.postMessage", channel, {"channel": channel, **msg.as_args()}))
