"""The web dashboard's pages as facts (SPEC "Web dashboard"): the portfolio, a use case's story,
the deployments, DORA and the audit trail — each read on the read-only connections, narrowed to
what the signed-in person may see (a use case homed in a private channel only by its members:
bot/services/visibility.py), and cut to one page. bot/render/web_pages.py words them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.domain.audit import AuditEvent, AuditFilter
from bot.domain.dashboard import (
    DEPLOYMENTS_PAGE,
    PORTFOLIO_PAGE,
    DeploymentFilter,
    PortfolioFilter,
)
from bot.domain.deployment_model import PEOPLE_ASKED, Deployment, Event
from bot.domain.kpi_chart import KpiChart
from bot.domain.metric_results import ChartRequest, DoraShown
from bot.domain.production import Production
from bot.domain.usecases import UseCase
from bot.services.commands import ShowDora
from bot.services.metrics import read_charts
from bot.services.ports import StoredPoint, StoredTarget, UnitOfWork
from bot.services.read_ports import DeploymentSummary
from bot.services.use_case_ports import Sight
from bot.services.visibility import Conversations, may_see, member_of

AUDIT_PAGE = 100
STORY_DEPLOYMENTS = 10   # the deployments a use case's page shows at a time, each with its trail
CHART_DAYS = 90          # a use case's KPI charts cover this many days
HOMES_FRESH = timedelta(seconds=10)  # how long the private channels homing use cases are kept
DORA_FRESH = timedelta(minutes=1)  # the DORA page is counted at most this often


class People(Protocol):
    async def names(self, user_ids: Iterable[str]) -> dict[str, str]: ...


@dataclass(frozen=True)
class Portfolio:
    where: PortfolioFilter
    use_cases: tuple[UseCase, ...]
    counts: dict[str, int]                 # per phase, for the same selection
    production: dict[str, Production]
    kpis: dict[str, list[StoredPoint]]     # per use case, the newest value of each KPI watched
    targets: dict[str, dict[str, StoredTarget]]
    after: str | None                      # the next page starts after this slug (None: last)
    now: datetime
    names: dict[str, str]


@dataclass(frozen=True)
class UseCaseStory:
    use_case: UseCase
    production: Production | None
    charts: tuple[KpiChart, ...]           # each KPI over the chart period
    deployments: tuple[tuple[Deployment, tuple[Event, ...]], ...]
    period: tuple[datetime, datetime]
    now: datetime
    names: dict[str, str]
    older: int | None = None                # the next page starts at this deployment
    newer: bool = False                     # this page does not start at the newest one


@dataclass(frozen=True)
class DeploymentsPage:
    where: DeploymentFilter
    deployments: tuple[DeploymentSummary, ...]
    before: int | None                      # the next page: deployments before this id
    names: dict[str, str]


@dataclass(frozen=True)
class AuditPage:
    where: AuditFilter
    events: tuple[AuditEvent, ...]
    after: tuple[datetime, int, int] | None  # the next page starts after this event's key
    names: dict[str, str]


@dataclass
class DashboardService:
    reads: Callable[[], UnitOfWork]          # the read-only unit of work (Database.reads)
    clock: Clock
    conversations: Conversations
    people: People
    dora_report: Callable[[ShowDora], Awaitable[tuple[DoraShown, ChartRequest | None]]]
    _homes: tuple[datetime, list[str]] | None = None  # when read, the private homes
    _dora_kept: dict[int, tuple[datetime, tuple[DoraShown, ChartRequest | None]]] = field(
        default_factory=dict, init=False, repr=False)
    _dora_turn: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def sight(self, user_id: str) -> Sight:
        """The private channels homing use cases that ``user_id`` is in (asked of Slack,
        cached there), before any read opens. Which channels home private use cases is read
        at most every HOMES_FRESH: a channel made private meanwhile is left out of every
        sight until then (its use cases hidden a little longer, never shown too long)."""
        now = self.clock.now()
        if self._homes is None or now - self._homes[0] > HOMES_FRESH:
            async with self.reads() as uow:
                self._homes = (now, await uow.use_cases.private_homes(include_archived=True))
        return Sight(await member_of(self.conversations, user_id, self._homes[1]))

    async def portfolio(self, user_id: str, where: PortfolioFilter,
                        after: str | None = None) -> Portfolio:
        sight = await self.sight(user_id)
        async with self.reads() as uow:
            found = await uow.dashboard.portfolio(where, sight, after, PORTFOLIO_PAGE + 1)
            shown = found[:PORTFOLIO_PAGE]
            counts = await uow.dashboard.phase_counts(where, sight)
            slugs = [uc.slug for uc in shown]
            production = await uow.deployments.productions(slugs)
            targets = await uow.digest_reads.targets(slugs)
            # The success KPI and every KPI with a target: the ones somebody decided to watch.
            kpis = await uow.dashboard.watched(slugs)
        names = await self.people.names(uc.owner_id for uc in shown)
        return Portfolio(where, tuple(shown), counts, production, kpis, targets,
                         shown[-1].slug if len(found) > PORTFOLIO_PAGE else None,
                         self.clock.now(), names)

    async def use_case(self, user_id: str, slug: str,
                       upto: int | None = None) -> UseCaseStory | None:
        """None: there is none of that slug, or it is not theirs to see (the same answer).
        Its deployments a page at a time: the newest, or those up to deployment ``upto``."""
        now = self.clock.now()
        since = now - timedelta(days=CHART_DAYS)
        async with self.reads() as uow:
            uc = await uow.use_cases.get(slug)
            if uc is None:
                return None
            production = await uow.deployments.production(slug)
            found = await uow.dashboard.story(slug, upto, STORY_DEPLOYMENTS + 1)
            history = found[:STORY_DEPLOYMENTS]
            # A page of older ones links back to the newest, when there are newer ones.
            newest = await uow.dashboard.story(slug, None, 1) if upto is not None else []
            events = await uow.dashboard.trails([d.id for d in history if d.id is not None])
            charts = await read_charts(uow, uc, CHART_DAYS, now)  # one unit of work a page
        if not await may_see(self.conversations, user_id, uc):  # Slack, after the read
            return None
        trails = [(d, tuple(events[d.id])) for d in history if d.id is not None]
        people = {uc.owner_id, *(m.user_id for m in uc.team), *(c.actor_id for c in uc.history),
                  *(d.requested_by for d in history),
                  *(e.actor for _d, trail in trails for e in trail if e.actor),
                  *(who for _d, trail in trails for e in trail for who in _asked(e.kind, e.detail))}
        newer = bool(newest) and (not history or newest[0].id != history[0].id)
        return UseCaseStory(uc, production, tuple(charts), tuple(trails), (since, now), now,
                            await self.people.names(people),
                            found[-1].id if len(found) > STORY_DEPLOYMENTS else None, newer)

    async def deployments(self, user_id: str, where: DeploymentFilter,
                          before: int | None = None) -> DeploymentsPage:
        sight = await self.sight(user_id)
        async with self.reads() as uow:
            found = await uow.dashboard.deployments(where, sight, before, DEPLOYMENTS_PAGE + 1)
        shown = found[:DEPLOYMENTS_PAGE]
        return DeploymentsPage(where, tuple(shown),
                               shown[-1].id if len(found) > DEPLOYMENTS_PAGE else None,
                               await self.people.names(d.requested_by for d in shown))

    async def seen_by(self, where: AuditFilter, user_id: str) -> AuditFilter:
        """``where`` for one person's eyes (the audit page, and the export read with a session):
        no use case of a private channel they are not in."""
        return replace(where, channels=(await self.sight(user_id)).channels)

    async def audit(self, user_id: str, where: AuditFilter,
                    after: tuple[datetime, int, int] | None = None) -> AuditPage:
        where = await self.seen_by(where, user_id)
        async with self.reads() as uow:
            found = await uow.audit.events(where, after, AUDIT_PAGE + 1)
        shown = found[:AUDIT_PAGE]
        return AuditPage(where, tuple(shown), shown[-1].key if len(found) > AUDIT_PAGE else None,
                         await self.people.names([*(e.actor for e in shown if e.actor),
                                                  *(w for e in shown for w in _asked(e.action, e.detail))]))

    async def dora(self, days: int = 30) -> tuple[DoraShown, ChartRequest | None]:
        """The workspace's four metrics (of use cases anyone may see) and their trend, as
        `/metric dora` counts them. The same for every viewer, so counted at most once per
        ``DORA_FRESH`` and shared: pages asked meanwhile wait for the one count in progress
        (what a page costs does not grow with how many people look at it)."""
        async with self._dora_turn:
            now = self.clock.now()
            kept = self._dora_kept.get(days)
            if kept is None or now - kept[0] >= DORA_FRESH:
                kept = (now, await self.dora_report(ShowDora(None, days)))
                self._dora_kept[days] = kept
            return kept[1]


def _asked(kind: str, detail: str) -> list[str]:
    """The people an approvers_told or reminded event names (its detail: their user IDs)."""
    return detail.split() if kind in PEOPLE_ASKED else []
