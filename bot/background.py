"""Work a listener sets off after its acknowledgement.

Listeners run before the HTTP response (bolt's ``process_before_response``), so a slow step
(a chart upload, a Home publish, an approval that starts a stage) must not hold the ack: it is
spawned here instead. Tracked, so tests and the simulator can wait for it and a shutdown can
give it its grace period rather than dropping it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from storage.requests import DuplicateDelivery, log_duplicate

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except DuplicateDelivery as key:  # another attempt at this delivery applied it first
            log_duplicate(key)
        except Exception:  # noqa: BLE001 - nobody awaits this task: say it here
            log.exception("action=background_error work=%s", name)

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
