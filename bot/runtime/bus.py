"""Hands committed events to their handlers (``bot.services.events``).

The table of handlers is given once, in the composition root, after the parts it names are
built; a unit of work publishes what it collected only after its commit. Handlers are quick and
synchronous (they wake a worker, schedule a refresh, stop a task): one that fails is logged and
does not keep the others from running.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.log_events import get_logger
from bot.services.events import AfterCommit

log = get_logger(__name__)

Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: Mapping[type, Sequence[Handler]] = {}

    def handle(self, table: Mapping[type, Sequence[Handler]]) -> None:
        """What follows each kind of event: the one table, set by the composition root."""
        self._handlers = table

    def publish(self, events: Sequence[AfterCommit]) -> None:
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                try:
                    handler(event)
                except Exception:  # noqa: BLE001 - what follows must not undo what was committed
                    log.exception("event_handler_error", event=type(event).__name__)
