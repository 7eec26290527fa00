"""Direct messages about deployments: the one-line notes a requester gets about their own, and
the approval requests the people who may pass a gate get, with its buttons.

The outbox worker ends each with a link to the deployment's message (``link_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot.domain.deploy_cards import RequesterNews
from bot.domain.deployment_model import DecisionTokens, Deployment, DeploymentState, StageState
from bot.render.blocks import Message, context, message, notice, section, when
from bot.render.dashboard_links import dashboard_link
from bot.render.deploy_blocks import CANCELLED, EXPIRED, REJECTED
from bot.render.durations import humanize
from bot.render.mrkdwn import escape
from bot.render.production_words import approvers_words
from bot.slack import ids

ENDINGS = {
    DeploymentState.SUCCEEDED: ("✅", "succeeded"),
    DeploymentState.FAILED: ("❌", "failed"),
    DeploymentState.REJECTED: (REJECTED, "was rejected"),
    DeploymentState.EXPIRED: (EXPIRED, "expired waiting for approval"),
    DeploymentState.CANCELLED: (CANCELLED, "was cancelled"),
}


def _yours(d: Deployment) -> str:
    what = "rollback" if d.kind == "rollback" else "deployment"
    dry = " (dry run)" if d.dry_run else ""
    return f"Your {what} {d.id} of {escape(d.use_case)} `{escape(d.version)}`{dry}"


def requester_line(news: RequesterNews) -> str:
    """The requester's line: their deployment waits at a gate (and for whom), or it ended."""
    d = news.deployment
    at = f" at `{escape(news.stage)}`" if news.stage else ""
    if d.state is DeploymentState.AWAITING_APPROVAL:
        who = approvers_words(news.approvers) if news.approvers is not None else ""
        return f"✋ {_yours(d)} waits for approval{at}" + (f" from {who}" if who else "")
    icon, verb = ENDINGS[d.state]
    by = f" by <@{news.by}>" if news.by else ""
    return f"{icon} {_yours(d)} {verb}{at}{by}"


@dataclass(frozen=True)
class TextOnly(Message):
    """A message of text alone, no blocks: the worker ends it with a link (``link_of``)."""

    def as_args(self) -> dict[str, Any]:
        return {"text": self.text}


# ── the people who may pass a gate ──────────────────────────────────────────────────────────

def _gate_of(d: Deployment, index: int) -> str:
    kind = "rollback" if d.kind == "rollback" else "deployment"
    return (f"{kind} {d.id} of *{escape(d.use_case)}* `{escape(d.version)}` at "
            f"*{escape(d.stages[index].name)}*" + (" (dry run)" if d.dry_run else ""))


def approval_request(d: Deployment, index: int, tokens: DecisionTokens, *, now: datetime,
                     tz: str, reminder: bool = False, page: str = "") -> Message:
    """The direct message asking one person to decide a gate, with its buttons; a reminder
    when it has waited a ``remind`` interval. Re-rendered as votes come in. ``page``: the
    deployment's page on the dashboard, its story and trail a click away ("": no link)."""
    stage = d.stages[index]
    opened = stage.gate_opened_at or now
    if reminder:
        head = (f"⏰ Still waiting for your approval after {humanize(now - opened)}: "
                f"{_gate_of(d, index)}, requested by <@{d.requested_by}>.")
    else:
        head = f"✋ <@{d.requested_by}> asks for your approval: {_gate_of(d, index)}."
    missing = stage.approvals_missing
    facts = [f"{missing} more approval{'s' if missing != 1 else ''} needed"]
    facts += [f"<@{v.user_id}> approved" for v in stage.approvals]
    if expires := stage.gate_expires_at:
        facts.append(f"expires {when(expires, tz)}")
    if shown := dashboard_link(page):
        facts.append(shown)
    blocks: list[Block] = [section(head), context(" · ".join(facts))]
    buttons = [ButtonElement(text=PlainTextObject(text=label), action_id=action, value=token,
                             style=style)
               for label, action, token, style in (
                   ("Approve", ids.DEPLOY_APPROVE, tokens.approve, "primary"),
                   ("Reject", ids.DEPLOY_REJECT, tokens.reject, "danger")) if token]
    if buttons:
        blocks.append(ActionsBlock(block_id=f"gate-{d.id}-{index}", elements=buttons))
    return message(head, blocks)


def approval_decided(d: Deployment, index: int, *, tz: str) -> Message:
    """What became of a gate someone was asked to decide: their request, without its buttons."""
    stage = d.stages[index]
    gate = _gate_of(d, index)
    if stage.state is StageState.REJECTED:
        vote = next((v for v in stage.votes if not v.approve), None)
        by = f" by <@{vote.user_id}>" if vote else ""
        text = f"{REJECTED} Rejected{by}: {gate}. Nothing more is needed from you."
    elif stage.state is StageState.EXPIRED:
        text = f"{EXPIRED} The approval of {gate} expired unanswered."
    elif stage.state in (StageState.CANCELLED, StageState.SKIPPED):
        text = f"{CANCELLED} {gate[0].upper()}{gate[1:]} was cancelled before its gate was decided."
    else:
        who = ", ".join(f"<@{v.user_id}> at {when(v.at, tz)}" for v in stage.approvals)
        text = f"✅ Approved ({who}): {gate} went on. Nothing more is needed from you."
    return notice(text)


def setting_message(enabled: bool, *, changed: bool) -> Message:
    """The answer to `/deploy notify [on|off]`."""
    state, other = ("on", "off") if enabled else ("off", "on")
    now = "now " if changed else ""
    return notice(f"🔔 Direct messages about your own deployments are {now}*{state}*. "
                  f"Turn them {other} with `/deploy notify {other}`.")
