"""Continuous KPIs: pull each on schedule once, store the value like a recorded one, follow each
source's health, `/metric sources` and `/metric pull`, and the value a ``kpi`` gate judges.

A pull reads its source outside any transaction (a slow warehouse holds no connection of ours),
then stores the point and the source's status in one: the announcement of a source failing or
recovering is in the same commit as the status it follows, and only one pull makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import kpis
from bot.domain.kpis import Change, KpiSourceSet, KpiSpec, SourceFailure
from bot.domain.metric_results import KpiPulled, SourceFailing, SourceListing, SourceRecovered
from bot.domain.metrics import Target, validate_name
from bot.domain.usecases import DomainError, NotAllowed
from bot.log_events import get_logger
from bot.services.commands import Actor, PullKpi, ShowSources
from bot.services.kpi_ports import KpiReader
from bot.services.metrics import NewPoint, store_points
from bot.services.ports import UnitOfWork
from bot.services.usecases import load_use_case

log = get_logger(__name__)

KEEP_PULLS = timedelta(days=7)  # claims older than this are history nobody asks for


@dataclass
class KpiService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    sources: KpiSourceSet
    reader: KpiReader
    timezone: str
    secrets: tuple[str, ...] = ()  # masked in every failure we store or say
    counted: Callable[[str], None] | None = None  # each pull's result: ok, failed, no_use_case, error

    # ── on schedule ────────────────────────────────────────────────────────────────────────

    async def due(self) -> list[tuple[KpiSpec, datetime]]:
        """Each KPI's newest fire time not claimed yet: at start-up, the one missed pull."""
        if not self.sources.kpis:
            return []
        now = self.clock.now()
        async with self.uow() as uow:
            statuses = await uow.kpis.statuses({k.use_case for k in self.sources.kpis})
        out = []
        for kpi in self.sources.kpis:
            status = statuses.get(kpi.key)
            fire = kpis.latest_fire(kpi.schedule, now, status.last_fire if status else None)
            if fire is not None:
                out.append((kpi, fire))
        return out

    async def pull_scheduled(self, kpi: KpiSpec, fire_time: datetime) -> KpiPulled | None:
        """Pull for this fire time if this process claims it first; None if another did."""
        async with self.uow() as uow:
            claimed = await uow.kpis.claim_pull(kpi.use_case, kpi.name, fire_time, self.clock.now())
            await uow.commit()
        if not claimed:
            return None
        pulled = await self._pull(kpi)
        log.info("kpi.pull", use_case=kpi.use_case, kpi=kpi.name, fire_time=fire_time.isoformat(),
                 ok=pulled.value is not None)
        return pulled

    async def forget_old_pulls(self) -> None:
        async with self.uow() as uow:
            await uow.kpis.forget_pulls_before(self.clock.now() - KEEP_PULLS)
            await uow.commit()

    async def apply_targets(self) -> None:
        """The file's targets become the KPIs' targets now (pulls keep them so, too)."""
        for slug in sorted({k.use_case for k in self.sources.kpis if k.target is not None}):
            async with self.uow() as uow:
                if await uow.use_cases.get(slug) is not None:
                    for kpi in self.sources.of(slug):
                        await _keep_target(uow, kpi, self.clock.now())
                    await uow.commit()

    # ── commands ───────────────────────────────────────────────────────────────────────────

    async def pull(self, command: PullKpi, actor: Actor) -> KpiPulled:
        name = validate_name(command.name)
        async with self.uow() as uow:
            uc = await load_use_case(uow, command.slug)
        if not (actor.is_admin or actor.user_id == uc.owner_id or uc.role_of(actor.user_id)):
            raise NotAllowed("kpi_pull_not_allowed", owner=uc.owner_id, slug=uc.slug,
                             admins_may=True)
        kpi = self.sources.find(uc.slug, name)
        if kpi is None:
            raise DomainError("kpi_without_source", slug=uc.slug, name=name,
                              known=tuple(k.name for k in self.sources.of(uc.slug)))
        return await self._pull(kpi)

    async def list_sources(self, command: ShowSources) -> SourceListing:
        slug = None
        if command.slug is not None:
            async with self.uow() as uow:
                slug = (await load_use_case(uow, command.slug)).slug
        chosen = self.sources.of(slug)
        async with self.uow() as uow:
            statuses = await uow.kpis.statuses({k.use_case for k in chosen})
        now = self.clock.now()
        return SourceListing(slug, self.timezone, tuple(
            (k, statuses.get(k.key), k.schedule.next_fire(now)) for k in chosen))

    # ── the kpi gate ───────────────────────────────────────────────────────────────────────

    async def judge(self, slug: str, name: str, max_drop: kpis.MaxDrop | None,
                    started: datetime | None, ran: datetime | None) -> kpis.GateVerdict:
        """After a wave: a fresh value (pulled now if the KPI has a source) against the target
        and the value when the deployment started."""
        since = ran or self.clock.now()
        kpi = self.sources.find(slug, name)
        fresh = (await self._pull(kpi)).value if kpi is not None else None
        async with self.uow() as uow:
            stored = (await uow.metrics.targets(slug)).get(name)
            if kpi is None:
                fresh = await _newest_after(uow, slug, name, since)
            baseline = await _value_at(uow, slug, name, started) if started else None
        target = Target(stored.op, stored.value) if stored else None
        unit = kpi.unit if kpi is not None else ""
        return kpis.judge(name, unit, fresh, target=target, baseline=baseline, max_drop=max_drop)

    # ── one pull ───────────────────────────────────────────────────────────────────────────

    async def _pull(self, kpi: KpiSpec) -> KpiPulled:
        result = "error"
        try:
            pulled = await self._pull_once(kpi)
            result = "no_use_case" if pulled.use_case_gone else "failed" if pulled.value is None else "ok"
            return pulled
        finally:
            if self.counted is not None:
                self.counted(result)

    async def _pull_once(self, kpi: KpiSpec) -> KpiPulled:
        value, error = await self._read(kpi)
        try:
            return await self._record(kpi, value, error)
        except LookupError:  # the file names a use case that does not exist (any more)
            log.warning("kpi.unknown_use_case", use_case=kpi.use_case, kpi=kpi.name)
            return KpiPulled(kpi, None, use_case_gone=True)

    async def _read(self, kpi: KpiSpec) -> tuple[float | None, str]:
        try:
            return await self.reader.read(kpi), ""
        except SourceFailure as failure:  # the reader says why, in its words (bot.sources)
            return None, self._masked(str(failure))

    async def _record(self, kpi: KpiSpec, value: float | None, error: str) -> KpiPulled:
        async with self.uow() as uow:
            before = (await uow.kpis.statuses([kpi.use_case])).get(kpi.key)
            now = self.clock.now()
            judged_by = None
            await _keep_target(uow, kpi, now)
            if value is not None:
                point = NewPoint(kpi.use_case, kpi.name, value, kpi.unit, now)
                [judged_by] = await store_points(uow, [point], kpi.recorded_by, now)
            after, change = kpis.after_pull(before, value, error, now)
            saved = await uow.kpis.save_status(kpi.use_case, kpi.name, after,
                                               was_failing=None if before is None else before.failing)
            if saved and change is not None:
                uc = await load_use_case(uow, kpi.use_case)
                uow.outbox.post(uc.channel_id, SourceFailing(kpi, error) if change is Change.FAILING
                                else SourceRecovered(kpi, value or 0.0,
                                                     before.since if before else None, self.timezone))
            await uow.commit()
        return KpiPulled(kpi, value, error, judged_by)

    def _masked(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "•••")
        return text


async def _keep_target(uow: UnitOfWork, kpi: KpiSpec, now: datetime) -> None:
    """Set the file's target unless it is set already (an unchanged one keeps its met/missed)."""
    target = kpi.target
    if target is None:
        return
    old = (await uow.metrics.targets(kpi.use_case)).get(kpi.name)
    if old is None or (old.op, old.value) != (target.op, target.value):
        await uow.metrics.set_target(kpi.use_case, kpi.name, target.op, target.value, "kpi-file",
                                     now, None)


async def _newest_after(uow: UnitOfWork, slug: str, name: str, since: datetime) -> float | None:
    """The newest value the bot *received* after ``since`` (a pushed `at` may claim any time:
    a value that arrived before the wave never counts as the wave's)."""
    fresh = await uow.metrics.newest_received(slug, name, since)
    return None if fresh is None else fresh.value


async def _value_at(uow: UnitOfWork, slug: str, name: str, moment: datetime) -> float | None:
    """The KPI's value as it stood at ``moment``: its newest point at or before it."""
    after = moment + timedelta(microseconds=1)
    points = (await uow.metrics.series(slug, since=after, before=(moment,))).get(name, [])
    then = [p for p in points if p.at <= moment]
    return then[-1].value if then else None
