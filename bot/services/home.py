"""The App Home tab: the viewer's use cases, the gates waiting for them, the freeze windows open
for their use cases, what runs, what was said.

Published when the tab is opened, and again for the people a deployment concerns whenever it
changes (for viewers who opened Home since this process started).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.freezes import FreezeWindow, RecurringFreeze
from bot.domain.home_facts import GateWaiting, HomeFacts
from bot.domain.locks import DeployLock
from bot.domain.production import Production, needs_attention
from bot.domain.usecases import UseCase
from bot.log_events import get_logger
from bot.services.approvals import ApprovalService
from bot.services.commands import Actor
from bot.services.freezes import frozen_now
from bot.services.ports import UnitOfWork
from bot.services.visibility import Conversations, readable, sight_of, visible

log = get_logger(__name__)

Publish = Callable[[str, HomeFacts], Awaitable[None]]  # the composition root words it
ANNOUNCEMENTS = 5  # shown on Home, the newest of those the viewer may read among
READ_ANNOUNCEMENTS = 20  # the newest posts (some may be in private channels they are not in)


class Announcements(Protocol):
    """(channel, text) of the newest messages posted in channels, newest first."""

    async def __call__(self, *, limit: int) -> list[tuple[str, str]]: ...


@dataclass(frozen=True)
class _Seen:
    mine: list[UseCase]
    frozen: list[FreezeWindow]
    production: dict[str, Production]
    locks: dict[str, DeployLock]
    active: list[Deployment]  # under way, of use cases the viewer may see
    use_cases: dict[str, UseCase]  # theirs


@dataclass
class HomeService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    approvals: ApprovalService
    admins: frozenset[str]
    dev_timebox: timedelta
    publish: Publish
    announcements: Announcements
    conversations: Conversations  # who is in which private channel
    freezes: tuple[RecurringFreeze, ...] = ()  # the pipeline file's recurring windows
    timezone: str = "UTC"
    viewers: set[str] = field(default_factory=set)
    # Seconds between a change and the republish (one for a burst); None: only when settled, so
    # that the simulator shows a step's outcome whatever the machine's speed.
    refresh_delay: float | None = 0.2
    _pending: asyncio.Task[None] | None = None
    _poked: bool = False

    async def opened(self, user_id: str) -> None:
        self.viewers.add(user_id)
        await self.publish(user_id, await self.view(user_id))

    async def refresh(self, users: Iterable[str]) -> None:
        for user in set(users) & self.viewers:
            await self.publish(user, await self.view(user))

    def poke(self) -> None:
        """Something on Home changed (a deployment moved): republish for its viewers soon,
        once for a burst of changes."""
        if not self.viewers:
            return
        if self.refresh_delay is None:
            self._poked = True
        elif self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._refresh_soon(self.refresh_delay),
                                                name="home-refresh")

    async def _refresh_soon(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._refresh_viewers()

    async def _refresh_viewers(self) -> None:
        try:
            await self.refresh(self.viewers)
        except Exception:  # noqa: BLE001 - a Home refresh must never break a deployment
            log.exception("home.refresh_failed")

    async def settle(self) -> None:
        """Wait for a pending refresh, or make the one held back (simulator, tests)."""
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)
        if self._poked:
            self._poked = False
            await self._refresh_viewers()

    async def view(self, user_id: str) -> HomeFacts:
        """What the viewer may see: asked of Slack who is in which private channel, read, then
        decided outside any transaction which gates they may pass (that may ask Slack for
        user-group members), then the buttons' tokens made."""
        now = self.clock.now()
        seen = await self._read(user_id, now)
        gates = [d for d in seen.active if d.state is DeploymentState.AWAITING_APPROVAL]
        decidable = [d for d in gates
                     if await self._may_decide(d, seen.use_cases.get(d.use_case), user_id)]
        waiting = []
        if decidable:
            async with self.uow() as uow:
                waiting = [await self._approval(uow, d, now) for d in decidable]
                await uow.commit()  # the button tokens
        running = tuple(d for d in seen.active if d.state is DeploymentState.RUNNING)
        mine, production, locks = seen.mine, seen.production, seen.locks
        attention = tuple(uc.slug for uc in mine
                          if needs_attention(production.get(uc.slug), locks.get(uc.slug)))
        return HomeFacts(user_id, tuple(mine), now, self.dev_timebox, tuple(waiting), running,
                         tuple(await self._said(user_id)), tuple(seen.frozen), production, locks,
                         attention, self.timezone)

    async def _read(self, user_id: str, now: datetime) -> _Seen:
        """The viewer's use cases, and the deployments under way of those they may see."""
        sight = await sight_of(self.uow, self.conversations, user_id, member_id=user_id)
        async with self.uow() as uow:
            mine = await uow.use_cases.find(member_id=user_id, sight=sight)
            slugs = [uc.slug for uc in mine]
            frozen = await frozen_now(uow, self.freezes, slugs, now)
            production = await uow.deployments.productions(slugs)
            locks = {lock.use_case: lock for lock in await uow.deployments.locks(slugs)}
            active = await uow.deployments.active(limit=100)
            theirs = await uow.use_cases.find(slugs=sorted({d.use_case for d in active}),
                                              include_archived=True) if active else []
        shown = await visible(self.conversations, user_id, theirs)  # few: one per deployment
        use_cases = {uc.slug: uc for uc in theirs if uc.slug in shown}
        return _Seen(mine, frozen, production, locks,
                     [d for d in active if d.use_case in use_cases], use_cases)

    async def _said(self, user_id: str) -> list[tuple[str, str]]:
        """The latest announcements (channel, text) in channels the viewer may read. The outbox
        keeps what was posted: mrkdwn already (mentions, links; user text escaped)."""
        posts = await self.announcements(limit=READ_ANNOUNCEMENTS)
        readable_here = await readable(self.conversations, user_id, [c for c, _t in posts])
        return [(channel, text) for channel, text in posts if channel in readable_here][:ANNOUNCEMENTS]

    async def _may_decide(self, d: Deployment, uc: UseCase | None, user_id: str) -> bool:
        """The same rules as the buttons in the channel (checked again when clicked)."""
        stage = d.current_stage
        if uc is None or stage is None or d.current is None:
            return False
        ok, _who = await self.approvals.may_decide(uc, d, stage,
                                                   Actor(user_id, "", user_id in self.admins))
        self_ok = stage.spec.approval is not None and stage.spec.approval.allow_self
        voted = any(v.user_id == user_id for v in stage.votes)
        return ok and not voted and (user_id != d.requested_by or self_ok)

    @staticmethod
    async def _approval(uow: UnitOfWork, d: Deployment, now: datetime) -> GateWaiting:
        stage, index = d.current_stage, d.current
        assert stage is not None and index is not None
        return GateWaiting(d.id, d.use_case, d.version, stage.name, d.requested_by,
                           now - (stage.gate_opened_at or now), stage.approvals_missing,
                           await uow.deployments.button_token(d, index, "approve", now),
                           await uow.deployments.button_token(d, index, "reject", now))
