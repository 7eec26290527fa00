"""The MLflow model registry in the channel: a new version of a linked model is announced with
its run's key metrics and a Deploy button; an alias moved outside the bot is announced as such,
so the channel never believes a stale state.

What an event needs from MLflow is read first; then the delivery's claim and its announcements
commit together, so a delivery cut short (the process died) is done in full by MLflow's retry,
and a repeated one is said once. An alias event is judged by where MLflow says the alias points
now, not by the delivery (deliveries can arrive out of order). A move is the bot's own only when
the bot recorded it before making it: where it last put the alias, or the intent a running
deployment's step saved before its call to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.deployment_model import Deployment, StageState
from bot.domain.executor_specs import MlflowSpec
from bot.domain.kpis import SourceFailure
from bot.domain.registry import RegistryEvent
from bot.domain.registry_cards import AliasMovedOutside, NewModelVersion
from bot.log_events import get_logger
from bot.services.ports import ModelLink, UnitOfWork
from bot.services.registry_ports import ModelRegistry

log = get_logger(__name__)

ALIAS_EVENTS = ("model_version_alias.created", "model_version_alias.deleted")


@dataclass
class RegistryEvents:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    registry: ModelRegistry | None

    async def handle(self, event: RegistryEvent) -> None:
        """One verified delivery from MLflow (an exception: not handled, MLflow delivers again)."""
        async with self.uow() as uow:
            links = await uow.use_cases.linked_to(event.model)
        if not links:
            return
        if event.kind == "model_version.created":
            metrics = await self._metrics(event)
            async with self.uow() as uow:
                if await self._claim(uow, event):
                    for link in links:
                        uow.outbox.post(link.channel_id, NewModelVersion(
                            link.slug, event.model, event.version, event.run_id,
                            tuple(metrics.items()), event.tags))
                await uow.commit()
        elif event.kind in ALIAS_EVENTS:
            after = await self._alias_now(event)
            async with self.uow() as uow:
                if await self._claim(uow, event):
                    await self._alias_moved(uow, event, after, links)
                await uow.commit()

    async def _claim(self, uow: UnitOfWork, event: RegistryEvent) -> bool:
        return await uow.claims.claim("mlflow", event.delivery_id, self.clock.now())

    async def _metrics(self, event: RegistryEvent) -> dict[str, float]:
        if self.registry is None or not event.run_id:
            return {}
        try:
            return await self.registry.run_metrics(event.run_id)
        except SourceFailure as failure:  # the announcement matters more than its metrics
            log.warning("mlflow.metrics_unavailable", run_id=event.run_id, reason=failure)
            return {}

    async def _alias_now(self, event: RegistryEvent) -> str | None:
        """Where the alias points now by MLflow's word; the delivery's if MLflow cannot say."""
        said = event.version if event.kind.endswith("created") else None
        if self.registry is None:
            return said
        try:
            return await self.registry.alias_now(event.model, event.alias)
        except SourceFailure as failure:
            log.warning("mlflow.alias_unread", model=event.model, alias=event.alias, reason=failure)
            return said

    async def _alias_moved(self, uow: UnitOfWork, event: RegistryEvent, after: str | None,
                           links: list[ModelLink]) -> None:
        # The running deployments first: a step's intent is saved before its call, and its
        # result (where the bot put the alias) commits after it; read the other way round, a
        # result committed between the two reads would hide the bot's own move.
        running = [await uow.deployments.active_for(link.slug) for link in links]
        before = await uow.aliases.known(event.model, event.alias)
        if before == after:  # as the bot knows it already (its own move, or an older delivery)
            return
        ours = any(_moving(d, event.model, event.alias, after) for d in running)
        await uow.aliases.remember(event.model, event.alias, after, self.clock.now())
        log.info("mlflow.alias", model=event.model, alias=event.alias, version=after, by_bot=ours)
        if ours:
            return
        for link, d in zip(links, running, strict=True):
            waiting = d.id if d is not None and _waits_to_move(d, event.alias) else None
            uow.outbox.post(link.channel_id, AliasMovedOutside(
                link.slug, event.model, event.alias, before, after, waiting))


def _moving(d: Deployment | None, model: str, alias: str, version: str | None) -> bool:
    """A running step that recorded, before its call, that it points this alias at this version."""
    stage = d.current_stage if d is not None else None
    intent = stage.undo if stage is not None and stage.state is StageState.RUNNING else None
    return intent is not None and (intent.get("model"), intent.get("alias"),
                                   intent.get("deployed")) == (model, alias, version)


def _waits_to_move(d: Deployment, alias: str) -> bool:
    """Its next stage points ``alias`` and waits for an approval (an outside move front-runs it)."""
    stage = d.current_stage
    return (stage is not None and stage.state is StageState.AWAITING_APPROVAL
            and isinstance(stage.spec.run, MlflowSpec) and stage.spec.run.alias == alias)

