"""`/deploy`: start, status, history, cancel, rollback, lock and unlock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.clock import Clock
from bot.domain import deploy_results as done
from bot.domain import deployment_machine as machine
from bot.domain.approvers import Members, dead_end, groups_named
from bot.domain.deploy_command_cards import LockAnnounced, StartedDespiteFreeze, UnlockAnnounced
from bot.domain.deployment_machine import Transition
from bot.domain.deployment_model import Deployment
from bot.domain.freeze_passage import Passage, as_text
from bot.domain.pipeline import (
    Pipeline,
    PipelineSet,
)
from bot.domain.production import deployed
from bot.domain.rollbacks import rollback_pipeline, rollback_version
from bot.domain.usecases import DEPLOYER_ROLES as DEPLOYER_ROLES
from bot.domain.usecases import Conflict, DomainError, NotAllowed, Phase, UseCase
from bot.domain.usecases import may_deploy as may_deploy
from bot.services import deploy_status, freezes, notifications
from bot.services import deployment_flow as flow
from bot.services.commands import (
    Actor,
    CancelDeployment,
    DeployCommand,
    DeploymentHistory,
    DeploymentStatus,
    LockDeployments,
    NotifySetting,
    RollbackDeployment,
    StartDeployment,
    UnlockDeployments,
)
from bot.services.ports import ConcurrentUpdate, DeployLock, GroupDirectory, UnitOfWork
from bot.services.usecases import load_use_case

CANCEL_TRIES = 20  # abort wins: a cancel outlasts any burst of changes in flight


@dataclass
class DeploymentService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    pipelines: PipelineSet
    timezone: str
    admins: frozenset[str] = frozenset()
    groups: GroupDirectory | None = None  # a pipeline's `allowed` and gates may name user groups

    @property
    def admins_configured(self) -> bool:
        return bool(self.admins)

    @property
    def books(self) -> flow.Books:
        return flow.Books(self.clock, self.timezone, self.admins)

    async def execute(self, command: DeployCommand, actor: Actor) -> done.DeployAnswer:
        match command:
            case StartDeployment():
                return await self.start(command, actor)
            case DeploymentStatus():
                return await self.status(command)
            case DeploymentHistory():
                return await self.history(command)
            case CancelDeployment():
                return await self.cancel(command, actor)
            case RollbackDeployment():
                return await self.rollback(command, actor)
            case LockDeployments():
                return await self.lock(command, actor)
            case UnlockDeployments():
                return await self.unlock(command, actor)
            case NotifySetting():
                return await notifications.setting(self.uow, self.clock, command, actor.user_id)
        raise AssertionError(f"unhandled command {command!r}")

    @staticmethod
    def ensure_deployer(uc: UseCase, actor: Actor, doing: str) -> None:
        """Refuse who may not deploy ``uc`` (``doing``: deploy, cancel, lock or unlock)."""
        if not may_deploy(uc, actor.user_id, is_admin=actor.is_admin):
            raise NotAllowed("deployers_only", admins_may=True, doing=doing, slug=uc.slug,
                             owner=uc.owner_id,
                             team=tuple(m.user_id for m in uc.team if m.role in DEPLOYER_ROLES))

    def _ensure_starter(self, uc: UseCase, pipeline: Pipeline, actor: Actor,
                        groups: frozenset[str]) -> None:
        """A pipeline's `allowed` says who may start it (admins always); else the deployers."""
        if not pipeline.allowed:
            self.ensure_deployer(uc, actor, "deploy")
        elif not (actor.is_admin or pipeline.may_start(actor.user_id, uc.role_of(actor.user_id),
                                                        groups)):
            raise NotAllowed("pipeline_starters_only", admins_may=True, allowed=pipeline.allowed,
                             pipeline=pipeline.name, slug=uc.slug)

    async def _groups_of(self, pipeline: Pipeline, actor: Actor) -> frozenset[str]:
        """The pipeline's allowed groups ``actor`` is in, asked of Slack before any transaction."""
        named = [who for who in pipeline.allowed if who[0] in "@S"]
        if self.groups is None or not named or actor.is_admin:
            return frozenset()
        return frozenset([g for g in named if actor.user_id in await self.groups.members(g)])

    async def ensure_may_start(self, uc: UseCase, pipeline: Pipeline, actor: Actor) -> None:
        """Refuse who may not start ``pipeline`` (asks Slack about its allowed groups)."""
        self._ensure_starter(uc, pipeline, actor, await self._groups_of(pipeline, actor))

    async def members(self, pipeline: Pipeline) -> Members:
        """Who is in each user group its gates name, asked of Slack before any transaction
        (whether anyone but the requester could pass them)."""
        if self.groups is None:
            return {}
        return {g: await self.groups.members(g) for g in groups_named(pipeline.stages)}

    def ensure_passable(self, uc: UseCase, pipeline: Pipeline, actor: Actor, members: Members) -> None:
        """No dead ends: refuse a deployment that would wait at a gate no one else could pass."""
        found = dead_end(pipeline.stages, owner_id=uc.owner_id, admins=self.admins,
                         requester=actor.user_id, members=members)
        if found is not None:
            raise NotAllowed("gate_dead_end", found=found, slug=uc.slug, pipeline=pipeline.name,
                             admins_configured=self.admins_configured)

    def _pipeline(self, slug: str, requested: str | None) -> Pipeline:
        if requested and requested not in self.pipelines.pipelines:
            raise DomainError("unknown_pipeline", name=requested,
                              known=tuple(sorted(self.pipelines.pipelines)))
        return self.pipelines.for_use_case(slug, requested)

    async def start(self, command: StartDeployment, actor: Actor) -> done.DeploymentStarted:
        pipeline = self._pipeline(command.slug, command.pipeline)
        d = await self._open(command.slug, command.version, pipeline, actor, kind="deploy",
                             asked=command)
        assert d.id is not None
        return done.DeploymentStarted(d.id, d.use_case, d.version, d.channel_id, d.dry_run)

    async def precheck(self, command: StartDeployment, actor: Actor) -> None:
        """What surely refuses this start, read before a dialog closes so it can say so in
        place: archived, locked, a deployment still active, a gate nobody else could pass, a
        freeze. `start` checks it all again (and who may: that can take a call to Slack, too
        slow before an ack)."""
        pipeline = self._pipeline(command.slug, command.pipeline)
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
            if uc.phase is Phase.ARCHIVED:
                raise Conflict("archived_not_deployable", slug=uc.slug)
            await self._ensure_free(uow, uc.slug)
            if not groups_named(pipeline.stages):  # else Slack must say who is in them: `start`
                self.ensure_passable(uc, pipeline, actor, {})
            await freezes.passage(uow, self.pipelines.freezes, uc.slug, actor, command.override,
                                  self.clock.now(), self.timezone)

    async def _open(self, slug: str, version: str, pipeline: Pipeline, actor: Actor, *,
                    kind: str, rollback_of: int | None = None,
                    asked: StartDeployment | None = None) -> Deployment:
        override = asked.override if asked else ""
        groups = await self._groups_of(pipeline, actor)
        members = await self.members(pipeline)
        async with self.uow() as uow:
            uc = await load_use_case(uow, slug)
            self._ensure_starter(uc, pipeline, actor, groups)
            if uc.phase is Phase.ARCHIVED:
                raise Conflict("archived_not_deployable", slug=slug)
            await self._ensure_free(uow, slug)
            self.ensure_passable(uc, pipeline, actor, members)
            # A rollback restores a known-good version: freezes never hold a repair back.
            passed = () if kind == "rollback" else await freezes.passage(
                uow, self.pipelines.freezes, slug, actor, override, self.clock.now(), self.timezone)
            why = as_text(Passage(override, passed)) if passed else ""
            running = await uow.deployments.production(slug)
            t = machine.request(use_case=slug, version=version, pipeline=pipeline,
                                requested_by=actor.user_id, channel_id=uc.channel_id,
                                now=self.clock.now(), kind=kind, rollback_of=rollback_of,
                                baseline=running.placement if running else ())
            t = freezes.overridden(t, actor, why, self.clock.now()) if why else t
            if asked is not None:  # what its version is, if the requester said; the API token
                t = replace(t, deployment=replace(t.deployment, change=asked.change,
                                                  api_token=asked.api_token))
            try:
                d = await uow.deployments.add(t.deployment)
            except ConcurrentUpdate:  # another request won the race for this use case
                raise Conflict("deploy_raced", slug=slug) from None
            await uow.deployments.record(d, t.events)
            await flow.post_new(uow, d, self.books, t.events, uc)
            if why:
                assert d.id is not None
                uow.outbox.post(uc.channel_id, StartedDespiteFreeze(
                    actor.user_id, d.id, slug, version, Passage(override, passed), self.timezone))
            await uow.commit()
        return d

    async def _ensure_free(self, uow: UnitOfWork, slug: str) -> None:
        lock = await uow.deployments.lock(slug)
        if lock is not None:
            raise Conflict("deploys_locked", slug=slug, lock=lock, tz=self.timezone)
        active = await uow.deployments.active_for(slug)
        if active is not None:
            stage = active.current_stage
            raise Conflict("deployment_still_active", deployment_id=active.id, slug=slug,
                           version=active.version, requested_by=active.requested_by,
                           state=active.state, stage=stage.name if stage else None)

    async def status(self, command: DeploymentStatus) -> done.DeployStatus:
        now, tz, recurring = self.clock.now(), self.timezone, self.pipelines.freezes
        async with self.uow() as uow:
            if command.deployment_id is not None:
                d = await self._get(uow, command.deployment_id)
                events = await uow.deployments.events(command.deployment_id)
                return done.DeploymentShown(d, tuple(events), now, tz)
            if command.slug is not None:
                return await deploy_status.of_use_case(uow, command.slug, recurring, now, tz)
            return await deploy_status.running(uow, recurring, now, tz)

    async def _get(self, uow: UnitOfWork, deployment_id: int) -> Deployment:
        d = await uow.deployments.get(deployment_id)
        if d is None:
            raise DomainError("no_such_deployment", deployment_id=deployment_id)
        return d

    async def history(self, command: DeploymentHistory) -> done.DeployHistory:
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
            past = await uow.deployments.history(uc.slug, limit=10)
        return done.DeployHistory(uc.slug, tuple(past), self.timezone)

    async def cancel(self, command: CancelDeployment, actor: Actor) -> done.DeploymentCancelled:
        """Cancel wins: whatever got in first (an approval on another process, a step's result)
        is read again and cancelled in turn, until the deployment has ended."""
        async def attempt() -> Transition:
            async with self.uow() as uow:
                d = await self._get(uow, command.deployment_id)
                uc = await load_use_case(uow, d.use_case)
                if actor.user_id != d.requested_by:
                    self.ensure_deployer(uc, actor, "cancel")
                t = machine.cancel(d, actor.user_id, command.reason, self.clock.now())
                await flow.persist(uow, t, self.books)
                await uow.commit()
            return t

        try:
            t = await flow.retried(attempt, tries=CANCEL_TRIES)
        except ConcurrentUpdate:  # the deployment changed 20 times in a row: say so, not a 500
            raise Conflict("cancel_outraced", deployment_id=command.deployment_id) from None
        d = t.deployment
        assert d.id is not None
        return done.DeploymentCancelled(d.id, d.use_case, d.version)

    async def rollback(self, command: RollbackDeployment, actor: Actor) -> done.RollbackStarted:
        own = self._pipeline(command.slug, None)
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
            past = await uow.deployments.history(uc.slug, limit=50, pipeline=own.name)
            running = await uow.deployments.production(uc.slug)
        # What production got last, when the bot knows (another pipeline may have put it there).
        last = running.placement[0] if running and deployed(running.placement) else None
        version = rollback_version(past, own.name, last.version if last else None)
        if version is None:
            raise Conflict("no_rollback_version", slug=uc.slug, pipeline=own.name)
        undone = last.deployment_id if last and last.deployment_id else past[0].id
        d = await self._open(uc.slug, version, rollback_pipeline(own), actor, kind="rollback",
                             rollback_of=undone)
        assert d.id is not None
        return done.RollbackStarted(d.id, uc.slug, version, d.channel_id)

    async def _deployer_of(self, uow: UnitOfWork, slug: str, actor: Actor, doing: str) -> UseCase:
        uc = await load_use_case(uow, slug)
        self.ensure_deployer(uc, actor, doing)
        return uc

    async def lock(self, command: LockDeployments, actor: Actor) -> done.DeploysLocked:
        async with self.uow() as uow:
            uc = await self._deployer_of(uow, command.slug, actor, "lock")
            existing = await uow.deployments.lock(uc.slug)
            if existing is not None:
                raise Conflict("already_locked", slug=uc.slug, lock=existing, now=self.clock.now(),
                               tz=self.timezone)
            lock = DeployLock(uc.slug, actor.user_id, self.clock.now(), command.reason)
            try:
                await uow.deployments.set_lock(lock)
            except ConcurrentUpdate:
                raise Conflict("lock_raced", slug=uc.slug) from None
            uow.outbox.post(uc.channel_id, LockAnnounced(actor.user_id, uc.slug, command.reason))
            await uow.commit()
        return done.DeploysLocked(uc.slug)

    async def unlock(self, command: UnlockDeployments, actor: Actor) -> done.DeploysUnlocked:
        async with self.uow() as uow:
            uc = await self._deployer_of(uow, command.slug, actor, "unlock")
            if await uow.deployments.lock(uc.slug) is None:
                raise Conflict("not_locked", slug=uc.slug)
            await uow.deployments.remove_lock(uc.slug)
            uow.outbox.post(uc.channel_id, UnlockAnnounced(actor.user_id, uc.slug))
            await uow.commit()
        return done.DeploysUnlocked(uc.slug)
