"""The simulator served from a thread of its own, for a test that drives a real browser.

Selenium's calls block: a browser test runs in the test's thread while the bot (the simulator:
the real aiohttp app, its fake Slack, its database) answers on an event loop in another, so a
page load never waits on the test that asked for it. Set-up steps (slash commands, buttons) are
coroutines run on that loop with :meth:`LiveSimulator.run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from bot.clock import Clock
from bot.config import Settings
from bot.simulator.simulator import Simulator

T = TypeVar("T")
STEP_SECONDS = 120.0  # a bound, not a wait: a set-up step on a loaded machine takes well under


class LiveSimulator:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings, self._clock = settings, clock
        self._ready: Future[Simulator] = Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="live-simulator", daemon=True)

    def __enter__(self) -> LiveSimulator:
        self._thread.start()
        self.sim = self._ready.result(timeout=STEP_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=STEP_SECONDS)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the simulator's loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=STEP_SECONDS)

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as failed:  # noqa: BLE001 - handed to the test's thread
            if not self._ready.done():
                self._ready.set_exception(failed)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with Simulator(self._settings, clock=self._clock) as sim:
            self._ready.set_result(sim)
            await self._stop.wait()
