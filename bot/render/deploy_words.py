"""Deployment facts several renderers say alike: why one cannot start (a gate nobody else
could pass, a lock), what someone must look at (production left in a mix), a wave's progress."""

from __future__ import annotations

from datetime import datetime

from bot.domain.approvers import DeadEnd
from bot.domain.locks import DeployLock
from bot.domain.production import Production
from bot.render.blocks import when
from bot.render.deploy_stop_words import kept_stop
from bot.render.durations import humanize
from bot.render.mrkdwn import escape
from bot.render.production_words import approvers_words, either, placement_words


def dead_end(found: DeadEnd, slug: str, pipeline: str, admins_configured: bool) -> str:
    """No dead ends: the gate no one else could pass, and what would open it."""
    needs = f"{found.required} approval{'s' if found.required != 1 else ''}"
    named = approvers_words(found.approvers) or "nobody"
    if found.others:
        who = f"only {either([f'<@{o}>' for o in found.others])} could give one besides you"
    elif found.requester_may_approve:
        who = "you are the only one who could give it"
    else:
        who = "nobody could give it"
    self_note = (", and whoever asks for a deployment may not approve it"
                 if found.requester_may_approve else "")
    remedies = []
    if found.approvers.by_default:
        remedies.append("add another admin to `BIZDEVOPS_ADMINS`" if admins_configured else
                        "set `BIZDEVOPS_ADMINS` (Slack user IDs of admins)")
        remedies.append(f"name its `approvers` in the pipeline file (`{pipeline}`, stage "
                        f"`{found.stage}`)")
    else:
        remedies.append(f"add people to its `approvers` in the pipeline file (`{pipeline}`, stage "
                        f"`{found.stage}`)")
    if found.requester_may_approve:
        remedies.append(f"have someone else start it so that you can approve it (the team's data "
                        f"or devops engineers on `{slug}`, or an admin)")
    return (f"Not started: *{found.stage}* needs {needs} from {named}; {who}{self_note}. "
            f"To deploy `{slug}`, {either(remedies)}.")


def lock_words(lock: DeployLock, tz: str, now: datetime | None = None) -> str:
    """"locked by @erin since … (2 hours): why"; a lock a failed rollback left says so."""
    since = when(lock.locked_at, tz) + (f" ({humanize(now - lock.locked_at)})" if now else "")
    if lock.after_failed_rollback:
        why = f": {kept_stop(lock.reason)}" if lock.reason else ""  # why the rollback stopped
        return (f"locked by the bot since {since}, when rollback {lock.deployment_id} failed{why}; "
                "check what the targets run before unlocking it")
    return f"locked by <@{lock.locked_by}> since {since}" + (
        f": {escape(lock.reason)}" if lock.reason else "")


def lock_line(lock: DeployLock, now: datetime, tz: str) -> str:
    """The lock as a line of its own: "🔒 Locked by @erin since … (2 hours): why"."""
    words = lock_words(lock, tz, now)
    return f"🔒 {words[0].upper()}{words[1:]}"


def lock_reminder(lock: DeployLock, tz: str, now: datetime) -> str:
    return (f"🔒 Reminder: deployments of *{lock.use_case}* are {lock_words(lock, tz, now)}. "
            f"Unlock with `/deploy unlock {lock.use_case}` when it is safe.")


def attention_line(slug: str, production: Production | None, lock: DeployLock | None,
                   tz: str) -> str:
    """A use case someone must look at: what runs where, and the lock a failed rollback left."""
    bits = [f"*{escape(slug)}*"]
    if production is not None and production.needs_attention:
        bits.append(placement_words(production.placement))
    if lock is not None and lock.after_failed_rollback:
        bits.append(f"🔒 {lock_words(lock, tz)}")
    return " — ".join(bits)


def progress_bar(done: int, total: int, *, width: int = 10) -> str:
    """``▰▰▰▱▱ 60% · 72/120 targets``"""
    share = done / total if total else 0.0
    # Full only when everything is done: 119/120 must not look finished.
    filled = width if total and done >= total else min(width - 1, round(share * width))
    return f"{'▰' * filled}{'▱' * (width - filled)} {share:.0%} · {done}/{total} targets"
