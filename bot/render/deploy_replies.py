"""The answers to whoever ran a `/deploy` command, from the facts the service returns
(bot/domain/deploy_results.py), and what those commands tell the use case's channel
(bot/domain/deploy_command_cards.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.deploy_command_cards import LockAnnounced, StartedDespiteFreeze, UnlockAnnounced
from bot.domain.deploy_results import (
    DeployAnswer,
    DeployHistory,
    DeploymentCancelled,
    DeploymentShown,
    DeploymentStarted,
    DeploysLocked,
    DeploysUnlocked,
    GateApproved,
    GateRejected,
    GateToReject,
    NotifyPreference,
    RollbackStarted,
    RunningNow,
    UseCaseStatus,
)
from bot.render.blocks import Message, notice
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.deploy_blocks import (
    CANCELLED,
    history_message,
    running_message,
    status_message,
    thread_note,
)
from bot.render.deploy_dms import setting_message
from bot.render.deploy_words import lock_line
from bot.render.freeze_blocks import describe, frozen_lines, passes
from bot.render.mrkdwn import escape
from bot.render.production_words import production_line


def reject_label(gate: GateToReject) -> str:
    """What the reason dialog of Reject is about: "churn v1 · prod"."""
    return f"{gate.slug} {gate.version} · {gate.stage}"


def reply(done: DeployAnswer, links: DashboardLinks = NO_LINKS) -> Message:
    """The answer to ``done``; a deployment shown links to its page under ``links``."""
    match done:
        case DeploymentStarted(deployment_id=n, slug=slug, version=version, channel=channel):
            dry = " It is a *dry run*: nothing is deployed." if done.dry_run else ""
            return notice(f"🚀 Deployment {n} of *{slug}* `{version}` started; "
                          f"follow it in <#{channel}>.{dry}")
        case RollbackStarted(deployment_id=n, slug=slug, version=version, channel=channel):
            return notice(f"⏪ Rollback {n}: *{slug}* back to `{version}`; follow it in <#{channel}>.")
        case DeploymentCancelled(deployment_id=n, slug=slug, version=version):
            return notice(f"{CANCELLED} Deployment {n} of *{slug}* `{version}` is cancelled.")
        case DeploysLocked(slug=slug):
            return notice(f"🔒 Deployments of *{slug}* are locked until `/deploy unlock {slug}`.")
        case DeploysUnlocked(slug=slug):
            return notice(f"🔓 Deployments of *{slug}* are unlocked.")
        case GateApproved(deployment_id=n, stage=stage, slug=slug, version=version):
            return notice(f"👍 You approved *{stage}* of deployment {n} (`{slug}` `{version}`).")
        case GateRejected(deployment_id=n, slug=slug, version=version):
            return notice(f"⛔ You rejected deployment {n} (`{slug}` `{version}`).")
        case NotifyPreference(enabled=enabled, changed=changed):
            return setting_message(enabled, changed=changed)
        case DeploymentShown(deployment=d, events=events, now=now, tz=tz):
            return status_message(d, events, now=now, tz=tz,
                                  page=links.deployment(d.use_case, d.id))
        case UseCaseStatus():
            return use_case_status(done, links)
        case RunningNow(active=active, frozen=frozen, tz=tz):
            return running_message(active, frozen_lines(frozen, tz))
        case DeployHistory(slug=slug, deployments=past, tz=tz):
            return history_message(slug, past, tz=tz)
    raise AssertionError(f"no words for {done!r}")


def use_case_status(s: UseCaseStatus, links: DashboardLinks = NO_LINKS) -> Message:
    """Its active or latest deployment, with what runs in production, its lock and the freeze
    it is in now (the end shown is when deployments may really start again)."""
    notes = [note for note in (f"🎯 *In production:* {production_line(s.production, s.tz)}",
                               lock_line(s.lock, s.now, s.tz) if s.lock else "",
                               f"❄️ Frozen: {describe(s.frozen, s.tz)}" if s.frozen else "") if note]
    if s.latest is None:
        return notice("\n".join([*notes, f"No deployments of *{s.slug}* yet."]))
    return status_message(s.latest, s.events, now=s.now, tz=s.tz, notes=notes,
                          page=links.deployment(s.latest.use_case, s.latest.id))


def _despite_freeze(c: StartedDespiteFreeze) -> Message:
    return thread_note(f"⚠️ <@{c.actor}> started deployment {c.deployment_id} of *{c.slug}* "
                       f"`{c.version}` despite a freeze: "
                       f"{passes(c.passage.reason, c.passage.windows, c.tz)}")


def _locked(c: LockAnnounced) -> Message:
    return thread_note(f"🔒 <@{c.actor}> locked deployments of *{c.slug}*"
                       + (f": {escape(c.reason)}" if c.reason else ""))


CARDS: dict[type, Callable[[Any], Message]] = {
    StartedDespiteFreeze: _despite_freeze,
    LockAnnounced: _locked,
    UnlockAnnounced: lambda c: thread_note(f"🔓 <@{c.actor}> unlocked deployments of *{c.slug}*."),
}
