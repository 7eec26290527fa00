"""The App Home tab: the viewer's use cases, the gates waiting for them, the freeze windows open
for their use cases, what runs, what was said.

Published when the tab is opened, and again for the people a deployment concerns whenever it
changes (for viewers who opened Home since this process started).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.durations import humanize
from bot.domain.freezes import FreezeWindow, RecurringFreeze
from bot.domain.locks import DeployLock
from bot.domain.mrkdwn import escape, one_line
from bot.domain.production import Production, needs_attention
from bot.domain.usecases import UseCase
from bot.domain.waves import progress_bar
from bot.render import home_blocks
from bot.render.deploy_blocks import title
from bot.render.deploy_words import attention_line
from bot.render.freeze_blocks import frozen_lines
from bot.services.approvals import ApprovalService
from bot.services.commands import Actor
from bot.services.freezes import frozen_now
from bot.services.ports import UnitOfWork
from bot.services.visibility import Conversations, readable, sight_of, visible

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
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
    _pending: asyncio.Task[None] | None = None

    async def opened(self, user_id: str) -> None:
        self.viewers.add(user_id)
        await self.publish(user_id, await self.view(user_id))

    async def refresh(self, users: Iterable[str]) -> None:
        for user in set(users) & self.viewers:
            await self.publish(user, await self.view(user))

    def poke(self) -> None:
        """Something on Home changed (a deployment moved): republish for its viewers soon,
        once for a burst of changes."""
        if self.viewers and (self._pending is None or self._pending.done()):
            self._pending = asyncio.create_task(self._refresh_soon(), name="home-refresh")

    async def _refresh_soon(self) -> None:
        await asyncio.sleep(0.2)
        try:
            await self.refresh(self.viewers)
        except Exception:  # noqa: BLE001 - a Home refresh must never break a deployment
            log.exception("action=home.refresh_failed")

    async def settle(self) -> None:
        """Wait for a pending refresh (simulator, tests)."""
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)

    async def view(self, user_id: str) -> dict[str, Any]:
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
        running = [_running_line(d) for d in seen.active if d.state is DeploymentState.RUNNING]
        mine, production, locks = seen.mine, seen.production, seen.locks
        attention = [attention_line(uc.slug, production.get(uc.slug), locks.get(uc.slug),
                                    self.timezone)
                     for uc in mine if needs_attention(production.get(uc.slug), locks.get(uc.slug))]
        return home_blocks.home_view(user_id, mine, now=now, timebox=self.dev_timebox, approvals=waiting,
                                     running=running, announcements=await self._said(user_id),
                                     freezes=frozen_lines(seen.frozen, self.timezone),
                                     production=production, attention=attention)

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

    async def _said(self, user_id: str) -> list[str]:
        """The latest announcements in channels the viewer may read. The outbox keeps what was
        posted: mrkdwn already (mentions, links; user text escaped)."""
        posts = await self.announcements(limit=READ_ANNOUNCEMENTS)
        readable_here = await readable(self.conversations, user_id, [c for c, _t in posts])
        return [f"<#{channel}> {one_line(text, 200)}"
                for channel, text in posts if channel in readable_here][:ANNOUNCEMENTS]

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
    async def _approval(uow: UnitOfWork, d: Deployment, now: datetime) -> home_blocks.HomeApproval:
        stage, index = d.current_stage, d.current
        assert stage is not None and index is not None
        since = humanize(now - (stage.gate_opened_at or now))
        return home_blocks.HomeApproval(
            f"{d.use_case} {d.version} · {stage.name} (deployment {d.id})",
            f"requested by <@{d.requested_by}> · waiting {since} · "
            f"{stage.approvals_missing} more needed",
            await uow.deployments.button_token(d, index, "approve", now),
            await uow.deployments.button_token(d, index, "reject", now))


def _running_line(d: Deployment) -> str:
    stage = d.current_stage
    line = f"• {escape(title(d))}" + (f" · *{stage.name}*" if stage else "")
    if stage is not None and stage.waves:
        line += " · " + progress_bar(stage.targets_done(), stage.targets_total())
    return line
