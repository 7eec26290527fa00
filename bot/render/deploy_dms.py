"""The one-line direct messages a requester gets about their own deployment.

The outbox worker ends each line with a link to the deployment's message (``link_of``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.deployment_model import Deployment, DeploymentState, Event
from bot.domain.mrkdwn import escape
from bot.render.blocks import Message, clip, notice

ENDINGS = {
    DeploymentState.SUCCEEDED: ("✅", "succeeded"),
    DeploymentState.FAILED: ("❌", "failed"),
    DeploymentState.REJECTED: ("⛔", "was rejected"),
    DeploymentState.EXPIRED: ("⌛", "expired waiting for approval"),
    DeploymentState.CANCELLED: ("🚫", "was cancelled"),
}


def _yours(d: Deployment) -> str:
    what = "rollback" if d.kind == "rollback" else "deployment"
    dry = " (dry run)" if d.dry_run else ""
    return f"Your {what} {d.id} of {escape(d.use_case)} `{escape(d.version)}`{dry}"


def _by(event: Event | None) -> str:
    return f" by <@{event.actor}>" if event is not None and event.actor else ""


def _at(event: Event | None) -> str:
    return f" at `{escape(event.stage)}`" if event is not None and event.stage else ""


def requester_line(d: Deployment, events: Sequence[Event]) -> str | None:
    """The line for this transition, or None when it is nothing the requester is told about:
    a step that goes on, or a cancellation they made themselves."""
    kinds = {e.kind: e for e in events}
    if d.state is DeploymentState.AWAITING_APPROVAL and "gate_opened" in kinds:
        return f"✋ {_yours(d)} waits for approval{_at(kinds['gate_opened'])}"
    if d.state.is_active or d.state not in ENDINGS:
        return None
    icon, verb = ENDINGS[d.state]
    line = f"{icon} {_yours(d)} {verb}"
    if d.state is DeploymentState.CANCELLED:
        cancelled = kinds.get("cancelled")
        if cancelled is None or cancelled.actor in (None, d.requested_by):
            return None
        return line + _by(cancelled)
    if d.state in (DeploymentState.REJECTED, DeploymentState.EXPIRED):
        ended = kinds.get(d.state.value)
        line += _at(ended) + (_by(ended) if d.state is DeploymentState.REJECTED else "")
    elif d.state is DeploymentState.FAILED and d.detail:
        line += f": {clip(d.detail, 300)}"  # details are mrkdwn, escaped when made
    return line


def setting_message(enabled: bool, *, changed: bool) -> Message:
    """The answer to `/deploy notify [on|off]`."""
    state, other = ("on", "off") if enabled else ("off", "on")
    now = "now " if changed else ""
    return notice(f"🔔 Direct messages about your own deployments are {now}*{state}*. "
                  f"Turn them {other} with `/deploy notify {other}`.")
