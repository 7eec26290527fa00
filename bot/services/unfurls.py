"""A link to a use case's dashboard page, pasted in Slack (``link_shared``), unfurls into the
use case's summary — through the outbox, like every message the bot owes Slack.

Only links to this dashboard's ``/use-cases/<slug>`` count (bot/domain/dashboard_urls.py). A
use case homed in a private channel or group DM unfurls only in that channel: elsewhere, and in
a message still being written (its channel is not known yet), nothing of it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.dashboard_urls import use_case_of
from bot.domain.metrics import Target
from bot.domain.usecase_results import KpiStanding, UseCaseSummary
from bot.domain.usecases import UseCase
from bot.log_events import get_logger
from bot.services.outbox_port import SharedIn
from bot.services.ports import StoredPoint, UnitOfWork

log = get_logger(__name__)

MOST_LINKS = 10  # of one message: enough for any real one, a bound for a hostile one
# A pushed value may be dated up to 60 s ahead of the bot's clock: anything before this is
# "the newest value" (one row per KPI, read with the KPI series' own "newest before" query).
AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class SharedLinks:
    where: SharedIn
    urls: tuple[str, ...]


@dataclass
class UnfurlService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    public_url: str  # "" when there is no dashboard to link to: nothing unfurls
    dev_timebox: timedelta
    timezone: str

    async def unfurl(self, shared: SharedLinks) -> int:
        """Queue the unfurls of the dashboard links in ``shared``; how many links unfurl."""
        wanted = {url: slug for url in dict.fromkeys(shared.urls[:MOST_LINKS])
                  if (slug := use_case_of(self.public_url, url)) is not None}
        if not wanted:
            return 0
        now = self.clock.now()
        async with self.uow() as uow:
            summaries = {}
            for slug in set(wanted.values()):
                uc = await uow.use_cases.get(slug)
                if uc is not None and _shown_in(uc, shared.where):
                    summaries[slug] = await self._summary(uow, uc, now)
            cards = {url: summaries[slug] for url, slug in wanted.items() if slug in summaries}
            if cards:
                uow.outbox.unfurl(shared.where, cards)
                await uow.commit()
        log.info("unfurl.queued", links=len(shared.urls), ours=len(wanted), unfurled=len(cards))
        return len(cards)

    async def _summary(self, uow: UnitOfWork, uc: UseCase, now: datetime) -> UseCaseSummary:
        newest = await uow.metrics.series(uc.slug, since=now + AHEAD, before=(now + AHEAD,))
        targets = await uow.metrics.targets(uc.slug)
        kpis = []
        for name in sorted(newest.keys() | targets.keys(), key=lambda n: (n != uc.kpi, n)):
            points, t = newest.get(name, []), targets.get(name)
            kpis.append(KpiStanding(name, points[-1].value if points else None,
                                    _unit(points), Target(t.op, t.value) if t else None))
        return UseCaseSummary(uc, now, self.dev_timebox, self.timezone,
                              await uow.deployments.production(uc.slug), tuple(kpis))


def _shown_in(uc: UseCase, where: SharedIn) -> bool:
    """Everyone may see a public use case; a private one only its own channel's members."""
    return not uc.private or (where.source != "composer" and where.channel == uc.channel_id)


def _unit(points: Sequence[StoredPoint]) -> str:
    return next((p.unit for p in reversed(points) if p.unit), "")  # the newest one given
