"""The event loop's own health: how late it runs, and what held it when it stalled.

Every acknowledgement waits for the one event loop, so anything that keeps it busy for long (a
big query's rows turned into objects, rendering, a blocking call) delays every answer. A small
task wakes every ``tick`` and records how late it woke (``bizdevops_event_loop_lag_seconds``);
a watchdog thread notices when it has not woken for ``threshold`` and takes the loop thread's
stack then, so the one warning line logged afterwards names what ran, not only that it was slow.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from pathlib import Path
from types import FrameType

from prometheus_client import Histogram

from bot.log_events import get_logger

log = get_logger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the checkout: bot/runtime/loop_watch.py
OURS = tuple(str(ROOT / package) for package in ("bot", "handlers", "storage"))


class LoopWatch:
    def __init__(self, lag: Histogram, *, tick: float = 0.02, threshold: float = 0.1) -> None:
        self.lag = lag
        self.tick = tick
        self.threshold = threshold
        self.stalls = 0
        self._last = time.monotonic()
        self._where: str | None = None  # set by the watchdog during a stall
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        loop_thread = threading.get_ident()
        self._last = time.monotonic()
        self._stop.clear()
        self._task = asyncio.create_task(self._beat(), name="loop-watch")
        threading.Thread(target=self._watch, args=(loop_thread,), name="loop-watchdog",
                         daemon=True).start()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.tick
            await asyncio.sleep(self.tick)
            late = max(0.0, loop.time() - due)
            self._last = time.monotonic()
            self.lag.observe(late)
            where, self._where = self._where, None
            if late > self.threshold:
                self.stalls += 1
                log.warning("loop_blocked", ms=round(late * 1000),
                            running=where or "(not caught: it ended between two looks)")

    def _watch(self, loop_thread: int) -> None:
        """In its own thread: while the loop is stalled, look once at what it is running."""
        while not self._stop.wait(self.tick / 2):
            if self._where is None and time.monotonic() - self._last > self.tick + self.threshold:
                frame = sys._current_frames().get(loop_thread)
                self._where = describe(frame) if frame is not None else None


def describe(frame: FrameType) -> str:
    """Where a stack is, for one log line: our innermost frames, then what it was inside."""
    stack = traceback.extract_stack(frame)
    ours = [f for f in stack if f.filename.startswith(OURS)]
    shown = " ← ".join(_place(f) for f in reversed(ours[-3:])) or "outside the bot's code"
    innermost = stack[-1] if stack else None
    if innermost is not None and (not ours or innermost is not ours[-1]):
        shown += f" (in {_place(innermost)})"
    return shown


def _place(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    try:
        name = str(path.relative_to(ROOT))
    except ValueError:
        name = "/".join(path.parts[-2:])
    return f"{name}:{frame.lineno} {frame.name}"
