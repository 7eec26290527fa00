"""Work a listener sets off after its acknowledgement.

Listeners run before the HTTP response (bolt's ``process_before_response``), so a slow step
(a chart upload, a Home publish, an approval that starts a stage) must not hold the ack: it is
spawned here instead. Tracked, so tests and the simulator can wait for it and a shutdown can
give it its grace period rather than dropping it.

Heavy work (digests, DORA, KPI tables and charts) also takes a turn among a few slots: forty
digests at 09:00 queue among themselves, not in front of the commands people type, and never
hold more database connections than the read-only pool has (``Database.reads``). What is
CPU-bound in them (drawing a chart) runs in the bot's worker process (bot/runtime/cpu_worker.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bot.log_events import get_logger
from bot.runtime.cpu_worker import CpuWorker
from bot.services.ports import DuplicateDelivery, log_duplicate

log = get_logger(__name__)
T = TypeVar("T")


class Background:
    def __init__(self, heavy_slots: int = 2) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._heavy = asyncio.Semaphore(heavy_slots)
        self.heavy_waiting = 0  # heavy jobs queued for a slot (GET /metrics)
        self._cpu = CpuWorker()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn_heavy(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Spawn ``work`` to run when a heavy slot is free."""
        self.spawn(self._in_turn(work), name)

    async def _in_turn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            async with self.heavy_turn():
                await work
        finally:
            work.close()  # cancelled while waiting for its turn: it never starts

    @asynccontextmanager
    async def heavy_turn(self) -> AsyncIterator[None]:
        """Wait for a heavy slot, hold it for the block (the scheduler's digests use this too)."""
        self.heavy_waiting += 1
        try:
            await self._heavy.acquire()
        finally:
            self.heavy_waiting -= 1
        try:
            yield
        finally:
            self._heavy.release()

    async def in_worker(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``work(*args, **kwargs)``, CPU-bound, in the worker process: off the event loop and
        its GIL."""
        return await self._cpu.run(work, *args, **kwargs)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except DuplicateDelivery as key:  # another attempt at this delivery applied it first
            log_duplicate(key)
        except Exception:  # noqa: BLE001 - nobody awaits this task: say it here
            log.exception("background_error", work=name)

    async def settle(self) -> None:
        """Wait until nothing set off is still running (work may set off more work)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self, grace: float) -> None:
        """Give what is running ``grace`` seconds, then cancel the rest."""
        if self._tasks and grace > 0:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        self._cpu.close()
