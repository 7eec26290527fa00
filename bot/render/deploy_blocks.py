"""Rendering of deployments: the message updated in place, thread notes, status and history.

Part of the one renderer (helpers from ``bot.render.blocks``); pure functions of domain state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.domain.approvers import Approvers
from bot.domain.deployment_model import (
    PEOPLE_ASKED,
    DecisionTokens,
    Deployment,
    DeploymentState,
    Event,
    StageRun,
    StageState,
    StepKind,
)
from bot.domain.endings import changed_production
from bot.domain.holds import is_held
from bot.domain.production import named
from bot.render.audit_words import event_words, said_of
from bot.render.blocks import (
    Message,
    bulleted,
    clip,
    context,
    header,
    message,
    notice,
    section,
    when,
)
from bot.render.change_links import change_link
from bot.render.dashboard_links import dashboard_link
from bot.render.deploy_stop_words import kept_stop, stop_reason
from bot.render.deploy_words import progress_bar
from bot.render.durations import humanize
from bot.render.freeze_blocks import kept_passage
from bot.render.mrkdwn import escape, link
from bot.render.production_words import approvers_words, placement_words
from bot.slack import ids

# One emoji per meaning, everywhere: 🚫 is a refusal only (bot.render.refusals); a
# cancellation, a rejection, an expiry and a timeout each look like themselves.
CANCELLED, REJECTED, EXPIRED, TIMED_OUT, HELD = "⏹️", "⛔", "⌛", "⏱️", "❄️"
STAGE_ICONS = {
    StageState.WAITING: "⏳", StageState.AWAITING_APPROVAL: "✋", StageState.RUNNING: "🔄",
    StageState.PASSED: "✅", StageState.FAILED: "❌", StageState.SKIPPED: "⏭️",
    StageState.CANCELLED: CANCELLED, StageState.TIMED_OUT: TIMED_OUT,
    StageState.REJECTED: REJECTED, StageState.EXPIRED: EXPIRED,
}
STATE_LABELS = {
    DeploymentState.RUNNING: "🔄 Running", DeploymentState.AWAITING_APPROVAL: "✋ Waiting for approval",
    DeploymentState.SUCCEEDED: "✅ Succeeded", DeploymentState.FAILED: "❌ Failed",
    DeploymentState.CANCELLED: f"{CANCELLED} Cancelled", DeploymentState.EXPIRED: f"{EXPIRED} Expired",
    DeploymentState.REJECTED: f"{REJECTED} Rejected",
}
DRY_RUN_NOTE = "🧪 *dry run* — nothing is deployed"


def title(d: Deployment) -> str:
    what = "Rollback" if d.kind == "rollback" else "Deployment"
    dry = " (dry run)" if d.dry_run else ""
    return f"{what} {d.id}: {d.use_case} {d.version}{dry}"


def _duration(stage: StageRun, now: datetime) -> str:
    if stage.started_at is None:
        return ""
    end = stage.finished_at or now
    return humanize(end - stage.started_at)


def stage_line(stage: StageRun, now: datetime, *, approvers: Approvers | None = None,
               said: str = "") -> str:
    """One stage of the checklist; ``approvers``: who may pass its gate while it waits;
    ``said``: a detail the message says elsewhere (the deployment's own), not repeated here."""
    if is_held(stage, now):  # a freeze window: not running, and no run time counted
        step = stage.step
        assert step is not None
        line = f"{HELD} *{stage.name}* · held by a freeze until {step.due_at:%Y-%m-%d %H:%M} UTC"
    else:
        line = f"{STAGE_ICONS[stage.state]} *{stage.name}* · {stage.state.value.replace('_', ' ')}"
        if took := _duration(stage, now):
            line += f" · {took}"
    if stage.state is StageState.AWAITING_APPROVAL and stage.spec.approval:
        missing = stage.approvals_missing
        line += f" · {missing} more approval{'s' if missing != 1 else ''} needed"
        if approvers is not None:
            who = approvers_words(approvers)
            line += f" from {who}" if who else " · nobody else may approve it"
    if stage.waves:
        line += "\n      " + _wave_line(stage)
    if stage.detail and stage.state.is_done and stage.state is not StageState.PASSED \
            and stage.detail != said:
        line += f"\n      _{clip(kept_stop(stage.detail), 300)}_"
    if details := link(stage.url, "details"):
        line += f"\n      {details}"
    return line


def _wave_line(stage: StageRun) -> str:
    bar = progress_bar(stage.targets_done(), stage.targets_total())
    step = stage.step
    if step is None or step.wave is None:
        return bar
    doing = "health check" if step.kind is StepKind.HEALTH else "rolling out"
    return f"{bar} · wave {step.wave + 1}/{len(stage.waves)} {doing}"


def _votes(d: Deployment, tz: str) -> list[str]:
    lines = []
    for stage in d.stages:
        for vote in stage.votes:
            verb = "approved" if vote.approve else "rejected"
            why = f": {escape(vote.comment)}" if vote.comment and not vote.approve else ""
            lines.append(f"<@{vote.user_id}> {verb} *{stage.name}* at {when(vote.at, tz)}{why}")
    return lines


def deployment_message(d: Deployment, *, now: datetime, tz: str, buttons: DecisionTokens,
                       approvers: Approvers | None = None, page: str = "") -> Message:
    """``approvers``: who may pass the gate it waits at (None: it waits at none); ``page``: where
    the dashboard shows it ("" links nothing)."""
    blocks: list[Block] = [header(title(d))]
    via = f" through the API (token `{escape(d.api_token)}`)" if d.api_token else ""
    facts = [f"requested by <@{d.requested_by}>{via}", f"pipeline `{d.pipeline}`",
             f"started {when(d.requested_at, tz)}"]
    if shipped := change_link(d.change):
        facts.append(shipped)
    if d.rollback_of:
        facts.append(f"rolls back deployment {d.rollback_of}")
    blocks.append(context(" · ".join(facts), dashboard_link(page), DRY_RUN_NOTE if d.dry_run else ""))
    if d.override:
        blocks.append(context(f"⚠️ freezes overridden: {clip(kept_passage(d.override, tz), 500)}"))
    said = d.detail if not d.state.is_active else ""
    current = d.current_stage
    lines = [stage_line(s, now, approvers=approvers if s is current else None, said=said)
             for s in d.stages]
    blocks += bulleted(lines, max_blocks=30, more="stages")
    if votes := _votes(d, tz):
        blocks.append(context(*votes[:10]))
    if shown := production_now(d):
        blocks.append(section(shown))
    status = STATE_LABELS[d.state]
    if current is not None and is_held(current, now):
        status = f"{HELD} Held by a freeze"
    if not d.state.is_active and d.finished_at:
        status += f" after {humanize(d.finished_at - d.requested_at)}"
    if d.detail and not d.state.is_active:
        status += f" — {clip(kept_stop(d.detail), 500)}"
    blocks.append(section(f"*{status}*"))
    if actions := _actions(d, buttons):
        blocks.append(actions)
    fallback = f"{title(d)} — {d.state.value.replace('_', ' ')}"
    if d.dry_run:
        fallback += " — dry run, nothing is deployed"
    return message(fallback, blocks)


def _actions(d: Deployment, buttons: DecisionTokens) -> ActionsBlock | None:
    elements = []
    if buttons.approve:
        elements.append(ButtonElement(text=PlainTextObject(text="Approve"), action_id=ids.DEPLOY_APPROVE,
                                      value=buttons.approve, style="primary"))
    if buttons.reject:
        elements.append(ButtonElement(text=PlainTextObject(text="Reject"), action_id=ids.DEPLOY_REJECT,
                                      value=buttons.reject, style="danger"))
    if buttons.cancel:
        elements.append(ButtonElement(text=PlainTextObject(text="Cancel deployment"),
                                      action_id=ids.DEPLOY_CANCEL, value=buttons.cancel))
    return ActionsBlock(block_id=f"deployment-{d.id}", elements=elements) if elements else None


def production_now(d: Deployment) -> str:
    """What its targets run now, once its production stage has touched any (named when it
    ended without success: those are the ones to look at)."""
    if not changed_production(d) or not named(d.production):
        return ""
    trouble = d.state in (DeploymentState.FAILED, DeploymentState.CANCELLED)
    return f"🎯 *Targets now:* {placement_words(d.production, name_targets=trouble)}"


def thread_note(text: str) -> Message:
    return message(text, [section(text)])


def event_note(e: Event, tz: str) -> str:
    """The thread line of an event that deserves one (``bot.domain.deploy_cards.event_notes``)."""
    if e.kind == "gate_opened":
        return f"✋ *{e.stage}* waits for approval."
    if e.kind == "override":
        return f"⚠️ <@{e.actor}> passed a freeze on purpose: {kept_passage(e.detail, tz)}"
    wave = f" (wave {e.wave})" if e.wave else ""
    return f"{TIMED_OUT} *{e.stage}*{wave} timed out: {stop_reason(e.detail)}"


def output_note(stage: str, wave: int | None, lines: Sequence[str], detail: str,
                url: str | None = None) -> str:
    where = f"{stage} (wave {wave + 1})" if wave is not None else stage
    head = f"*{where}*: {escape(detail)}" if detail else f"*{where}*"
    if shown := link(url, "open the run"):  # a CI run, a webhook's page: one click from the thread
        head += f" · {shown}"
    if not lines:
        return head
    body = escape("\n".join(lines)[-2500:]).replace("```", "ˋˋˋ")
    return f"{head}\n```{body}```"


def status_message(d: Deployment, events: Sequence[Event], *, now: datetime, tz: str,
                   notes: Sequence[str] = (), page: str = "") -> Message:
    """The deployment without buttons, ``notes`` (its use case's lock, freeze) and the audit
    trail, which gets the room left: the notes come first so a long trail never hides them.
    ``page``: the deployment's page on the dashboard ("" when messages do not link)."""
    main = deployment_message(d, now=now, tz=tz, buttons=DecisionTokens(), page=page)
    lines = [
        f"• {when(e.at, tz)} · {e.kind.replace('_', ' ')}"
        + (f" · {e.stage}" if e.stage else "") + (f" wave {e.wave}" if e.wave else "")
        + (f" · <@{e.actor}>" if e.actor else " · system")
        + (f" — {detail}" if (detail := _event_detail(e, d, tz)) else "")
        for e in events
    ]
    blocks = [*main.blocks[:-1]] if main.blocks[-1]["type"] == "actions" else list(main.blocks)
    blocks += [context(note).to_dict() for note in notes]
    extra = [section("*Audit trail*"), *bulleted(lines, max_blocks=50 - len(blocks) - 1,
                                                 more="events")]
    return Message(clip("\n".join([main.text, *notes]), 4000), blocks + [b.to_dict() for b in extra])


def _event_detail(e: Event, d: Deployment, tz: str) -> str:
    if e.kind in PEOPLE_ASKED:  # at most 20 of the people asked
        return ", ".join(f"<@{who}>" for who in e.detail.split()[:20])
    said = said_of(e.kind, d.version, d.pipeline, dry_run=d.dry_run, rollback=d.kind == "rollback")
    return clip(event_words(e.kind, e.detail, tz, said=said), 200)


def running_message(active: Sequence[Deployment], frozen: Sequence[str]) -> Message:
    """`/deploy status`: what runs now, and the freeze windows open now (mrkdwn lines)."""
    if not active:
        return notice("\n".join(["No deployment is running. Start one with "
                                  "`/deploy <slug> <version>`.", *frozen]))
    lines = [f"• {title(d)} — {d.state.value.replace('_', ' ')}"
             + (f" · {shipped}" if (shipped := change_link(d.change)) else "") for d in active]
    freezes = [section("\n".join(frozen))] if frozen else []
    return message("\n".join(["Running deployments", *frozen]),
                   [header("Running deployments"), *bulleted(lines, max_blocks=45, more=""), *freezes])


def history_message(slug: str, history: Sequence[Deployment], *, tz: str) -> Message:
    if not history:
        return message(f"No deployments of {slug} yet.",
                       [section(f"No deployments of *{slug}* yet. Start one with "
                                f"`/deploy {slug} <version>`.")])
    lines = []
    for d in history:
        took = humanize(d.finished_at - d.requested_at) if d.finished_at else "still running"
        dry = " · dry run" if d.dry_run else ""
        shipped = f" · {change}" if (change := change_link(d.change)) else ""
        lines.append(f"• *{d.id}* `{d.version}`{shipped} · {STATE_LABELS[d.state]} · <@{d.requested_by}> · "
                     f"{when(d.requested_at, tz)} · {took}{dry}")
    fallback = f"Last deployments of {slug}: " + ", ".join(f"{d.version} {d.state.value}" for d in history)
    return message(fallback, [header(f"Deployments of {slug}"), *bulleted(lines, max_blocks=40,
                                                                           more="deployments")])


def reject_dialog(callback_id: str, token: str, label: str) -> dict[str, Any]:
    """The modal that asks why a deployment is rejected; the token rides in private_metadata."""
    reason = PlainTextInputElement(action_id=ids.REJECT_REASON, multiline=True, max_length=500)
    return View(
        type="modal", callback_id=callback_id, private_metadata=token,
        title=PlainTextObject(text="Reject deployment"), submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Back"),
        blocks=[section(f"Rejecting *{escape(clip(label, 200))}* ends the deployment."),
                InputBlock(block_id=ids.REJECT_REASON, label=PlainTextObject(text="Why?"),
                           element=reason)],
    ).to_dict()
