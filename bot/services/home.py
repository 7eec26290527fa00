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
from typing import Any

from bot.clock import Clock
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.durations import humanize
from bot.domain.freezes import RecurringFreeze
from bot.domain.mrkdwn import escape, one_line
from bot.domain.production import needs_attention
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

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
Announcements = Callable[[], Awaitable[list[tuple[str, str]]]]


@dataclass
class HomeService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    approvals: ApprovalService
    admins: frozenset[str]
    dev_timebox: timedelta
    publish: Publish
    announcements: Announcements
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
        """Read what the viewer sees, decide outside any transaction which gates they may pass
        (that may ask Slack for user-group members), then make the buttons' tokens."""
        now = self.clock.now()
        async with self.uow() as uow:
            mine = await uow.use_cases.find(member_id=user_id)
            slugs = [uc.slug for uc in mine]
            frozen = await frozen_now(uow, self.freezes, slugs, now)
            production = await uow.deployments.productions(slugs)
            locks = {lock.use_case: lock for lock in await uow.deployments.locks(slugs)}
            active = await uow.deployments.active(limit=100)
            gates = [d for d in active if d.state is DeploymentState.AWAITING_APPROVAL]
            use_cases = {uc.slug: uc for uc in await uow.use_cases.find(
                slugs=sorted({d.use_case for d in gates}), include_archived=True)} if gates else {}
        decidable = [d for d in gates if await self._may_decide(d, use_cases.get(d.use_case), user_id)]
        waiting = []
        if decidable:
            async with self.uow() as uow:
                waiting = [await self._approval(uow, d, now) for d in decidable]
                await uow.commit()  # the button tokens
        running = [_running_line(d) for d in active if d.state is DeploymentState.RUNNING]
        # The outbox keeps what was posted: mrkdwn already (mentions, links; user text escaped).
        said = [f"<#{channel}> {one_line(text, 200)}" for channel, text in await self.announcements()]
        attention = [attention_line(uc.slug, production.get(uc.slug), locks.get(uc.slug),
                                    self.timezone)
                     for uc in mine if needs_attention(production.get(uc.slug), locks.get(uc.slug))]
        return home_blocks.home_view(user_id, mine, now=now, timebox=self.dev_timebox, approvals=waiting,
                                     running=running, announcements=said,
                                     freezes=frozen_lines(frozen, self.timezone),
                                     production=production, attention=attention)

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
