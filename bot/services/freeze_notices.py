"""A freeze's start and end, announced where it applies: in the channels of the use cases it
freezes (a freeze of all of them: every channel that is home to one).

The scheduler asks every minute (the simulator on each settle). Each start or end is claimed in
the database first (``reminders``, kind "freeze"), so however many processes ask, it is said
once; one missed while the bot was down is said when it is back, if within :data:`LOOKBACK`.
Ad hoc freezes are announced when they are made and when they are lifted; here only their end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain.freezes import (
    Boundary,
    FreezeWindow,
    RecurringFreeze,
    ad_hoc_key,
    boundaries,
    freeze_chain,
)
from bot.domain.mrkdwn import escape
from bot.render import blocks
from bot.render.freeze_blocks import describe
from bot.services.events import FreezesChanged
from bot.services.freeze_ports import ALL
from bot.services.freezes import CLAIM_KIND, ad_hoc_window, announce, named
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

    async def _announce(self, uow: UnitOfWork, b: Boundary) -> None:
        scope = None if b.window.use_cases is None else sorted(b.window.use_cases)
        channels: dict[str, list[str]] = defaultdict(list)
        for slug, channel in await uow.use_cases.homes(scope):
            channels[channel].append(slug)
        if b.starts:
            for channel, slugs in channels.items():
                announce(uow, channel, self._started(b, slugs))
            return
        scopes = None if scope is None else [ALL, *scope]
        still = [ad_hoc_window(f) for f in await uow.freezes.current(scopes, b.at)]
        for channel, slugs in channels.items():
            announce(uow, channel, self._ended(b, slugs, still))

    def _started(self, b: Boundary, slugs: Sequence[str]) -> str:
        w = b.window
        return (f"❄️ The freeze “{escape(w.reason)}” ({w.source}) has begun: deployments of "
                f"{named(slugs)} are refused until {blocks.when(w.end, self.timezone)}. A stage "
                "not started waits for its end; an admin may pass it with "
                '`override="<reason>"`.')

    def _ended(self, b: Boundary, slugs: Sequence[str], ad_hoc: Sequence[FreezeWindow]) -> str:
        """Over; but a use case may stay frozen by a window that begins as this one ends."""
        stuck: dict[str, list[str]] = defaultdict(list)
        free = []
        for slug in slugs:
            chain = freeze_chain(self.recurring, ad_hoc, slug, b.at)
            if chain:
                stuck[describe(chain, self.timezone)].append(slug)
            else:
                free.append(slug)
        text = f"☀️ The freeze “{escape(b.window.reason)}” ({b.window.source}) is over"
        if free:
            text += f": deployments of {named(free)} may start again"
        for why, frozen in stuck.items():
            text += f". {named(frozen)} {'stays' if len(frozen) == 1 else 'stay'} frozen: {why}"
        return text + "."
