"""`/digest`: schedules per channel, and the digest itself, gathered in a fixed number of queries.

A scheduled digest is claimed by (channel, fire time) in the database before it is posted, so
several bot processes firing the same schedule post it once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import digest_data as data
from bot.domain.freezes import RecurringFreeze
from bot.domain.metric_results import DigestScheduled, DigestScheduleShown, DigestsOff
from bot.domain.metrics import SPARK_WIDTH
from bot.domain.schedule import Schedule, parse_schedule
from bot.domain.usecases import NotAllowed
from bot.services import digest_facts as facts
from bot.services.freezes import frozen_in_channel
from bot.services.ports import DigestSchedule, Scope, UnitOfWork

DEFAULT_PERIOD = timedelta(days=7)
WAITING_LIMIT = 100  # gates listed (sorted by age) per digest; few wait at once


@dataclass
class DigestService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    dev_timebox: timedelta
    timezone: str
    admins: frozenset[str]
    permalink: Callable[[int], Awaitable[str | None]] = lambda _id: _none()  # a deployment's message
    reads: Callable[[], UnitOfWork] | None = None  # long reads: not on the connections acks need
    freezes: tuple[RecurringFreeze, ...] = ()  # the pipeline file's recurring windows

    # ── commands ───────────────────────────────────────────────────────────────────────────

    async def show_schedule(self, channel_id: str) -> DigestScheduleShown:
        async with self.uow() as uow:
            stored = await uow.digests.schedule(channel_id)
            last = await uow.digests.last_run(channel_id)
        if stored is None:
            return DigestScheduleShown(None, "", None, last, self.timezone)
        schedule = Schedule(stored.cron, stored.timezone)
        return DigestScheduleShown(schedule, stored.created_by, schedule.next_fire(self.clock.now()),
                                   last, self.timezone)

    async def set_schedule(self, channel_id: str, cron: str, tz: str | None,
                           actor: str) -> DigestScheduled:
        schedule = parse_schedule(cron, tz or self.timezone)
        async with self.uow() as uow:
            await self._ensure_may_schedule(uow, channel_id, actor)
            await uow.digests.set_schedule(
                DigestSchedule(channel_id, schedule.cron, schedule.tz, actor, self.clock.now())
            )
            await uow.commit()
        return DigestScheduled(schedule, schedule.next_fire(self.clock.now()))

    async def turn_off(self, channel_id: str, actor: str) -> DigestsOff:
        async with self.uow() as uow:
            await self._ensure_may_schedule(uow, channel_id, actor)
            removed = await uow.digests.remove_schedule(channel_id)
            await uow.commit()
        return DigestsOff(removed)

    async def _ensure_may_schedule(self, uow: UnitOfWork, channel_id: str, actor: str) -> None:
        if actor in self.admins:
            return
        owners = await uow.use_cases.owners_in(channel_id)
        if actor not in owners:
            raise NotAllowed("digest_schedule_not_allowed", owners=tuple(owners))

    async def schedules(self) -> dict[str, tuple[Schedule, datetime | None]]:
        """Every channel's schedule with the moment before which nothing is owed: its last
        digest, or when it was (re)scheduled — a fire time before that was never missed."""
        async with self.uow() as uow:
            out: dict[str, tuple[Schedule, datetime | None]] = {}
            for s in await uow.digests.schedules():
                last = await uow.digests.last_run(s.channel_id)
                out[s.channel_id] = (Schedule(s.cron, s.timezone), max(last or s.created_at, s.created_at))
            return out

    # ── posting ─────────────────────────────────────────────────────────────────────────────

    async def post_now(self, channel_id: str) -> None:
        now = self.clock.now()
        digest = await self._gather(channel_id, now)
        async with self.uow() as uow:
            uow.outbox.post(channel_id, digest)  # worded before the claim: see run_scheduled
            await uow.digests.claim_run(channel_id, now, now)
            await uow.commit()

    async def run_scheduled(self, channel_id: str, fire_time: datetime) -> bool:
        """Post the digest for this fire time unless some process already did; True if posted."""
        now = self.clock.now()
        async with self.uow() as uow:  # most processes stop here when another posted it already
            if not await self._owed(uow, channel_id, fire_time):
                return False
        digest = await self._gather(channel_id, now)
        async with self.uow() as uow:
            if not await self._owed(uow, channel_id, fire_time):
                return False  # turned off meanwhile
            # Worded (the slow part) before the claim's INSERT, which holds SQLite's one writer
            # until the commit; a lost claim rolls the queued message back with it.
            uow.outbox.post(channel_id, digest)
            if not await uow.digests.claim_run(channel_id, fire_time, now):
                return False
            await uow.commit()
        return True

    @staticmethod
    async def _owed(uow: UnitOfWork, channel_id: str, fire_time: datetime) -> bool:
        return (await uow.digests.schedule(channel_id) is not None
                and not await uow.digests.has_run(channel_id, fire_time))

    async def _gather(self, channel_id: str, now: datetime) -> data.DigestData:
        """Gather in one read transaction, then link the approvals waiting: the links are Web
        API calls, and no transaction (on SQLite: the database) waits for Slack."""
        async with (self.reads or self.uow)() as uow:
            since = await self._previous_run(uow, channel_id, now)
            gathered = await self.collect(uow, channel_id, since, now)
        approvals = [replace(a, permalink=await self.permalink(a.deployment_id))
                     if index < data.MAX_LINES else a
                     for index, a in enumerate(gathered.approvals)]
        return replace(gathered, approvals=approvals)

    async def _previous_run(self, uow: UnitOfWork, channel_id: str, now: datetime) -> datetime:
        runs = [r for r in [await uow.digests.last_run(channel_id)] if r is not None and r < now]
        return runs[0] if runs else now - DEFAULT_PERIOD

    async def preview(self, channel_id: str) -> data.DigestData:
        return await self._gather(channel_id, self.clock.now())

    # ── gathering: a fixed number of statements, each narrowed to the scope in SQL ─────────

    async def collect(
        self, uow: UnitOfWork, channel_id: str, since: datetime, now: datetime
    ) -> data.DigestData:
        """The channel's own use cases; for a channel without any, the workspace's that anyone
        may see (none of a private channel: this channel's members need not be in it)."""
        reads, lines = uow.digest_reads, data.MAX_LINES
        own = await reads.has_use_cases(channel_id)
        scope = Scope(channel_id=channel_id) if own else Scope(public_only=True)
        moves = await reads.moves(scope, since, lines)
        overdue = await reads.overdue(scope, now - self.dev_timebox, lines)
        waiting = facts.approvals_waiting(await reads.waiting(scope, WAITING_LIMIT), now)
        deployments, states = await reads.deployments(scope, since, lines)
        crossings = await reads.crossings(scope, since, lines)
        moved = await reads.moved_series(scope, since, lines)
        tails = await reads.tails(moved.rows, since, SPARK_WIDTH)
        targets = await reads.targets(sorted({slug for slug, _name in moved.rows}))
        days = facts.dora_days(since, now)
        [dora] = await uow.dora.counts(scope, [(now - timedelta(days=days), now)], now)
        attention = await reads.attention(scope, lines)
        running = await reads.production(scope, lines)
        return data.DigestData(
            channel_id=channel_id, now=now, since=since, tz=self.timezone,
            phases=facts.phase_counts(await reads.phase_counts(scope)),
            moves=[facts.move(m) for m in moves.rows],
            overdue=[facts.overdue(o, now) for o in overdue.rows],
            approvals=waiting,
            deployments=[facts.deployment_line(d) for d in deployments.rows],
            kpis=[facts.kpi_movement(t, targets.get(t.slug, {}).get(t.name), now) for t in tails],
            crossings=[facts.crossed(c) for c in crossings.rows],
            dora=facts.dora_summary(dora, now, days),
            totals={"moves": moves.total, "overdue": overdue.total, "crossings": crossings.total,
                    "deployments": deployments.total, "kpis": moved.total,
                    "attention": attention.total, "production": running.total},
            deployment_states=states,
            freezes=await frozen_in_channel(uow, self.freezes, scope.channel_id, now, public_only=not own),
            attention=[data.NeedsAttention(a.slug, a.production, a.lock) for a in attention.rows],
            production=running.rows, workspace=not own,
        )


async def _none() -> None:
    return None
