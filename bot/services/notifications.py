"""Direct messages to a requester about their own deployment, and `/deploy notify on|off`.

A DM is added to the outbox in the transaction that saves the transition (``flow.persist``):
a retried transaction adds it once, a rolled-back one never. The worker ends the line with a
link to the deployment's message (``link_of``), resolved when it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.clock import Clock
from bot.domain.approvers import Approvers
from bot.domain.deploy_results import NotifySettingShown
from bot.domain.deployment_model import Deployment, Event
from bot.render import deploy_dms
from bot.services.commands import NotifySetting
from bot.services.ports import OutgoingMessage, UnitOfWork


async def tell_requester(uow: UnitOfWork, d: Deployment, events: Sequence[Event], ref: str,
                         approvers: Approvers | None = None) -> None:
    """Queue the requester's DM for this transition, if there is one and they want it."""
    line = deploy_dms.requester_line(d, events, approvers)
    if line is None or not await uow.notify_prefs.enabled(d.requested_by):
        return
    uow.outbox.add(OutgoingMessage("chat.postMessage", d.requested_by,
                                   {"channel": d.requested_by, "text": line}, link_of=ref))


async def setting(uow_factory: Callable[[], UnitOfWork], clock: Clock, command: NotifySetting,
                  user_id: str) -> NotifySettingShown:
    """`/deploy notify` says the setting; `on`/`off` sets it, for the one who asks only."""
    async with uow_factory() as uow:
        if command.enabled is None:
            return NotifySettingShown(await uow.notify_prefs.enabled(user_id), changed=False)
        await uow.notify_prefs.set(user_id, command.enabled, clock.now())
        await uow.commit()
    return NotifySettingShown(command.enabled, changed=True)
