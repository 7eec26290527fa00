"""A freeze's start and end, announced where it applies: in the channels of the use cases it
freezes (a freeze of all of them: every channel that is home to one).

The scheduler asks every minute (the simulator on each settle). Each start or end is claimed in
the database first (``reminders``, kind "freeze"), so however many processes ask, it is said
once; one missed while the bot was down is said when it is back, if within :data:`LOOKBACK`.
Ad hoc freezes are announced when they are made and when they are lifted; here only their end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.freeze_cards import FreezeBegun, FreezeOver
from bot.domain.freezes import Boundary, RecurringFreeze, ad_hoc_key, boundaries, freeze_chain
from bot.services.events import FreezesChanged
from bot.services.freeze_ports import ALL
from bot.services.freezes import CLAIM_KIND, ad_hoc_window
from bot.services.ports import UnitOfWork

LOOKBACK = timedelta(hours=1)


@dataclass
class FreezeNotices:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    recurring: tuple[RecurringFreeze, ...]
    timezone: str

    async def run(self) -> int:
        """Announce the starts and ends that came since the last look; how many this process said."""
        now = self.clock.now()
        since = now - LOOKBACK
        async with self.uow() as uow:
            # A freeze lifted the moment it was made was never a window: nothing to say of it.
            ended = [(ad_hoc_key(f.id), ad_hoc_window(f)) for f in await uow.freezes.ended(since, now)
                     if f.ends_at > f.starts_at]
        said = 0
        for boundary in boundaries(self.recurring, ended, since, now):
            async with self.uow() as uow:
                if not await uow.claims.claim(CLAIM_KIND, boundary.claim, now):
                    continue  # said already, by this process or another
                await self._announce(uow, boundary)
                uow.emit(FreezesChanged())
                await uow.commit()
            said += 1
        return said

    async def next_due(self, after: datetime, until: datetime) -> datetime | None:
        """The first start or end in ``(after, until]`` of a file's window, or end of an ad hoc
        one: when :meth:`run` next has something to say (the simulator steps its clock to it)."""
        times = []
        for freeze in self.recurring:
            times.append(freeze.schedule.next_fire(after))  # the next window's start
            opened = freeze.schedule.next_fire(after - freeze.duration)  # the next window's end
            times.append(freeze.window(opened).end)
        until = min([until, *times])
        async with self.uow() as uow:
            ad_hoc = await uow.freezes.ended(after, until)
        times += [f.ends_at for f in ad_hoc if f.ends_at > f.starts_at]
        return min((t for t in times if t <= until), default=None)

    async def _announce(self, uow: UnitOfWork, b: Boundary) -> None:
        scope = None if b.window.use_cases is None else sorted(b.window.use_cases)
        channels: dict[str, list[str]] = defaultdict(list)
        for slug, channel in await uow.use_cases.homes(scope):
            channels[channel].append(slug)
        if b.starts:
            for channel, slugs in channels.items():
                uow.outbox.post(channel, FreezeBegun(b.window, tuple(slugs), self.timezone))
            return
        # Over; but a use case may stay frozen by a window that begins as this one ends.
        scopes = None if scope is None else [ALL, *scope]
        still = [ad_hoc_window(f) for f in await uow.freezes.current(scopes, b.at)]
        for channel, slugs in channels.items():
            chains = tuple((slug, tuple(freeze_chain(self.recurring, still, slug, b.at)))
                           for slug in slugs)
            uow.outbox.post(channel, FreezeOver(b.window, chains, self.timezone))
