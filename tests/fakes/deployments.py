"""Deployments, their audit trail, button tokens and locks in memory, as
``storage/deployments.py`` keeps them."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.deployment_model import Deployment, Event, StageState
from bot.domain.dora import DoraRecord, as_record
from bot.domain.production import Production
from bot.services.ports import ActionToken, ConcurrentUpdate, DeployLock
from tests.fakes.tables import DeploymentRow, EventRow, Ids, LockRow, Tables


def launch_pending(d: Deployment) -> bool:
    """A running stage's step not launched yet (the column the engine's ``due`` reads)."""
    stage = d.current_stage
    step = stage.step if stage is not None and stage.state is StageState.RUNNING else None
    return bool(step and not step.launched)


class MemoryDeploymentRepository:
    def __init__(self, tables: Tables, ids: Ids) -> None:
        self._tables = tables
        self._rows = tables.deployments
        self._ids = ids

    def _stored(self) -> list[Deployment]:
        return [row.deployment for row in self._rows]

    def _ensure_use_case(self, slug: str) -> None:
        if slug not in self._tables.use_cases:
            raise LookupError(slug)

    async def add(self, d: Deployment) -> Deployment:
        """A second active deployment of one use case raises ConcurrentUpdate (its active slot)."""
        self._ensure_use_case(d.use_case)
        new_id = self._ids.new("deployments")
        if d.state.is_active:
            if d.use_case in self._tables.active_slots:
                raise self._tables.duplicate(d.use_case)
            self._tables.active_slots.put(d.use_case, new_id)
        self._rows.put(new_id, DeploymentRow(replace(d, id=new_id, revision=0)))
        return replace(d, id=new_id)

    async def save(self, d: Deployment) -> Deployment:
        """Guarded by ``revision``; only what changes as a deployment runs is written."""
        row = self._rows.get(d.id) if d.id is not None else None
        if d.id is None or row is None or row.deployment.revision != d.revision:
            raise ConcurrentUpdate(f"deployment {d.id}")
        revision = d.revision + 1
        saved = replace(row.deployment, stages=d.stages, state=d.state, finished_at=d.finished_at,
                        detail=d.detail, revision=revision, production=d.production,
                        change=d.change)
        row = replace(row, deployment=saved)
        if not d.state.is_active:
            row = replace(row, lease_owner=None, lease_until=None)
            if self._tables.active_slots.get(saved.use_case) == d.id:
                self._tables.active_slots.delete(saved.use_case)
        self._rows.put(d.id, row)
        return replace(d, revision=revision)

    async def get(self, deployment_id: int, *, for_update: bool = False) -> Deployment | None:
        row = self._rows.get(deployment_id)
        return None if row is None else row.deployment

    async def active_for(self, slug: str) -> Deployment | None:
        return next((d for d in self._stored() if d.use_case == slug and d.state.is_active), None)

    async def history(self, slug: str, *, limit: int = 10,
                      pipeline: str | None = None) -> list[Deployment]:
        mine = [d for d in self._stored() if d.use_case == slug
                and pipeline in (None, d.pipeline)]
        return sorted(mine, key=lambda d: (d.requested_at, d.id), reverse=True)[:limit]

    async def active(self, *, limit: int = 50) -> list[Deployment]:
        running = [d for d in self._stored() if d.state.is_active]
        return sorted(running, key=lambda d: (d.requested_at, d.id))[:limit]

    async def count_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self._stored():
            counts[d.state.value] = counts.get(d.state.value, 0) + 1
        return counts

    async def dora_records(self, moment: datetime, *,
                           slugs: list[str] | None = None) -> list[DoraRecord]:
        return [as_record(d) for d in self._stored()
                if d.requested_at >= moment and (slugs is None or d.use_case in slugs)]

    async def set_lease(self, deployment_id: int, owner: str | None,
                        until: datetime | None) -> None:
        row = self._rows.get(deployment_id)
        if row is not None:
            self._rows.put(deployment_id, replace(row, lease_owner=owner, lease_until=until))

    async def record(self, d: Deployment, events: tuple[Event, ...]) -> None:
        assert d.id is not None
        for event in events:
            self._tables.events.put(self._ids.new("events"), EventRow(d.id, event))

    async def events(self, deployment_id: int) -> list[Event]:
        return [row.event for _id, row in sorted(self._tables.events.rows.items())
                if row.deployment_id == deployment_id]

    async def button_token(self, d: Deployment, stage_index: int, action: str,
                        now: datetime) -> str:
        assert d.id is not None
        for row in self._tables.action_tokens:
            if (row.deployment_id, row.stage_index, row.action, row.version) == (
                    d.id, stage_index, action, d.version):
                return row.id
        token = secrets.token_urlsafe(16)
        self._tables.action_tokens.put(token, ActionToken(token, d.id, stage_index, d.version, action))
        return token

    async def token(self, token_id: str) -> ActionToken | None:
        return self._tables.action_tokens.get(token_id[:32])

    async def due(self, now: datetime, *, launch: bool, ended: bool = False,
                  limit: int = 100) -> list[int]:
        due = [(at, deployment_id) for deployment_id, row in self._rows.rows.items()
               if (at := row.deployment.next_deadline()) is not None and at <= now
               and (row.deployment.state.is_active is not ended)
               and (ended or launch_pending(row.deployment) is launch)]
        return [deployment_id for _at, deployment_id in sorted(due)][:limit]

    async def lost(self, now: datetime, *, limit: int = 100) -> list[int]:
        return [deployment_id for deployment_id, row in self._rows.rows.items()
                if row.deployment.state.is_active and row.lease_owner is not None
                and row.lease_until is not None and row.lease_until < now][:limit]

    async def renew_lease(self, deployment_id: int, owner: str, until: datetime) -> bool:
        row = self._rows.get(deployment_id)
        if row is None or row.lease_owner != owner or not row.deployment.state.is_active:
            return False
        self._rows.put(deployment_id, replace(row, lease_until=until))
        return True

    # ── locks ───────────────────────────────────────────────────────────────────────────────

    async def lock(self, slug: str) -> DeployLock | None:
        row = self._tables.locks.get(slug)
        return None if row is None else row.lock

    async def locks(self, slugs: list[str]) -> list[DeployLock]:
        return [row.lock for row in self._tables.locks if row.lock.use_case in slugs]

    # ── what runs in production ────────────────────────────────────────────────────────────

    async def production(self, slug: str) -> Production | None:
        return (await self.productions([slug])).get(slug)

    async def productions(self, slugs: list[str]) -> dict[str, Production]:
        newest: dict[str, Deployment] = {}
        for d in self._stored():
            if d.use_case in slugs and not d.dry_run and d.id is not None:
                if d.use_case not in newest or (newest[d.use_case].id or 0) < d.id:
                    newest[d.use_case] = d
        return {slug: Production(d.production, d.id or 0, d.state.is_active)
                for slug, d in newest.items()}

    async def set_lock(self, lock: DeployLock) -> None:
        self._ensure_use_case(lock.use_case)
        if lock.use_case in self._tables.locks:
            raise self._tables.duplicate(lock.use_case)
        self._tables.locks.put(lock.use_case, LockRow(lock))

    async def remove_lock(self, slug: str) -> None:
        self._ensure_use_case(slug)
        self._tables.locks.delete(slug)

    async def claim_lock_reminders(self, now: datetime,
                                   age: timedelta) -> list[tuple[DeployLock, str]]:
        """Locks held longer than ``age`` and not reminded of for as long; each claimed once."""
        claimed = []
        for row in self._tables.locks:
            due = row.reminded_at is None or row.reminded_at <= now - age
            if row.lock.locked_at <= now - age and due:
                self._tables.locks.put(row.lock.use_case, replace(row, reminded_at=now))
                use_case = self._tables.use_cases.get(row.lock.use_case)
                assert use_case is not None
                claimed.append((row.lock, use_case.use_case.channel_id))
        return claimed
