"""A running deployment's cards (``bot.domain.deploy_cards``) in words: its message, the notes
in its thread, its end, and the direct messages about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain import deploy_cards as card
from bot.render.blocks import Message
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.deploy_blocks import HELD, deployment_message, event_note, output_note, thread_note
from bot.render.deploy_dms import TextOnly, approval_decided, approval_request, requester_line
from bot.render.deploy_endings import finished_announcement
from bot.render.deploy_stop_words import LOST
from bot.render.deploy_words import lock_reminder
from bot.render.durations import humanize
from bot.render.freeze_blocks import describe
from bot.render.production_words import approvers_words


def _reminder(c: card.GateReminder) -> str:
    who = approvers_words(c.approvers) if c.approvers is not None else ""
    return (f"⏰ *{c.stage}* has waited {humanize(c.waited)} for approval"
            + (f" from {who}." if who else "."))


def _frozen(c: card.FrozenStage) -> str:
    why = describe(c.chain, c.tz)
    if c.passes:
        return (f"{HELD} *{c.stage}* runs during {why}: a rollback restores a known-good version, "
                "so no freeze holds it.")
    return f"{HELD} *{c.stage}* waits for {why}; it starts when the window ends."


def _output(c: card.StepOutput) -> str:
    name = c.stage + (" health check" if c.health else "")
    return output_note(name, c.wave, c.lines, c.detail, c.url)


_NOTES: dict[type, Callable[[Any], str]] = {
    card.EventNote: lambda c: event_note(c.event, c.tz),
    card.GateReminder: _reminder,
    card.StepOutput: _output,
    card.StepLost: lambda c: f"❌ *{c.stage}* failed: {LOST}.",
    card.FrozenStage: _frozen,
    card.RollingBack: lambda c: (f"⏪ Rolling back {c.targets} targets to `{c.version}` "
                                 f"(rollback {c.rollback_id})."),
    card.TakenOver: lambda c: (f"🔁 The worker running *{c.stage}* stopped; another follows the "
                               f"run it started (`{c.run}`) to its end."),
    card.LockReminder: lambda c: lock_reminder(c.lock, c.tz, c.now),
}

def _in_thread(say: Callable[[Any], str]) -> Callable[[Any], Message]:
    return lambda c: thread_note(say(c))


def _page(links: DashboardLinks,
          c: card.DeploymentCard | card.DeploymentEnded | card.ApprovalRequest) -> str:
    return links.deployment(c.deployment.use_case, c.deployment.id)


def cards(links: DashboardLinks) -> dict[type, Callable[[Any], Message]]:
    """The deployment's cards, its message and its end linking to it under ``links``."""
    return {
        card.DeploymentCard: lambda c: deployment_message(
            c.deployment, now=c.now, tz=c.tz, buttons=c.buttons, approvers=c.approvers,
            page=_page(links, c)),
        card.DeploymentEnded: lambda c: finished_announcement(c.deployment, c.ending,
                                                              _page(links, c)),
        card.ApprovalRequest: lambda c: approval_request(c.deployment, c.index, c.tokens,
                                                         now=c.now, tz=c.tz, reminder=c.reminder,
                                                         page=_page(links, c)),
        **_ALWAYS,
    }


_ALWAYS: dict[type, Callable[[Any], Message]] = {
    card.ApprovalDecided: lambda c: approval_decided(c.deployment, c.index, tz=c.tz),
    card.RequesterNews: lambda c: TextOnly(requester_line(c)),
    **{kind: _in_thread(say) for kind, say in _NOTES.items()},
}
CARDS = cards(NO_LINKS)
