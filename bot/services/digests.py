"""`/digest`: schedules per channel, and the digest itself, gathered in a fixed number of queries.

A scheduled digest is claimed by (channel, fire time) in the database before it is posted, so
several bot processes firing the same schedule post it once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot import blocks
from bot import digest_blocks as digest
from bot import digest_data as data
from bot.blocks import Message
from bot.clock import Clock
from bot.domain.durations import weeks
from bot.domain.schedule import Schedule, parse_schedule
from bot.domain.usecases import NotAllowed
from bot.services import digest_facts as facts
from bot.services.ports import DigestSchedule, OutgoingMessage, UnitOfWork

DEFAULT_PERIOD = timedelta(days=7)
KPI_HISTORY = timedelta(days=60)


@dataclass
class DigestService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    dev_timebox: timedelta
    timezone: str
    admins: frozenset[str]
    permalink: Callable[[int], Awaitable[str | None]] = lambda _id: _none()  # a deployment's message

    # ── commands ───────────────────────────────────────────────────────────────────────────

    async def show_schedule(self, channel_id: str) -> Message:
        async with self.uow() as uow:
            stored = await uow.digests.schedule(channel_id)
            last = await uow.digests.last_run(channel_id)
        last_line = f" The last digest here was posted {blocks.when(last, self.timezone)}." if last else ""
        if stored is None:
            return blocks.notice(
                "No digest is scheduled in this channel. Schedule one with "
                '`/digest schedule "0 9 * * mon" tz=Europe/Berlin`, or post one '
                f"now with `/digest now`.{last_line}"
            )
        schedule = Schedule(stored.cron, stored.timezone)
        upcoming = schedule.next_fire(self.clock.now())
        return blocks.notice(
            f"📋 Digest {schedule.describe()} (`{schedule.cron}`), set by "
            f"<@{stored.created_by}>. Next: {blocks.when(upcoming, schedule.tz)}." + last_line
        )

    async def set_schedule(self, channel_id: str, cron: str, tz: str | None, actor: str) -> Message:
        schedule = parse_schedule(cron, tz or self.timezone)
        async with self.uow() as uow:
            await self._ensure_may_schedule(uow, channel_id, actor)
            await uow.digests.set_schedule(
                DigestSchedule(channel_id, schedule.cron, schedule.tz, actor, self.clock.now())
            )
            await uow.commit()
        upcoming = schedule.next_fire(self.clock.now())
        return blocks.notice(
            f"📋 Digest scheduled {schedule.describe()}. The next one comes "
            f"{blocks.when(upcoming, schedule.tz)}."
        )

    async def turn_off(self, channel_id: str, actor: str) -> Message:
        async with self.uow() as uow:
            await self._ensure_may_schedule(uow, channel_id, actor)
            removed = await uow.digests.remove_schedule(channel_id)
            await uow.commit()
        return blocks.notice(
            "📋 Scheduled digests are off in this channel."
            if removed
            else "No digest was scheduled in this channel."
        )

    async def _ensure_may_schedule(self, uow: UnitOfWork, channel_id: str, actor: str) -> None:
        if actor in self.admins:
            return
        owners = {uc.owner_id for uc in await uow.use_cases.find() if uc.channel_id == channel_id}
        if actor not in owners:
            who = ", ".join(f"<@{o}>" for o in sorted(owners)) or "nobody yet"
            raise NotAllowed(
                "Only admins and the owners of use cases homed in this channel "
                f"({who}) may schedule its digest."
            )

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
        msg = await self._render(channel_id, now)
        async with self.uow() as uow:
            await uow.digests.claim_run(channel_id, now, now)
            self._post(uow, channel_id, msg)
            await uow.commit()

    async def run_scheduled(self, channel_id: str, fire_time: datetime) -> bool:
        """Post the digest for this fire time unless some process already did; True if posted."""
        now = self.clock.now()
        async with self.uow() as uow:  # most processes stop here when another posted it already
            if not await self._owed(uow, channel_id, fire_time):
                return False
        msg = await self._render(channel_id, now)
        async with self.uow() as uow:
            if not await self._owed(uow, channel_id, fire_time):
                return False  # turned off meanwhile
            if not await uow.digests.claim_run(channel_id, fire_time, now):
                return False
            self._post(uow, channel_id, msg)
            await uow.commit()
        return True

    @staticmethod
    async def _owed(uow: UnitOfWork, channel_id: str, fire_time: datetime) -> bool:
        return (await uow.digests.schedule(channel_id) is not None
                and not await uow.digests.has_run(channel_id, fire_time))

    async def _render(self, channel_id: str, now: datetime) -> Message:
        """Gather in one read transaction, then link the approvals waiting: the links are Web
        API calls, and no transaction (on SQLite: the database) waits for Slack."""
        async with self.uow() as uow:
            since = await self._previous_run(uow, channel_id, now)
            data = await self.collect(uow, channel_id, since, now)
        approvals = [replace(a, permalink=await self.permalink(a.deployment_id))
                     if index < digest.MAX_LINES else a
                     for index, a in enumerate(data.approvals)]
        return digest.render_digest(replace(data, approvals=approvals))

    @staticmethod
    def _post(uow: UnitOfWork, channel_id: str, msg: Message) -> None:
        uow.outbox.add(
            OutgoingMessage("chat.postMessage", channel_id, {"channel": channel_id, **msg.as_args()})
        )

    async def _previous_run(self, uow: UnitOfWork, channel_id: str, now: datetime) -> datetime:
        runs = [r for r in [await uow.digests.last_run(channel_id)] if r is not None and r < now]
        return runs[0] if runs else now - DEFAULT_PERIOD

    async def preview(self, channel_id: str) -> Message:
        now = self.clock.now()
        return await self._render(channel_id, now)

    # ── gathering: a fixed number of statements, whatever the data ────────────────────────

    async def collect(
        self, uow: UnitOfWork, channel_id: str, since: datetime, now: datetime
    ) -> data.DigestData:
        everything = await uow.use_cases.find(include_archived=True)
        homed = [uc for uc in everything if uc.channel_id == channel_id]
        scope = homed or everything  # a channel without use cases of its own sees them all
        slugs = {uc.slug for uc in scope}
        recent = [d for d in await uow.deployments.since(since) if d.use_case in slugs]
        waiting = [d for d in await uow.deployments.active(limit=500) if d.use_case in slugs]
        period = max(now - since, timedelta(days=1))
        records = [r for r in await uow.deployments.dora_records(now - 2 * period) if r.use_case in slugs]
        series = await uow.overview.series_since(now - KPI_HISTORY)
        targets = await uow.overview.all_targets()
        return data.DigestData(
            channel_id=channel_id,
            now=now,
            since=since,
            tz=self.timezone,
            phases=facts.phase_counts(scope),
            moves=[
                data.PhaseMove(
                    slug,
                    title,
                    c.from_phase.value if c.from_phase else "",
                    c.to_phase.value,
                    c.actor_id,
                    c.at,
                    c.note,
                )
                for slug, title, c in await uow.use_cases.changes_since(since)
                if slug in slugs
            ],
            overdue=[
                data.OverdueWork(uc.slug, uc.title, uc.owner_id, weeks(uc.time_in_phase(now)))
                for uc in scope
                if uc.is_overdue(now, self.dev_timebox)
            ],
            approvals=facts.approvals_waiting(waiting, now),
            deployments=[facts.deployment_line(d) for d in recent],
            kpis=facts.kpi_movements({s: series.get(s, {}) for s in slugs}, targets, since, now),
            crossings=facts.target_crossings({s: series.get(s, {}) for s in slugs}, targets, since),
            dora=facts.dora_summary(records, now, since),
        )


async def _none() -> None:
    return None
