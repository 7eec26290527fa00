"""What listeners need to set work off after their acknowledgement (``bot.runtime.background``
provides it): declared here, so handlers depend on the promise, not on the runtime."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class AfterAck(Protocol):
    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` after the ack, tracked (tests wait for it, shutdown gives it a grace)."""

    def spawn_heavy(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """The same, in its turn among the few heavy jobs a process runs at once."""

    async def in_worker(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``work(*args, **kwargs)`` (CPU-bound: drawing a chart) in the bot's worker process,
        off the event loop's GIL; ``work`` and its arguments must be picklable."""
