"""Nudges that must come once: approvals waiting too long, Dev work over its time box."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.deployment_model import DeploymentState, StageState
from bot.domain.durations import humanize, weeks
from bot.domain.usecases import Phase, UseCase
from bot.render import blocks
from bot.render.deploy_blocks import approvers_text
from bot.services import deployment_flow as flow
from bot.services.ports import OutgoingMessage, UnitOfWork


@dataclass
class ReminderService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    dev_timebox: timedelta
    approval_nudge: timedelta = timedelta(hours=4)

    async def run(self) -> int:
        return await self.nudge_approvers() + await self.overdue_dev()

    async def nudge_approvers(self) -> int:
        """A gate waiting longer than ``approval_nudge``: one reply in the deployment's thread."""
        now, sent = self.clock.now(), 0
        async with self.uow() as uow:
            for d in await uow.deployments.active(limit=500):
                stage, index = d.current_stage, d.current
                if d.state is not DeploymentState.AWAITING_APPROVAL or stage is None or index is None:
                    continue
                if stage.state is not StageState.AWAITING_APPROVAL or stage.gate_opened_at is None:
                    continue
                waited = now - stage.gate_opened_at
                if waited < self.approval_nudge:
                    continue
                if await uow.digests.claim_reminder("approval", f"{d.id}:{index}", now):
                    uc = await uow.use_cases.get(d.use_case)
                    who = approvers_text(stage.spec.approval, uc.owner_id if uc else "")
                    flow.thread(uow, d, f"⏰ *{stage.name}* has waited {humanize(waited)} for "
                                        f"approval from {who}.")
                    sent += 1
            await uow.commit()
        return sent

    async def overdue_dev(self) -> int:
        """A use case over its Dev time box: one reminder a week in its channel."""
        now, sent = self.clock.now(), 0
        async with self.uow() as uow:
            overdue = await uow.use_cases.find(phase=Phase.DEV, entered_before=now - self.dev_timebox)
            keys = {uc.slug: _overdue_key(uc, now, self.dev_timebox) for uc in overdue}
            done = await uow.digests.reminded("overdue", list(keys.values()))
            for uc in overdue:
                if keys[uc.slug][:120] in done:
                    continue
                if await uow.digests.claim_reminder("overdue", keys[uc.slug], now):
                    msg = blocks.notice(
                        f"⏰ *{uc.slug}* has been in Dev for {weeks(uc.time_in_phase(now)):.0f} weeks, "
                        f"over its {weeks(self.dev_timebox):.0f}-week time box. <@{uc.owner_id}>, "
                        f"time to `/usecase advance {uc.slug}` or go `back` with the business?"
                    )
                    uow.outbox.add(
                        OutgoingMessage(
                            "chat.postMessage", uc.channel_id, {"channel": uc.channel_id, **msg.as_args()}
                        )
                    )
                    sent += 1
            await uow.commit()
        return sent



def _overdue_key(uc: UseCase, now: datetime, timebox: timedelta) -> str:
    """One reminder per full week over the time box, counted from when it went over."""
    weeks_over = int((uc.time_in_phase(now) - timebox) / timedelta(weeks=1))
    return f"{uc.slug}:{uc.phase_since.isoformat()}:{weeks_over}"
