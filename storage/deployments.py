"""Deployments, their audit trail, button tokens and locks: rows to domain objects and back."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deployment_model import Deployment, DeploymentState, Event
from bot.domain.dora import DoraRecord
from bot.domain.production import Production
from bot.services.ports import ActionToken, ConcurrentUpdate, DeployLock
from storage.deployment_codec import columns, placement_from_json, to_deployment
from storage.models import (
    ActionTokenRow,
    DeployLockRow,
    DeploymentEventRow,
    DeploymentRow,
    UseCaseRow,
)

ACTIVE = [s.value for s in DeploymentState if s.is_active]
UNDOABLE = [s.value for s in DeploymentState if not s.is_active and s is not DeploymentState.SUCCEEDED]


class SqlDeploymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _use_case_id(self, slug: str) -> int:
        found = await self._session.scalar(select(UseCaseRow.id).where(UseCaseRow.slug == slug))
        if found is None:
            raise LookupError(slug)
        return found

    async def add(self, d: Deployment) -> Deployment:
        """Insert; a second active deployment of the same use case raises ConcurrentUpdate."""
        use_case_id = await self._use_case_id(d.use_case)
        row = DeploymentRow(
            use_case_id=use_case_id, slug=d.use_case, version=d.version, pipeline=d.pipeline,
            kind=d.kind, rollback_of=d.rollback_of, dry_run=d.dry_run, override=d.override,
            api_token=d.api_token,
            requested_by=d.requested_by, requested_at=d.requested_at, channel_id=d.channel_id,
            revision=0, active_slot=use_case_id if d.state.is_active else None, **columns(d),
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:
            raise ConcurrentUpdate(d.use_case) from None
        return replace(d, id=row.id)

    async def save(self, d: Deployment) -> Deployment:
        """Write the new state if nobody else did since we read it (``revision``)."""
        values = columns(d)
        if not d.state.is_active:
            values.update(active_slot=None, lease_owner=None, lease_until=None)
        result = await self._session.execute(
            update(DeploymentRow)
            .where(DeploymentRow.id == d.id, DeploymentRow.revision == d.revision)
            .values(revision=DeploymentRow.revision + 1, **values)
            .returning(DeploymentRow.revision)
        )
        revision = result.scalar_one_or_none()
        if revision is None:
            raise ConcurrentUpdate(f"deployment {d.id}")
        if (d.kind == "rollback" and d.rollback_of is not None and not d.dry_run
                and values["production_started_at"]):
            await self._blame(d)
        return replace(d, revision=revision)

    async def _blame(self, rollback: Deployment) -> None:
        """A rollback that reached production makes the deployment it names a failure (DORA); a
        dry run rolled nothing back and blames nobody."""
        await self._session.execute(
            update(DeploymentRow)
            .where(DeploymentRow.id == rollback.rollback_of, DeploymentRow.slug == rollback.use_case,
                   DeploymentRow.rolled_back.is_(False))
            .values(rolled_back=True)
        )

    async def get(self, deployment_id: int, *, for_update: bool = False) -> Deployment | None:
        query = select(DeploymentRow).where(DeploymentRow.id == deployment_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else to_deployment(row)

    async def active_for(self, slug: str) -> Deployment | None:
        row = await self._session.scalar(
            select(DeploymentRow).where(DeploymentRow.slug == slug, DeploymentRow.state.in_(ACTIVE))
        )
        return None if row is None else to_deployment(row)

    async def history(self, slug: str, *, limit: int = 10,
                      pipeline: str | None = None) -> list[Deployment]:
        """Newest first; ``pipeline``: only the deployments of that pipeline."""
        query = select(DeploymentRow).where(DeploymentRow.slug == slug)
        if pipeline is not None:
            query = query.where(DeploymentRow.pipeline == pipeline)
        rows = await self._session.scalars(
            query.order_by(DeploymentRow.requested_at.desc(), DeploymentRow.id.desc()).limit(limit))
        return [to_deployment(r) for r in rows]

    async def active(self, *, limit: int = 50) -> list[Deployment]:
        rows = await self._session.scalars(
            select(DeploymentRow).where(DeploymentRow.state.in_(ACTIVE))
            .order_by(DeploymentRow.requested_at).limit(limit)
        )
        return [to_deployment(r) for r in rows]

    # ── what runs in production ────────────────────────────────────────────────────────────

    async def production(self, slug: str) -> Production | None:
        """As the use case's newest real deployment left it; None: never deployed for real."""
        found = await self.productions([slug])
        return found.get(slug)

    async def productions(self, slugs: list[str]) -> dict[str, Production]:
        """The same for some use cases, in one statement: each one's newest real deployment,
        found in the index (every real deployment carries on what runs; none: never deployed)."""
        if not slugs:
            return {}
        newest = (
            select(func.max(DeploymentRow.id))
            .join(UseCaseRow, UseCaseRow.id == DeploymentRow.use_case_id)
            .where(UseCaseRow.slug.in_(slugs), DeploymentRow.dry_run.is_(False))
            .group_by(DeploymentRow.use_case_id)
        )
        rows = await self._session.execute(
            select(DeploymentRow.slug, DeploymentRow.id, DeploymentRow.state, DeploymentRow.production)
            .where(DeploymentRow.id.in_(newest), DeploymentRow.production.is_not(None)))
        return {slug: Production(placement_from_json(placement), row_id, state in ACTIVE)
                for slug, row_id, state, placement in rows}

    async def set_lease(self, deployment_id: int, owner: str | None, until: datetime | None) -> None:
        await self._session.execute(
            update(DeploymentRow).where(DeploymentRow.id == deployment_id)
            .values(lease_owner=owner, lease_until=until)
        )

    # ── audit trail ─────────────────────────────────────────────────────────────────────────

    async def record(self, d: Deployment, events: tuple[Event, ...]) -> None:
        assert d.id is not None
        self._session.add_all(
            DeploymentEventRow(deployment_id=d.id, at=e.at, kind=e.kind, actor=e.actor,
                               stage=e.stage, wave=e.wave, version=d.version, detail=e.detail)
            for e in events
        )
        await self._session.flush()

    async def events(self, deployment_id: int) -> list[Event]:
        rows = await self._session.scalars(
            select(DeploymentEventRow).where(DeploymentEventRow.deployment_id == deployment_id)
            .order_by(DeploymentEventRow.id)
        )
        return [Event(r.kind, r.at, r.actor, r.stage, r.wave, r.detail) for r in rows]

    # ── button tokens ───────────────────────────────────────────────────────────────────────

    async def button_token(self, d: Deployment, stage_index: int, action: str, now: datetime) -> str:
        """The token of that button of ``d``: made once, then the same on every message that
        shows it (a Home tab opened thirty times, each edit of the deployment message)."""
        assert d.id is not None
        found = await self._session.scalar(
            select(ActionTokenRow.id).where(
                ActionTokenRow.deployment_id == d.id, ActionTokenRow.stage_index == stage_index,
                ActionTokenRow.action == action, ActionTokenRow.version == d.version).limit(1))
        if found is not None:
            return found
        token = secrets.token_urlsafe(16)
        self._session.add(ActionTokenRow(id=token, deployment_id=d.id, stage_index=stage_index,
                                         version=d.version, action=action, created_at=now))
        await self._session.flush()
        return token

    async def token(self, token_id: str) -> ActionToken | None:
        row = await self._session.get(ActionTokenRow, token_id[:32])
        if row is None:
            return None
        return ActionToken(row.id, row.deployment_id, row.stage_index, row.version, row.action)

    # ── locks ───────────────────────────────────────────────────────────────────────────────

    async def lock(self, slug: str) -> DeployLock | None:
        row = await self._session.scalar(
            select(DeployLockRow).join(UseCaseRow, UseCaseRow.id == DeployLockRow.use_case_id)
            .where(UseCaseRow.slug == slug)
        )
        return None if row is None else DeployLock(slug, row.locked_by, row.locked_at, row.reason,
                                                   row.deployment_id)

    async def locks(self, slugs: list[str]) -> list[DeployLock]:
        """The locks of some use cases (Home, digests: which need attention)."""
        if not slugs:
            return []
        rows = await self._session.execute(
            select(DeployLockRow, UseCaseRow.slug)
            .join(UseCaseRow, UseCaseRow.id == DeployLockRow.use_case_id)
            .where(UseCaseRow.slug.in_(slugs)))
        return [DeployLock(slug, row.locked_by, row.locked_at, row.reason, row.deployment_id)
                for row, slug in rows]

    async def set_lock(self, lock: DeployLock) -> None:
        self._session.add(DeployLockRow(use_case_id=await self._use_case_id(lock.use_case),
                                        locked_by=lock.locked_by, locked_at=lock.locked_at,
                                        reason=lock.reason, deployment_id=lock.deployment_id))
        try:
            await self._session.flush()
        except IntegrityError:
            raise ConcurrentUpdate(lock.use_case) from None

    async def remove_lock(self, slug: str) -> None:
        await self._session.execute(
            delete(DeployLockRow).where(DeployLockRow.use_case_id == await self._use_case_id(slug))
        )

    # ── what the engine looks for ───────────────────────────────────────────────────────────

    async def due(self, now: datetime, *, launch: bool, ended: bool = False,
                  limit: int = 100) -> list[int]:
        """Active deployments whose next moment has come: a step to launch, or a deadline;
        ``ended``: ended ones whose changes are (again) to be taken back."""
        query = select(DeploymentRow.id).where(
            DeploymentRow.state.in_(UNDOABLE if ended else ACTIVE), DeploymentRow.next_at <= now)
        if not ended:
            query = query.where(DeploymentRow.launch_pending.is_(launch))
        return list(await self._session.scalars(query.order_by(DeploymentRow.next_at).limit(limit)))

    async def lost(self, now: datetime, *, limit: int = 100) -> list[int]:
        """Deployments whose worker stopped renewing its lease (its process died)."""
        query = (
            select(DeploymentRow.id)
            .where(DeploymentRow.state.in_(ACTIVE), DeploymentRow.lease_owner.is_not(None),
                   DeploymentRow.lease_until < now)
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    async def renew_lease(self, deployment_id: int, owner: str, until: datetime) -> bool:
        """False when the deployment ended or another worker took over: stop the step."""
        result = await self._session.execute(
            update(DeploymentRow)
            .where(DeploymentRow.id == deployment_id, DeploymentRow.lease_owner == owner,
                   DeploymentRow.state.in_(ACTIVE))
            .values(lease_until=until)
            .returning(DeploymentRow.id)
        )
        return result.scalar_one_or_none() is not None

    async def claim_lock_reminders(self, now: datetime, age: timedelta) -> list[tuple[DeployLock, str]]:
        """Locks held longer than ``age`` and not reminded of for as long; each claimed once."""
        due = or_(DeployLockRow.reminded_at.is_(None), DeployLockRow.reminded_at <= now - age)
        rows = (await self._session.execute(
            select(DeployLockRow, UseCaseRow.slug, UseCaseRow.channel_id)
            .join(UseCaseRow, UseCaseRow.id == DeployLockRow.use_case_id)
            .where(DeployLockRow.locked_at <= now - age, due)
        )).all()
        claimed = []
        for lock, slug, channel in rows:
            won = await self._session.execute(
                update(DeployLockRow)
                .where(DeployLockRow.use_case_id == lock.use_case_id, due)
                .values(reminded_at=now).returning(DeployLockRow.use_case_id)
            )
            if won.scalar_one_or_none() is not None:  # another process may have reminded first
                claimed.append((DeployLock(slug, lock.locked_by, lock.locked_at, lock.reason,
                                           lock.deployment_id), channel))
        return claimed

    async def dora_records(self, moment: datetime, *,
                           slugs: list[str] | None = None) -> list[DoraRecord]:
        """What DORA needs of some use cases' deployments, from plain columns: one statement."""
        query = select(
            DeploymentRow.id, DeploymentRow.slug, DeploymentRow.kind, DeploymentRow.rollback_of,
            DeploymentRow.state, DeploymentRow.requested_at, DeploymentRow.finished_at,
            DeploymentRow.dry_run, DeploymentRow.production_started_at,
            DeploymentRow.production_finished_at, DeploymentRow.change_at,
        ).where(DeploymentRow.requested_at >= moment)
        if slugs is not None:
            query = query.where(DeploymentRow.slug.in_(slugs))
        rows = await self._session.execute(query)
        return [
            DoraRecord(r.id, r.slug, r.kind, r.rollback_of, DeploymentState(r.state), r.requested_at,
                       r.finished_at, r.dry_run, r.production_started_at, r.production_finished_at,
                       r.change_at)
            for r in rows
        ]

    async def count_by_state(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(DeploymentRow.state, func.count()).group_by(DeploymentRow.state))
        return {state: int(count) for state, count in rows}
