"""CPU-bound work (drawing a chart) in a worker process of the bot's own, not in a thread.

A thread shares the event loop's GIL: a chart holds it for the ~0.2 s matplotlib takes, and
meanwhile every socket call of the loop (each releases the GIL) waited up to the interpreter's
switch interval to take it back. During `benchmarks/dashboard_pages.py`'s busy load, three
`/metric dora` charts a round made the pages' slowest p99 683–757 ms; drawn in a process, 414 ms,
and `/usecase show`'s p99 597–655 → 397 ms.

One process, started with the first piece of work (the bot's idle memory does not carry
matplotlib) and kept for the next; ``spawn``, so nothing of the bot's threads, sockets or loop
is copied into it. Work given here must be a picklable module-level function of picklable
arguments. A worker that died (killed, out of memory) fails the work it had, and the next piece
of work starts another.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.log_events import get_logger

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = get_logger(__name__)
T = TypeVar("T")


class CpuWorker:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``work(*args, **kwargs)`` in the worker process; its result, or what it raised."""
        # Imported with the first piece of work: not part of every start-up (#28).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, functools.partial(work, *args, **kwargs))
        except BrokenProcessPool:
            log.warning("cpu_worker.died", work=getattr(work, "__name__", "?"))
            if self._pool is pool:  # the next piece of work starts a new one
                self._pool = None
            pool.shutdown(wait=False)
            raise

    def close(self) -> None:
        """Stop the worker; work not yet started is dropped, work under way ends first."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
