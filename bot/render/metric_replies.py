"""The answers to `/metric` and `/digest`, and the cards KPIs, targets, digests and reminders
post, from the facts the services return (bot/domain/metric_results.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.digest_data import DigestData
from bot.domain.metric_results import (
    DevOverdue,
    DigestScheduled,
    DigestScheduleShown,
    DigestsOff,
    DoraShown,
    KpiPulled,
    KpiTable,
    MetricRecorded,
    MetricResult,
    SourceFailing,
    SourceListing,
    SourceRecovered,
    TargetCrossed,
    TargetSet,
)
from bot.domain.metrics import Target
from bot.render import digest_blocks, kpi_blocks, metric_blocks
from bot.render.blocks import Message, notice, when
from bot.render.dashboard_links import DashboardLinks
from bot.render.dora_changes import compare
from bot.render.metric_blocks import target_status
from bot.render.mrkdwn import escape
from bot.render.schedule_words import schedule_words


def judged(target: Target | None, value: float, unit: str) -> str:
    """The target status line under a stored value ("" without a target)."""
    return target_status(target, value, escape(unit)) if target is not None else ""


def reply(done: MetricResult) -> Message:
    match done:
        case MetricRecorded():
            return metric_blocks.recorded(done.slug, done.name, done.value, done.unit,
                                          judged(done.target, done.value, done.unit))
        case TargetSet():
            return metric_blocks.target_set(done)
        case KpiTable():
            return metric_blocks.kpi_table(done.slug, done.summaries, days=done.days,
                                           failing=done.failing)
        case DoraShown():
            return metric_blocks.dora_card(done.report, compare(done.report, done.previous),
                                           per_use_case=done.per_use_case)
        case KpiPulled(kpi=kpi, value=value):
            status = judged(done.target, value, kpi.unit) if value is not None else ""
            error = f"there is no use case `{kpi.use_case}`" if done.use_case_gone else done.error
            return kpi_blocks.pulled(kpi, value, error, status)
        case SourceListing():
            return kpi_blocks.sources_table(done.slug, [
                kpi_blocks.source_line(kpi, status, upcoming, done.tz)
                for kpi, status, upcoming in done.sources])
    return _digest_reply(done)


def _digest_reply(done: DigestScheduleShown | DigestScheduled | DigestsOff) -> Message:
    match done:
        case DigestScheduleShown():
            return _schedule_shown(done)
        case DigestScheduled(schedule=schedule, upcoming=upcoming):
            return notice(f"📋 Digest scheduled {schedule_words(schedule)}. The next one comes "
                          f"{when(upcoming, schedule.tz)}.")
        case DigestsOff(removed=removed):
            return notice("📋 Scheduled digests are off in this channel." if removed
                          else "No digest was scheduled in this channel.")
    raise TypeError(f"no words for {done!r}")


def digest_coming() -> Message:
    """`/digest now`: the digest is posted through the outbox, after the answer."""
    return notice("📋 Putting the digest together; it appears here in a moment.")


def _schedule_shown(shown: DigestScheduleShown) -> Message:
    schedule, upcoming, last = shown.schedule, shown.upcoming, _last_posted(shown)
    if schedule is None or upcoming is None:
        return notice("No digest is scheduled in this channel. Schedule one with "
                      '`/digest schedule "0 9 * * mon" tz=Europe/Berlin`, or post one '
                      f"now with `/digest now`.{last}")
    return notice(f"📋 Digest {schedule_words(schedule)} (`{schedule.cron}`), set by <@{shown.set_by}>. "
                  f"Next: {when(upcoming, schedule.tz)}." + last)


def _last_posted(shown: DigestScheduleShown) -> str:
    last = shown.last_posted
    return f" The last digest here was posted {when(last, shown.tz)}." if last else ""


def dev_overdue(card: DevOverdue) -> Message:
    return notice(
        f"⏰ *{card.slug}* has been in Dev for {card.weeks_in_dev:.0f} weeks, over its "
        f"{card.timebox_weeks:.0f}-week time box. <@{card.owner_id}>, time to "
        f"`/usecase advance {card.slug}` or go `back` with the business?")


def cards(links: DashboardLinks) -> dict[type, Callable[[Any], Message]]:
    """The metric cards' words; a digest links its channel's use cases in the dashboard."""
    return {**CARDS, DigestData: lambda d: digest_blocks.render_digest(d, links)}


CARDS: dict[type, Callable[[Any], Message]] = {
    TargetCrossed: lambda c: metric_blocks.crossing_announcement(c.slug, c.name, c.unit, c.value,
                                                                 c.target, c.met),
    SourceFailing: lambda c: kpi_blocks.source_failing(c.kpi, c.error),
    SourceRecovered: lambda c: kpi_blocks.source_recovered(c.kpi, c.value, c.failing_since, c.tz),
    DevOverdue: dev_overdue,
    DigestData: digest_blocks.render_digest,
}
