"""The answers to whoever started, cancelled, rolled back, locked or unlocked deployments, from
the facts the service returns (bot/domain/deploy_results.py)."""

from __future__ import annotations

from bot.domain.deploy_results import (
    DeploymentCancelled,
    DeploymentStarted,
    DeployResult,
    DeploysLocked,
    DeploysUnlocked,
    GateApproved,
    GateRejected,
    GateToReject,
    NotifyPreference,
    RollbackStarted,
)
from bot.render.blocks import Message, notice
from bot.render.deploy_blocks import CANCELLED
from bot.render.deploy_dms import setting_message


def reject_label(gate: GateToReject) -> str:
    """What the reason dialog of Reject is about: "churn v1 · prod"."""
    return f"{gate.slug} {gate.version} · {gate.stage}"


def reply(done: DeployResult | Message) -> Message:
    """The answer to ``done``; a message already made (a status, a history) as it is."""
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
    return done
