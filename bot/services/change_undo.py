"""The engine's side of taking changes back (bot.domain.undo): each function one transaction.

A step's intent is saved before its executor makes the change; an ended deployment's changes
are claimed (the revision guard: one worker), and each is cleared — with a thread note and an
audit event — only after it was taken back, so a worker that dies mid-way leaves the rest (and
the one in flight) to the next worker once its claim runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock
from bot.domain import undo
from bot.domain.deployment_model import StepKind
from bot.domain.pipeline import ExecutorKind
from bot.domain.undo import Change, NothingToUndo
from bot.domain.undo_cards import ChangeUndone
from bot.services import deployment_flow as flow
from bot.services.ports import ConcurrentUpdate, UnitOfWork


class ChangeUndo:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def intend(self, deployment_id: int, index: int, kind: StepKind, wave: int | None,
                     data: dict[str, str]) -> bool:
        """Save how the running step will take back the change it is about to make; False if
        it is no longer the running step (then it must not make the change)."""
        async with self.uow() as uow:
            d = await uow.deployments.get(deployment_id)
            if d is None:
                return False
            try:
                await uow.deployments.save(undo.intends(d, index, kind, wave, data))
            except (NothingToUndo, ConcurrentUpdate):
                return False
            await uow.commit()
        return True

    async def claim(self, deployment_id: int, hold: timedelta) -> list[Change]:
        """The ended deployment's changes, newest first, now this worker's to take back."""
        async with self.uow() as uow:
            d = await uow.deployments.get(deployment_id)
            if d is None:
                return []
            try:
                claimed, changes = undo.claim(d, self.clock.now(), hold)
                await uow.deployments.save(claimed)
            except (NothingToUndo, ConcurrentUpdate):
                return []  # nothing left, or another worker has it
            for change in changes:  # where the bot puts it: its own move, not news when MLflow says so
                data = change.data
                if change.kind is ExecutorKind.MLFLOW and "alias" in data:
                    await uow.aliases.remember(data["model"], data["alias"],
                                               data.get("version") or None, self.clock.now())
            await uow.commit()
        return changes

    async def undone(self, deployment_id: int, index: int, line: str) -> None:
        """One change was taken back (or could not be, as ``line`` says): cleared, said, audited."""

        async def attempt() -> None:
            async with self.uow() as uow:
                d = await uow.deployments.get(deployment_id)
                if d is None:
                    return
                try:
                    cleared, event = undo.undone(d, index, line, self.clock.now())
                except NothingToUndo:
                    return
                await uow.deployments.save(cleared)
                await uow.deployments.record(cleared, (event,))
                uow.outbox.reply(flow.ref(cleared), cleared.channel_id, ChangeUndone(line))
                await uow.commit()

        await flow.retried(attempt)

    async def due(self) -> list[int]:
        """Ended deployments whose changes are (again) to be taken back: none was claimed, or
        the worker that claimed them died."""
        async with self.uow() as uow:
            return await uow.deployments.due(self.clock.now(), launch=False, ended=True)
