"""The audit export: the deployment events a filter names, read a page at a time on the
read-only connections (each page its own short read), so an export of any length holds no
transaction open and its memory follows the page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.domain.audit import AuditEvent, AuditFilter
from bot.services.ports import UnitOfWork

PAGE = 500


@dataclass(frozen=True)
class AuditExport:
    reads: Callable[[], UnitOfWork]  # the read-only unit of work (Database.reads)
    page: int = PAGE

    async def pages(self, where: AuditFilter) -> AsyncIterator[list[AuditEvent]]:
        after = None
        while True:
            async with self.reads() as uow:
                events = await uow.audit.events(where, after, self.page)
            if events:
                yield events
            if len(events) < self.page:
                return
            after = events[-1].key
